// The refrigeration fleet simulator of the case study (docs/simulator.md): stores x display cases,
// each a two-node (air, product) thermal model with thermostat, defrost schedule, opening hours,
// night blinds, customer traffic and a daily store-ambient cycle, observed through noisy,
// quantised, occasionally missing or faulty sensors, and labelled with `safe_off_s`, the time the
// case can stay off (cooling off, no defrost) before its air temperature crosses the case's limit
// (cap 3600 s).
//
// Determinism: every output is a pure function of (options, case index). Each case draws from its
// own PRNG streams (parameters, physics, sensors), so cases can be generated in any order or in
// parallel and give the same rows. The PRNG and the distributions are our own (not <random>'s,
// whose distributions differ between standard libraries).
//
// Thread-safety: FleetSimulator is immutable after Create; all const methods may be called from
// many threads at once.
#ifndef NEMESYST_REFRIGERATION_SIMULATOR_H_
#define NEMESYST_REFRIGERATION_SIMULATOR_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/status.h"

namespace nemesyst::refrigeration {

enum class CaseType : uint8_t {
  kChilledMultideck = 0,  // open-front chilled, setpoint ~2 °C, limit 8 °C, night blinds
  kChilledGlassDoor = 1,  // chilled behind doors, setpoint ~2 °C, limit 8 °C
  kFrozenWell = 2,        // open-top frozen well, setpoint ~-21 °C, limit -15 °C, night covers
  kFrozenGlassDoor = 3,   // frozen behind doors, setpoint ~-21 °C, limit -15 °C
};
inline constexpr int kCaseTypeCount = 4;

// "chilled_multideck" | "chilled_glass_door" | "frozen_well" | "frozen_glass_door".
std::string_view CaseTypeName(CaseType type);
Result<CaseType> ParseCaseType(std::string_view name);

struct SimulatorOptions {
  uint64_t seed = 1;
  int stores = 4;
  int cases_per_store = 12;
  double days = 1.0;
  // First sample time, µs since the Unix epoch (UTC; the simulated stores keep UTC as local time).
  // Default 2026-01-05T00:00:00Z (a Monday).
  int64_t start_us = 1767571200LL * 1000000;
  // Sampling interval of the sensor feed, seconds (1..3600). The physics steps at <= 10 s inside
  // it.
  int interval_s = 60;
  // Relative weights of the four case types (indexed by CaseType). Case types are assigned per
  // case by the seeded PRNG in proportion to these; all-zero is invalid.
  std::array<double, kCaseTypeCount> type_mix = {0.4, 0.25, 0.2, 0.15};
  // Probability that a case has one faulty sensor (stuck or drifting), 0..1.
  double fault_rate = 0.03;
  // Probability per sample that a feed outage (gap of 2..30 samples) starts, 0..1.
  double gap_rate = 0.0005;
  // Sensor noise standard deviation (°C) and quantisation step (°C; 0 = none).
  double noise_c = 0.1;
  double quantum_c = 0.1;
  // Compute the safe_off_s label for every sample (costs ~3x the unlabelled throughput).
  bool labels = true;

