#include "refrigeration/fleet_branch.h"

#include <algorithm>
#include <string>

namespace nemesyst::refrigeration {

Result<FleetBranch> FleetBranch::Create(const FleetSimulator& simulator,
                                        const std::vector<int>& case_indices, size_t history) {
  FleetBranch b;
  const int total = static_cast<int>(simulator.cases().size());
  for (int index : case_indices) {
    if (index < 0 || index >= total) {
      return Status::OutOfRange("fleet branch: case index " + std::to_string(index) +
                                " not in [0, " + std::to_string(total) + ")");
    }
    b.generators_.emplace_back(simulator.options(), simulator.cases()[index],
                               simulator.samples_per_case());
  }
  b.history_.resize(case_indices.size());
  b.latest_.resize(case_indices.size());
  b.history_cap_ = std::max<size_t>(history, 1);
  b.now_us_ = simulator.options().start_us;
  b.interval_s_ = simulator.options().interval_s;
  return b;
}

void FleetBranch::Observe() {
  for (size_t i = 0; i < generators_.size(); ++i) {
    SimSample s;
    if (generators_[i].Observe(&s)) {
      history_[i].push_back(s);
      if (history_[i].size() > history_cap_) history_[i].pop_front();
      latest_[i] = s;
    } else {
      latest_[i].reset();
    }
  }
}

void FleetBranch::Advance(const std::vector<CaseControl>& control) {
  for (size_t i = 0; i < generators_.size(); ++i) {
    generators_[i].Advance(i < control.size() ? control[i] : CaseControl::kNormal);
  }
  now_us_ += static_cast<int64_t>(interval_s_) * 1000000;
}

void FleetBranch::AdvanceTo(int64_t time_us) {
  const std::vector<CaseControl> none;
  while (now_us_ < time_us) {
    Observe();
    Advance(none);
  }
}

}  // namespace nemesyst::refrigeration
