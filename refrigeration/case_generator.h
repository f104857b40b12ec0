// One case's sample generator: the physics (CaseRunner) observed through its sensor model
// (noise, quantisation, feed gaps, a stuck or drifting sensor). The simulator's sample streams
// and the closed-loop dispatch replay (rotation_replay.h) both step cases through it, so the
// readings a dispatcher sees during an event come from the very same sensor process as the
// stored history.
//
// A generator is a value: copying one branches the case (same physics and sensor PRNG state), so
// a dispatch can be replayed from a state reached once, and compared with the same case left
// alone.
//
// Thread-safety: a generator is owned by one thread. It points at the SimulatorOptions and
// CaseInfo it was made from, which must outlive it (and its copies).
#ifndef NEMESYST_REFRIGERATION_CASE_GENERATOR_H_
#define NEMESYST_REFRIGERATION_CASE_GENERATOR_H_

#include <cstdint>

#include "common/random.h"
#include "nemesyst/refrigeration/simulator.h"
#include "refrigeration/case_model.h"

namespace nemesyst::refrigeration {

// The sensor feed of one case: noise, quantisation, gaps, a stuck or drifting sensor.
class SensorModel {
 public:
  // `samples`: the run's sample count (the fault starts at a uniformly drawn sample in it).
  SensorModel(const SimulatorOptions& options, const CaseInfo& info, int64_t samples);

  // Whether the next sample is delivered (false inside a feed gap). Draws every call.
  bool Delivered();
  // The sensed value of temperature `field` whose true value is `truth` at sample `sample`.
  float Temperature(int field, double truth, int64_t sample);
  // A power meter's reading (1 % noise, 0.01 kW resolution).
  float Power(double kw);

 private:
  const SimulatorOptions* options_;
  const CaseInfo* info_;
  SimRandom rng_;
  int64_t fault_start_ = 0;
  double drift_per_sample_ = 0;
  bool stuck_set_ = false;
  double stuck_value_ = 0;
  int gap_left_ = 0;
};

// Produces the samples of one case, one sample instant at a time: Observe() the instant, then
// Advance() through the interval that follows it (normally, or as a dispatch commands).
class CaseGenerator {
 public:
  CaseGenerator(const SimulatorOptions& options, const CaseInfo& info, int64_t samples);

  // Reads the sensors at the current sample instant (the power is the meter's mean over the
  // interval that just ended); fills `out` and returns true unless the sample is in a feed gap.
  // Call exactly once per instant, before Advance().
  bool Observe(SimSample* out);
  // Steps the physics through the interval after the observed instant under `control`.
  void Advance(CaseControl control);
  // Observe() then Advance(kNormal): the undisturbed feed.
  bool Next(SimSample* out) {
    const bool delivered = Observe(out);
    Advance(CaseControl::kNormal);
    return delivered;
  }

  const CaseRunner& runner() const { return runner_; }
  const CaseInfo& info() const { return *info_; }
  // The true mean electrical power over the last Advance() interval, kW, and the highest true air
  // temperature in it, °C.
  double last_interval_kw() const { return last_interval_kw_; }
  double last_interval_max_air_c() const { return last_interval_max_air_c_; }

 private:
  const SimulatorOptions* options_;
  const CaseInfo* info_;
  CaseRunner runner_;
  SensorModel sensors_;
  int64_t index_ = 0;  // sample instants observed so far
  double last_interval_kw_ = 0;
  double last_interval_max_air_c_ = 0;
};

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_CASE_GENERATOR_H_
