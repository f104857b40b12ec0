// A set of simulated cases stepped together, minute by minute, with the readings each case's feed
// delivered over the last `history` instants: what a dispatcher sees. Copying a branch forks it
// (same physics and sensor states), so a campaign reaches each event's start once and replays
// the event on a copy — and a copy left alone is the counterfactual "no event".
//
// Thread-safety: a branch is owned by one thread; it borrows the simulator (immutable, must
// outlive it).
#ifndef NEMESYST_REFRIGERATION_FLEET_BRANCH_H_
#define NEMESYST_REFRIGERATION_FLEET_BRANCH_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "nemesyst/refrigeration/simulator.h"
#include "nemesyst/status.h"
#include "refrigeration/case_generator.h"

namespace nemesyst::refrigeration {

class FleetBranch {
 public:
  // The cases `case_indices` of `simulator` at its first sample instant, nothing observed yet.
  static Result<FleetBranch> Create(const FleetSimulator& simulator,
                                    const std::vector<int>& case_indices, size_t history = 120);

  // Observes and advances every case undisturbed until the next instant to observe is at or
  // after `time_us` (an instant of the sampling grid: start_us + k·interval).
  void AdvanceTo(int64_t time_us);

  // One instant: observe every case (Observe), then advance each through the interval under
  // `control[i]` (kNormal where `control` is shorter).
  void Observe();
  void Advance(const std::vector<CaseControl>& control);

  size_t size() const { return generators_.size(); }
  int64_t now_us() const { return now_us_; }  // the next instant to observe
  const CaseGenerator& generator(size_t i) const { return generators_[i]; }
  const CaseInfo& info(size_t i) const { return generators_[i].info(); }
  // Readings delivered so far, oldest first (at most `history`).
  const std::deque<SimSample>& history(size_t i) const { return history_[i]; }
  // The reading of the last observed instant, or nothing (a feed gap).
  const std::optional<SimSample>& latest(size_t i) const { return latest_[i]; }
  int interval_s() const { return interval_s_; }

 private:
  FleetBranch() = default;
  std::vector<CaseGenerator> generators_;
  std::vector<std::deque<SimSample>> history_;
  std::vector<std::optional<SimSample>> latest_;
  size_t history_cap_ = 0;
  int64_t now_us_ = 0;
  int interval_s_ = 60;
};

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_FLEET_BRANCH_H_
