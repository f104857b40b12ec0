// Replaying a dispatch plan in the fleet simulator: the chosen cases have their cooling switched
// off at the event start for the request's duration; the simulator says how much power that
// really shed (against the same cases running normally) and whether any case's true air
// temperature crossed its limit (a violation: food-safety breach).
//
// The timeline of delivered power is reconstructed from replays of growing length: the replay of
// [0, kΔ] and of [0, (k−1)Δ] share their first (k−1)Δ exactly (same physics from the same state),
// so the power shed in the k-th slot is k·mean_k − (k−1)·mean_{k−1}.
//
// Thread-safety: pure function of its inputs (the simulator is immutable).
#ifndef NEMESYST_REFRIGERATION_DISPATCH_REPLAY_H_
#define NEMESYST_REFRIGERATION_DISPATCH_REPLAY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "nemesyst/refrigeration/dispatch_selection.h"
#include "nemesyst/refrigeration/report.h"
#include "nemesyst/refrigeration/simulator.h"
#include "nemesyst/status.h"

namespace nemesyst::refrigeration {

struct ReplayOptions {
  int timeline_slots = 10;  // points of the delivered-power timeline (≥ 1)
};

// Per chosen case, what happened in the replay.
struct ReplayedCase {
  std::string device;
  double predicted_safe_off_s = 0;
  double true_safe_off_s = 0;
  double shed_kw = 0;
  double max_air_c = 0;
  double limit_c = 0;
  bool violation = false;
};

struct DispatchReplay {
  DispatchReplaySummary summary;
  std::vector<ReplayedCase> cases;
};

// NotFound when a chosen device is not a case of the simulated fleet.
Result<DispatchReplay> ReplayDispatch(const FleetSimulator& simulator, const DispatchPlan& plan,
                                      int64_t start_us, const ReplayOptions& options = {});

// Index of `device` among simulator.cases(), or NotFound.
Result<int> CaseIndexOf(const FleetSimulator& simulator, const std::string& device);

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_DISPATCH_REPLAY_H_
