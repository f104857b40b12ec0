// The sensor model and sample generator of one case (case_generator.h).
#include "refrigeration/case_generator.h"

#include <cmath>
#include <limits>

namespace nemesyst::refrigeration {

SensorModel::SensorModel(const SimulatorOptions& options, const CaseInfo& info, int64_t samples)
    : options_(&options),
      info_(&info),
      rng_(StreamFor(options.seed, static_cast<uint64_t>(info.index), RandomPurpose::kSensors)) {
  fault_start_ = static_cast<int64_t>(rng_.Uniform() * static_cast<double>(samples));
  drift_per_sample_ =
      rng_.Uniform(0.5, 2.0) * (rng_.Bernoulli(0.5) ? 1.0 : -1.0) * options.interval_s / 86400.0;
}

bool SensorModel::Delivered() {
  if (gap_left_ > 0) {
    --gap_left_;
    rng_.Uniform();
    return false;
  }
  if (rng_.Bernoulli(options_->gap_rate)) {
    gap_left_ = 1 + static_cast<int>(rng_.Uniform() * 29.0);  // 2..30 samples in all
    return false;
  }
  return true;
}

float SensorModel::Temperature(int field, double truth, int64_t sample) {
  double value = truth + options_->noise_c * rng_.Normal();
  if (field == info_->fault_field && sample >= fault_start_) {
    if (info_->fault == SensorFault::kStuck) {
      if (!stuck_set_) {
        stuck_value_ = value;
        stuck_set_ = true;
      }
      value = stuck_value_;
    } else {
      value += drift_per_sample_ * static_cast<double>(sample - fault_start_);
    }
  }
  if (options_->quantum_c > 0)
    value = std::nearbyint(value / options_->quantum_c) * options_->quantum_c;
  return static_cast<float>(value);
}

float SensorModel::Power(double kw) {
  const double value = kw * (1.0 + 0.01 * rng_.Normal());
  return static_cast<float>(std::nearbyint(value * 100.0) / 100.0);
}

CaseGenerator::CaseGenerator(const SimulatorOptions& options, const CaseInfo& info, int64_t samples)
    : options_(&options), info_(&info), runner_(options, info), sensors_(options, info, samples) {}

bool CaseGenerator::Observe(SimSample* out) {
  const int64_t i = index_++;
  const int64_t t = runner_.time_us();
  runner_.BeginInterval(t);
  // Power is the mean over the interval that just ended (a meter's reading).
  const double power = i == 0
                           ? runner_.power_kw()
                           : runner_.energy_kj / (runner_.step_s() * runner_.steps_per_interval());
  const bool delivered = sensors_.Delivered();
  if (delivered) {
    out->case_index = info_->index;
    out->time_us = t;
    float* v = out->values.data();
    v[kAirOnC] = sensors_.Temperature(kAirOnC, runner_.air_on_c(), i);
    v[kAirOffC] = sensors_.Temperature(kAirOffC, runner_.air_off_c(), i);
    v[kProductC] = sensors_.Temperature(kProductC, runner_.product_c(), i);
    v[kAmbientC] = sensors_.Temperature(kAmbientC, runner_.ambient_c(), i);
    v[kCooling] = runner_.cooling() ? 1.0f : 0.0f;
    v[kDefrost] = runner_.defrost() ? 1.0f : 0.0f;
    v[kPowerKw] = sensors_.Power(power);
    v[kCaseType] = static_cast<float>(info_->params.type);
    v[kSafeOffS] = options_->labels ? static_cast<float>(std::nearbyint(runner_.SafeOff()))
                                    : std::numeric_limits<float>::quiet_NaN();
  }
  return delivered;
}

void CaseGenerator::Advance(CaseControl control) {
  runner_.energy_kj = 0;
  runner_.max_air_c = runner_.air_c();
  runner_.Step(runner_.steps_per_interval(), control);
  last_interval_kw_ = runner_.energy_kj / (runner_.step_s() * runner_.steps_per_interval());
  last_interval_max_air_c_ = runner_.max_air_c;
}

}  // namespace nemesyst::refrigeration