  // Checks ranges; the message names the field.
  Status Validate() const;
  int64_t end_us() const;  // start_us + days (exclusive)
  int total_cases() const { return stores * cases_per_store; }
};

// The physical parameters drawn for one case (docs/simulator.md lists the nominal values and the
// +-20 % ranges). SI units: J/K, W/K, W, °C.
struct CaseParams {
  CaseType type = CaseType::kChilledMultideck;
  double air_capacity_j_per_k = 0;      // C_a: air + shelving + evaporator metal
  double product_capacity_j_per_k = 0;  // C_p: food on display
  double ua_ambient_w_per_k = 0;        // UA_amb at k_inf = 1
  double ua_air_product_w_per_k = 0;    // UA_ap
  double evap_capacity_w = 0;           // Q_evap while the valve is open
  double defrost_heater_w = 0;          // Q_def (0 for chilled off-cycle defrost)
  double cop = 0;                       // compressor coefficient of performance
  double fan_kw = 0;                    // evaporator fans (always on, also in a DR event)
  double cut_out_c = 0;                 // thermostat: valve closes when air-off <= cut_out_c
  double cut_in_c = 0;                  // valve opens when air-off >= cut_in_c
  double limit_c = 0;                   // food-safety air limit used by the label and dispatch
  double coil_delta_c = 0;        // air-off is this much colder than the air node when cooling
  double night_factor = 0;        // k_inf multiplier outside opening hours (blinds/covers)
  double traffic_gain = 0;        // k_inf = 1 + traffic_gain * traffic(t) when open
  double defrost_interval_s = 0;  // defrost every ... seconds
  double defrost_duration_s = 0;
  double defrost_phase_s = 0;  // offset of the schedule from midnight
};

// Which sensor, if any, misbehaves in a case.
enum class SensorFault : uint8_t { kNone = 0, kStuck = 1, kDrifting = 2 };

// Everything fixed about one case.
struct CaseInfo {
  int index = 0;  // 0 .. total_cases-1, = store * cases_per_store + case_in_store
  int store = 0;
  int case_in_store = 0;
  std::string device;  // "store-0003/case-07"
  CaseParams params;
  // Store conditions (shared by the cases of a store).
  double ambient_mean_c = 0, ambient_amplitude_c = 0;
  double open_hour = 0, close_hour = 0;  // opening hours, hours since midnight UTC
  SensorFault fault = SensorFault::kNone;
  int fault_field = -1;  // index into SimulatorFields() of the faulty sensor, -1 when none
};

// The true (noise-free) state of a case at one instant.
struct CaseState {
  int64_t time_us = 0;
  double air_c = 0;      // air node T_a (the temperature the limit applies to)
  double product_c = 0;  // product node T_p
  double ambient_c = 0;  // store ambient at this instant
  double air_off_c = 0;  // evaporator outlet (thermostat input)
  double air_on_c = 0;   // evaporator inlet
  bool cooling = false;  // valve/compressor demand
  bool defrost = false;
  double power_kw = 0;    // electrical power drawn now (fans + compressor share + heater)
  double safe_off_s = 0;  // label for this state
};

// Field order of every sample (the stream schema): indices are stable.
enum SimField : int {
  kAirOnC = 0,
  kAirOffC = 1,
  kProductC = 2,
  kAmbientC = 3,
  kCooling = 4,  // 0/1
  kDefrost = 5,  // 0/1
  kPowerKw = 6,
  kCaseType = 7,  // CaseType as a number (0..3)
  kSafeOffS = 8,  // label; NaN when labels are off
  kSimFieldCount = 9,
};
// Names of the fields above ("air_on_c", ...), in order.
const std::vector<std::string>& SimulatorFields();

// One sample of one case. Missing samples (feed gaps) are simply not produced.
struct SimSample {
  int case_index = 0;
  int64_t time_us = 0;
  std::array<float, kSimFieldCount> values{};
};

// What a case does when its cooling is switched off at `start_us` for `duration_s`.
struct SheddingOutcome {
  int case_index = 0;
  double max_air_c = 0;        // highest true air temperature during the interval
  bool crossed_limit = false;  // max_air_c >= limit_c
  double limit_c = 0;
  CaseType type = CaseType::kChilledMultideck;
  double baseline_kw = 0;  // mean electrical power in normal operation over the interval
  double shed_kw = 0;      // baseline_kw minus the mean power while off (fans keep running)
  double safe_off_s = 0;   // the label at start_us (what a perfect model would predict)
};

class FleetSimulator {
 public:
  static Result<std::unique_ptr<FleetSimulator>> Create(const SimulatorOptions& options);
  virtual ~FleetSimulator() = default;

  virtual const SimulatorOptions& options() const = 0;
  virtual const std::vector<CaseInfo>& cases() const = 0;
  // Number of sample instants per case over the run (before gaps).
  virtual int64_t samples_per_case() const = 0;

  // Generates the samples of one case in time order, calling `sink` for each (chunks of up to
  // `chunk` samples). Stops and returns the sink's status if it is not OK.
  using SampleSink = std::function<Status(const SimSample* samples, size_t count)>;
  virtual Status GenerateCase(int case_index, const SampleSink& sink,
                              size_t chunk = 1024) const = 0;
  // All cases, interleaved by time (sample instant t of every case, then t+1, ...), as a real
  // fleet feed arrives. Memory: one chunk per case.
  virtual Status GenerateFleet(const SampleSink& sink) const = 0;

  // The true state of a case at `time_us` (start_us <= time_us <= end_us + 1 day), rounded up
  // to the next physics step (<= 10 s), obtained by running the physics from the start (the same
  // trajectory the samples come from). Cost: O(time since start), ~1 ms per simulated day.
  virtual Result<CaseState> TrueState(int case_index, int64_t time_us) const = 0;
  // Demand-response replay: cases `case_indices` have their cooling switched off at `start_us` for
  // `duration_s` seconds (no defrost during the event), with the store's ambient and traffic
  // evolving as usual. Returns one outcome per case, same order.
  virtual Result<std::vector<SheddingOutcome>> ReplayShedding(const std::vector<int>& case_indices,
                                                              int64_t start_us,
                                                              double duration_s) const = 0;
};

// safe_off_s for a state with cooling off and no defrost, ambient and infiltration held at
// `ambient_c` and `k_inf`: the closed-form time for the air node to reach params.limit_c,
// capped at `cap_s`. 0 when the air is already at or above the limit.
double SafeOffSeconds(const CaseParams& params, double air_c, double product_c, double ambient_c,
                      double k_inf, double cap_s = 3600.0);

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_SIMULATOR_H_
