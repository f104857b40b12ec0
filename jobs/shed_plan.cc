#include "nemesyst/shed_plan.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace nemesyst {

Result<ShedPlan> PlanShed(const ShedRequest& request,
                          const std::vector<ShedCandidate>& candidates) {
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
  std::vector<ShedChoice> eligible;
  for (const ShedCandidate& c : candidates) {
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
  std::sort(eligible.begin(), eligible.end(), [](const ShedChoice& a, const ShedChoice& b) {
    const double ra = a.slack_s / a.power_kw, rb = b.slack_s / b.power_kw;
    if (ra != rb) return ra > rb;
    return a.device < b.device;
  });
  ShedPlan plan;
  plan.request = request;
  plan.requested_kw = request.shed_kw;
  plan.eligible = eligible.size();
  for (ShedChoice& choice : eligible) {
    plan.eligible_kw += choice.power_kw;
    if (plan.selected_kw >= request.shed_kw) continue;
    plan.selected_kw += choice.power_kw;
    plan.chosen.push_back(std::move(choice));
  }
  plan.met = plan.selected_kw >= request.shed_kw;
  return plan;
}

void LoadEstimate::Add(double power_kw, bool idle) {
  sum_ += power_kw;
  ++n_;
  lowest_ = std::min(lowest_, power_kw);
  if (idle) {
    idle_sum_ += power_kw;
    ++idle_n_;
  }
}

double LoadEstimate::SheddableKw() const {
  if (n_ == 0) return 0;
  const double idle = idle_n_ > 0 ? idle_sum_ / idle_n_ : lowest_;
  return std::max(0.0, sum_ / n_ - idle);
}

}  // namespace nemesyst
