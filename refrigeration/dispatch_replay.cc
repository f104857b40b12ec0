#include "nemesyst/refrigeration/dispatch_replay.h"

#include <algorithm>

namespace nemesyst::refrigeration {

Result<int> CaseIndexOf(const FleetSimulator& simulator, const std::string& device) {
  for (const CaseInfo& c : simulator.cases()) {
    if (c.device == device) return c.index;
  }
  return Status::NotFound("dispatch replay: '" + device + "' is not a case of the simulated fleet");
}

Result<DispatchReplay> ReplayDispatch(const FleetSimulator& simulator, const DispatchPlan& plan,
                                      int64_t start_us, const ReplayOptions& options) {
  const double duration_s = plan.request.duration_s;
  std::vector<int> indices;
  for (const DispatchChoice& choice : plan.chosen) {
    NEMESYST_ASSIGN_OR_RETURN(int index, CaseIndexOf(simulator, choice.device));
    indices.push_back(index);
  }
  DispatchReplay replay;
  DispatchReplaySummary& s = replay.summary;
  s.requested_kw = plan.requested_kw;
  s.selected_kw = plan.selected_kw;
  s.cases_chosen = static_cast<int>(plan.chosen.size());
  s.duration_s = duration_s;
  s.margin_s = plan.request.margin_s;
  if (indices.empty()) {
    s.time_s = {0, duration_s};
    s.delivered_kw_at = {0, 0};
    return replay;
  }
  NEMESYST_ASSIGN_OR_RETURN(std::vector<SheddingOutcome> full,
                            simulator.ReplayShedding(indices, start_us, duration_s));
  for (size_t i = 0; i < full.size(); ++i) {
    const SheddingOutcome& o = full[i];
    replay.cases.push_back({plan.chosen[i].device, plan.chosen[i].predicted_safe_off_s,
                            o.safe_off_s, o.shed_kw, o.max_air_c, o.limit_c, o.crossed_limit});
    s.cases.push_back({plan.chosen[i].device, plan.chosen[i].predicted_safe_off_s, o.safe_off_s,
                       o.shed_kw, o.max_air_c, o.limit_c, o.crossed_limit});
    s.delivered_kw += o.shed_kw;
    s.violations += o.crossed_limit ? 1 : 0;
  }
  // Timeline: mean shed power of each slot from cumulative replays (see the header).
  const int slots = std::max(1, options.timeline_slots);
  const double slot_s = duration_s / slots;
  double previous_total = 0;  // Σ shed_kw over [0, (k−1)Δ] times (k−1)
  s.min_delivered_kw = s.delivered_kw;
  for (int k = 1; k <= slots; ++k) {
    double mean_k = 0;
    if (k == slots) {
      for (const SheddingOutcome& o : full) mean_k += o.shed_kw;
    } else {
      NEMESYST_ASSIGN_OR_RETURN(std::vector<SheddingOutcome> part,
                                simulator.ReplayShedding(indices, start_us, k * slot_s));
      for (const SheddingOutcome& o : part) mean_k += o.shed_kw;
    }
    const double slot_kw = k * mean_k - previous_total;
    previous_total = k * mean_k;
    s.time_s.push_back((k - 1) * slot_s);
    s.delivered_kw_at.push_back(slot_kw);
    s.min_delivered_kw = std::min(s.min_delivered_kw, slot_kw);
  }
  s.time_s.push_back(duration_s);  // the step chart holds the last slot until the end
  s.delivered_kw_at.push_back(s.delivered_kw_at.back());
  return replay;
}

}  // namespace nemesyst::refrigeration
