// The physics of one display case (docs/simulator.md): drawing its parameters, the store
// conditions over the day, and a CaseRunner that steps the two-node thermal model with its
// thermostat and defrost schedule.
//
// Thread-safety: CaseRunner is a value owned by one thread; everything else is pure.
#ifndef NEMESYST_REFRIGERATION_CASE_MODEL_H_
#define NEMESYST_REFRIGERATION_CASE_MODEL_H_

#include <cstdint>

#include "common/random.h"
#include "nemesyst/refrigeration/simulator.h"

namespace nemesyst::refrigeration {

// Purposes of the per-case PRNG streams (independent of each other, so e.g. the sensor noise
// drawn never changes the physics).
enum class RandomPurpose : uint64_t { kParams = 1, kPhysics = 2, kSensors = 3, kStore = 4 };

inline SimRandom StreamFor(uint64_t seed, uint64_t entity, RandomPurpose purpose) {
  return SimRandom(MixKeys(seed, entity, static_cast<uint64_t>(purpose)));
}

// Draws case `index` of the fleet (type, parameters, store conditions, sensor fault).
CaseInfo DrawCase(const SimulatorOptions& options, int index);

// Hours since midnight UTC of a timestamp.
double HourOfDay(int64_t time_us);
// Customer traffic shape in [0, ~1.1] during opening hours (lunch and evening peaks).
double TrafficShape(double hour);

// What a demand-response controller imposes on a case.
enum class CaseControl : uint8_t {
  kNormal,     // the thermostat and the defrost schedule
  kForcedOff,  // valve closed, no defrost: a demand-response event
  // The thermostat only, a scheduled defrost held off: the pull-down after an event (a case
  // controller that defrosted a case whose air is still warm from an event would breach its
  // limit; DR-aware controllers hold the defrost until the air is back in band). A defrost whose
  // window opened while the case was forced off or held is skipped until the next window.
  kDefrostInhibited,
};

// Steps one case. State at an instant: air and product temperatures, valve state. Conditions
// (ambient, infiltration) are recomputed at every sample boundary by BeginInterval and held for
// the interval; the physics sub-steps are `step_s` long.
class CaseRunner {
 public:
  CaseRunner(const SimulatorOptions& options, const CaseInfo& info);

  // Sets the conditions for the interval starting at `time_us` (draws the traffic fluctuation
  // from the physics stream: call exactly once per sample interval, in order).
  void BeginInterval(int64_t time_us);
  // Calls BeginInterval(time_us()) if at a boundary whose interval has not begun yet.
  void EnsureInterval() {
    if (at_interval_boundary() && begun_step_ != steps_done_) BeginInterval(time_us_);
  }
  // Advances `steps` physics sub-steps under `control` (CaseControl). Accumulates energy_kj and
  // tracks max_air_c.
  void Step(int steps, CaseControl control);
  void Step(int steps, bool forced_off) {
    Step(steps, forced_off ? CaseControl::kForcedOff : CaseControl::kNormal);
  }

  double air_c() const { return air_c_; }
  double product_c() const { return product_c_; }
  double ambient_c() const { return ambient_c_; }
  double k_inf() const { return k_inf_; }
  bool cooling() const { return cooling_; }
  bool defrost() const { return defrost_; }
  int64_t time_us() const { return time_us_; }
  // True when time_us() starts a sample interval (BeginInterval is due).
  bool at_interval_boundary() const { return steps_done_ % steps_per_interval_ == 0; }
  int steps_per_interval() const { return steps_per_interval_; }
  // Advances to `target_us` (rounded up to a physics step), beginning every interval on the way.
  void AdvanceTo(int64_t target_us, bool forced_off);
  double step_s() const { return step_s_; }
  double air_off_c() const { return air_c_ - (cooling_ ? info_->params.coil_delta_c : 0.0); }
  double air_on_c() const;
  double power_kw() const;  // instantaneous electrical power
  double SafeOff() const {
    return SafeOffSeconds(info_->params, air_c_, product_c_, ambient_c_, k_inf_);
  }

  // Accumulators, reset by the caller.
  double energy_kj = 0;
  double max_air_c = -1e9;

 private:
  bool DefrostScheduled(int64_t time_us) const;
  void UpdateControls(bool defrost_allowed = true);

  const CaseInfo* info_;
  int64_t start_us_, interval_us_;
  int steps_per_interval_;
  double step_s_;
  int64_t step_us_;
  int64_t steps_done_ = 0;
  int64_t begun_step_ = -1;  // steps_done_ at the last BeginInterval
  SimRandom physics_;
  int64_t time_us_;
  double air_c_, product_c_;
  double ambient_c_ = 20, k_inf_ = 1;
  bool cooling_ = true, defrost_ = false;
  bool was_forced_off_ = false;  // the last Step was forced off
  bool defrost_missed_ = false;  // the current defrost window opened under a dispatch: skip it
};

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_CASE_MODEL_H_
