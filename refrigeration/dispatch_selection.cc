#include "nemesyst/refrigeration/dispatch_selection.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace nemesyst::refrigeration {

Result<DispatchPlan> SelectCasesToShed(const DispatchRequest& request,
                                       const std::vector<DispatchCandidate>& candidates) {
  if (!(request.shed_kw > 0) || !std::isfinite(request.shed_kw)) {
    return Status::InvalidArgument("dispatch: the power to shed must be > 0 kW");
  }
  if (!(request.duration_s > 0) || !std::isfinite(request.duration_s)) {
    return Status::InvalidArgument("dispatch: the duration must be > 0 s");
  }
  if (!(request.margin_s >= 0) || !std::isfinite(request.margin_s)) {
    return Status::InvalidArgument("dispatch: the safety margin must be ≥ 0 s");
  }
  std::set<std::string> seen;
  std::vector<DispatchChoice> eligible;
  for (const DispatchCandidate& c : candidates) {
    if (!std::isfinite(c.predicted_safe_off_s) || !std::isfinite(c.power_kw)) {
      return Status::InvalidArgument("dispatch: case '" + c.device +
                                     "' has a non-finite prediction or power");
    }
    if (!seen.insert(c.device).second) {
      return Status::InvalidArgument("dispatch: case '" + c.device + "' is listed twice");
    }
    const double slack = c.predicted_safe_off_s - request.margin_s - request.duration_s;
    if (slack < 0 || c.power_kw <= 0) continue;
    eligible.push_back({c.device, c.predicted_safe_off_s, c.power_kw, slack});
  }
  std::sort(eligible.begin(), eligible.end(), [](const DispatchChoice& a, const DispatchChoice& b) {
    const double ra = a.slack_s / a.power_kw, rb = b.slack_s / b.power_kw;
    if (ra != rb) return ra > rb;
    return a.device < b.device;
  });
  DispatchPlan plan;
  plan.request = request;
  plan.requested_kw = request.shed_kw;
  plan.eligible = eligible.size();
  for (DispatchChoice& choice : eligible) {
    if (plan.selected_kw >= request.shed_kw) break;
    plan.selected_kw += choice.power_kw;
    plan.chosen.push_back(std::move(choice));
  }
  plan.met = plan.selected_kw >= request.shed_kw;
  return plan;
}

}  // namespace nemesyst::refrigeration
