#include "refrigeration/case_model.h"

#include <cmath>
#include <cstdio>

namespace nemesyst::refrigeration {
namespace {

constexpr double kSpread = 0.20;  // every physical parameter is nominal * (1 +- 20 %)

// Nominal parameters per case type (docs/simulator.md has the table and the reasoning).
struct Nominal {
  double air_capacity, product_capacity, ua_ambient, ua_air_product;
  double defrost_heater_w, cop, fan_kw;
  double cut_out_c, cut_in_c, limit_c, coil_delta_c;
  double night_factor, traffic_gain;
  double defrosts_per_day, defrost_duration_s;
};

constexpr Nominal kNominal[kCaseTypeCount] = {
    // chilled multi-deck: open front, large infiltration, night blinds, off-cycle defrost
    {150e3, 800e3, 180, 250, 0, 3.0, 0.15, -1.0, 3.0, 8.0, 2.0, 0.45, 0.30, 4, 1800},
    // chilled glass-door: small infiltration, door openings with traffic
    {100e3, 700e3, 60, 150, 0, 3.0, 0.10, -1.0, 3.0, 8.0, 2.0, 0.90, 0.60, 4, 1800},
    // frozen well: open top, night covers, electric defrost
    {120e3, 1200e3, 40, 120, 1500, 1.8, 0.10, -25.0, -20.0, -15.0, 2.5, 0.60, 0.30, 3, 1500},
    // frozen glass-door: doors, electric defrost
    {90e3, 1000e3, 25, 90, 1200, 1.8, 0.12, -25.0, -20.0, -15.0, 2.5, 0.90, 0.80, 3, 1200},
};

CaseType PickType(const SimulatorOptions& options, SimRandom& rng) {
  double total = 0;
  for (double w : options.type_mix) total += w;
  double x = rng.Uniform() * total;
  for (int t = 0; t < kCaseTypeCount; ++t) {
    x -= options.type_mix[t];
    if (x < 0 && options.type_mix[t] > 0) return static_cast<CaseType>(t);
  }
  for (int t = kCaseTypeCount - 1; t >= 0; --t) {
    if (options.type_mix[t] > 0) return static_cast<CaseType>(t);
  }
  return CaseType::kChilledMultideck;
}

}  // namespace

CaseInfo DrawCase(const SimulatorOptions& options, int index) {
  CaseInfo info;
  info.index = index;
  info.store = index / options.cases_per_store;
  info.case_in_store = index % options.cases_per_store;
  char device[48];
  std::snprintf(device, sizeof device, "store-%04d/case-%02d", info.store, info.case_in_store);
  info.device = device;

  // Store conditions: the same for every case of a store.
  SimRandom store_rng =
      StreamFor(options.seed, static_cast<uint64_t>(info.store), RandomPurpose::kStore);
  info.ambient_mean_c = store_rng.Uniform(19.5, 21.5);
  info.ambient_amplitude_c = store_rng.Uniform(0.8, 1.5);
  info.open_hour = store_rng.Uniform(6.0, 8.0);
  info.close_hour = store_rng.Uniform(21.0, 23.0);

  SimRandom rng = StreamFor(options.seed, static_cast<uint64_t>(index), RandomPurpose::kParams);
  CaseParams& p = info.params;
  p.type = PickType(options, rng);
  const Nominal& n = kNominal[static_cast<int>(p.type)];
  p.air_capacity_j_per_k = rng.Around(n.air_capacity, kSpread);
  p.product_capacity_j_per_k = rng.Around(n.product_capacity, kSpread);
  p.ua_ambient_w_per_k = rng.Around(n.ua_ambient, kSpread);
  p.ua_air_product_w_per_k = rng.Around(n.ua_air_product, kSpread);
  p.defrost_heater_w = rng.Around(n.defrost_heater_w, kSpread);
  p.cop = rng.Around(n.cop, kSpread);
  p.fan_kw = rng.Around(n.fan_kw, kSpread);
  // Thermostat and limit are settings, not physics: small offsets only.
  p.cut_out_c = n.cut_out_c + rng.Uniform(-0.5, 0.5);
  p.cut_in_c = n.cut_in_c + rng.Uniform(-0.5, 0.5);
  p.limit_c = n.limit_c;
  p.coil_delta_c = rng.Around(n.coil_delta_c, kSpread);
  p.night_factor = rng.Around(n.night_factor, kSpread);
  p.traffic_gain = rng.Around(n.traffic_gain, kSpread);
  // Evaporator sized so the peak-hour duty is 60-80 %: installers size to the worst load.
  const double mid_band = 0.5 * (p.cut_out_c + p.coil_delta_c + p.cut_in_c);
  const double peak_load_w = p.ua_ambient_w_per_k * (1.0 + 1.1 * p.traffic_gain) *
                             (info.ambient_mean_c + info.ambient_amplitude_c - mid_band);
  p.evap_capacity_w = peak_load_w / rng.Uniform(0.6, 0.8);
  p.defrost_interval_s = 86400.0 / n.defrosts_per_day * rng.Uniform(0.9, 1.1);
  if (p.type == CaseType::kFrozenWell || p.type == CaseType::kFrozenGlassDoor) {
    // Frozen cases defrost 2-4 times a day.
    p.defrost_interval_s = 86400.0 / rng.UniformInt(2, 4);
  }
  p.defrost_duration_s = rng.Around(n.defrost_duration_s, 0.33);
  p.defrost_phase_s = rng.Uniform(0, p.defrost_interval_s);

  if (rng.Bernoulli(options.fault_rate)) {
    info.fault = rng.Bernoulli(0.5) ? SensorFault::kStuck : SensorFault::kDrifting;
    info.fault_field = rng.UniformInt(kAirOnC, kAmbientC);
  } else {
    rng.Uniform();  // keep the draw count independent of the outcome
    rng.Uniform();
  }
  return info;
}

double HourOfDay(int64_t time_us) {
  int64_t s = (time_us / 1000000) % 86400;
  if (s < 0) s += 86400;
  return static_cast<double>(s) / 3600.0;
}

double TrafficShape(double hour) {
  const double lunch = (hour - 12.5) / 1.5, evening = (hour - 17.5) / 1.5;
  return 0.35 + 0.55 * std::exp(-lunch * lunch) + 0.45 * std::exp(-evening * evening);
}

CaseRunner::CaseRunner(const SimulatorOptions& options, const CaseInfo& info)
    : info_(&info),
      start_us_(options.start_us),
      interval_us_(static_cast<int64_t>(options.interval_s) * 1000000),
      physics_(StreamFor(options.seed, static_cast<uint64_t>(info.index), RandomPurpose::kPhysics)),
      time_us_(options.start_us) {
  steps_per_interval_ = (options.interval_s + 9) / 10;  // physics steps <= 10 s
  step_us_ = interval_us_ / steps_per_interval_;        // (time_us_ is exact at boundaries)
  step_s_ = static_cast<double>(interval_us_) / 1e6 / steps_per_interval_;
  const CaseParams& p = info.params;
  air_c_ = p.cut_in_c;
  product_c_ = 0.5 * (p.cut_out_c + p.coil_delta_c + p.cut_in_c);
  cooling_ = true;
  UpdateControls();
}

bool CaseRunner::DefrostScheduled(int64_t time_us) const {
  const CaseParams& p = info_->params;
  double t =
      std::fmod(static_cast<double>(time_us) / 1e6 - p.defrost_phase_s, p.defrost_interval_s);
  if (t < 0) t += p.defrost_interval_s;
  return t < p.defrost_duration_s;
}

void CaseRunner::BeginInterval(int64_t time_us) {
  begun_step_ = steps_done_;
  const double hour = HourOfDay(time_us);
  const CaseParams& p = info_->params;
  ambient_c_ = info_->ambient_mean_c +
               info_->ambient_amplitude_c * std::sin(2.0 * M_PI * (hour - 9.0) / 24.0);
  const bool open = hour >= info_->open_hour && hour < info_->close_hour;
  const double fluctuation = physics_.Uniform(0.8, 1.2);
  k_inf_ = open ? 1.0 + p.traffic_gain * TrafficShape(hour) * fluctuation : p.night_factor;
}

void CaseRunner::Step(int steps, CaseControl control) {
  const bool forced_off = control == CaseControl::kForcedOff;
  const bool defrost_allowed = control == CaseControl::kNormal;
  const CaseParams& p = info_->params;
  const double inv_ca = step_s_ / p.air_capacity_j_per_k;
  const double inv_cp = step_s_ / p.product_capacity_j_per_k;
  const double ua_amb = p.ua_ambient_w_per_k * k_inf_;
  const double ua_ap = p.ua_air_product_w_per_k;
  // Released from a forced off: the controller acts at once (the relay closes on the command),
  // not a sub-step later.
  if (!forced_off && was_forced_off_ && steps > 0) UpdateControls(defrost_allowed);
  was_forced_off_ = forced_off;
  for (int i = 0; i < steps; ++i) {
    if (forced_off) {
      cooling_ = false;
      defrost_ = false;
      if (DefrostScheduled(time_us_)) defrost_missed_ = true;
    }
    const double q_air = ua_amb * (ambient_c_ - air_c_) + ua_ap * (product_c_ - air_c_) -
                         (cooling_ ? p.evap_capacity_w : 0.0) +
                         (defrost_ ? p.defrost_heater_w : 0.0);
    const double q_product = ua_ap * (air_c_ - product_c_);
    energy_kj += power_kw() * step_s_;
    air_c_ += q_air * inv_ca;
    product_c_ += q_product * inv_cp;
    if (air_c_ > max_air_c) max_air_c = air_c_;
    ++steps_done_;
    time_us_ = start_us_ + (steps_done_ / steps_per_interval_) * interval_us_ +
               (steps_done_ % steps_per_interval_) * step_us_;
    if (!forced_off) UpdateControls(defrost_allowed);
  }
}

// The controller acts on the state at the current instant: the defrost schedule first, then the
// thermostat's hysteresis on air-off.
void CaseRunner::UpdateControls(bool defrost_allowed) {
  const CaseParams& p = info_->params;
  // A defrost whose window opened while a dispatch held the case is skipped, not started late
  // with the air still warm from the event (docs/dispatch.md): the next one runs as scheduled.
  const bool scheduled = DefrostScheduled(time_us_);
  if (!scheduled) {
    defrost_missed_ = false;
  } else if (!defrost_allowed) {
    defrost_missed_ = true;
  }
  defrost_ = scheduled && !defrost_missed_;
  if (defrost_) {
    cooling_ = false;
  } else if (cooling_) {
    if (air_c_ - p.coil_delta_c <= p.cut_out_c) cooling_ = false;
  } else if (air_c_ >= p.cut_in_c) {
    cooling_ = true;
  }
}

void CaseRunner::AdvanceTo(int64_t target_us, bool forced_off) {
  while (time_us_ < target_us) {
    EnsureInterval();
    Step(1, forced_off);
  }
  EnsureInterval();
}

double CaseRunner::power_kw() const {
  const CaseParams& p = info_->params;
  return p.fan_kw + (cooling_ ? p.evap_capacity_w / p.cop * 1e-3 : 0.0) +
         (defrost_ ? p.defrost_heater_w * 1e-3 : 0.0);
}

double CaseRunner::air_on_c() const {
  // Return air is warmed by infiltration on its way round the case.
  return air_c_ + info_->params.coil_delta_c * (0.3 + 0.4 * (cooling_ ? 1.0 : 0.0)) * k_inf_;
}

}  // namespace nemesyst::refrigeration
