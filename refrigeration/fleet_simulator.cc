// FleetSimulator: per-case generators (physics + sensor model) and the demand-response replay.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "common/random.h"
#include "nemesyst/refrigeration/simulator.h"
#include "refrigeration/case_generator.h"
#include "refrigeration/case_model.h"

namespace nemesyst::refrigeration {

namespace {

constexpr std::string_view kCaseTypeNames[kCaseTypeCount] = {
    "chilled_multideck", "chilled_glass_door", "frozen_well", "frozen_glass_door"};

class FleetSimulatorImpl final : public FleetSimulator {
 public:
  explicit FleetSimulatorImpl(const SimulatorOptions& options) : options_(options) {
    const int n = options.total_cases();
    cases_.reserve(n);
    for (int i = 0; i < n; ++i) cases_.push_back(DrawCase(options_, i));
    samples_ = (options.end_us() - options.start_us + options.interval_s * 1000000LL - 1) /
               (options.interval_s * 1000000LL);
  }

  const SimulatorOptions& options() const override { return options_; }
  const std::vector<CaseInfo>& cases() const override { return cases_; }
  int64_t samples_per_case() const override { return samples_; }

  Status GenerateCase(int case_index, const SampleSink& sink, size_t chunk) const override {
    NEMESYST_RETURN_IF_ERROR(CheckCase(case_index));
    chunk = std::max<size_t>(chunk, 1);
    std::vector<SimSample> buffer(chunk);
    CaseGenerator generator(options_, cases_[case_index], samples_);
    size_t used = 0;
    for (int64_t i = 0; i < samples_; ++i) {
      if (generator.Next(&buffer[used]) && ++used == chunk) {
        NEMESYST_RETURN_IF_ERROR(sink(buffer.data(), used));
        used = 0;
      }
    }
    if (used > 0) NEMESYST_RETURN_IF_ERROR(sink(buffer.data(), used));
    return Status::OK();
  }

  Status GenerateFleet(const SampleSink& sink) const override {
    std::vector<CaseGenerator> generators;
    generators.reserve(cases_.size());
    for (const CaseInfo& info : cases_) generators.emplace_back(options_, info, samples_);
    std::vector<SimSample> buffer(cases_.size());
    for (int64_t i = 0; i < samples_; ++i) {
      size_t used = 0;
      for (CaseGenerator& generator : generators) {
        if (generator.Next(&buffer[used])) ++used;
      }
      if (used > 0) NEMESYST_RETURN_IF_ERROR(sink(buffer.data(), used));
    }
    return Status::OK();
  }

  Result<CaseState> TrueState(int case_index, int64_t time_us) const override {
    NEMESYST_RETURN_IF_ERROR(CheckCase(case_index));
    NEMESYST_ASSIGN_OR_RETURN(CaseRunner runner, RunnerAt(case_index, time_us));
    CaseState state;
    state.time_us = runner.time_us();
    state.air_c = runner.air_c();
    state.product_c = runner.product_c();
    state.ambient_c = runner.ambient_c();
    state.air_off_c = runner.air_off_c();
    state.air_on_c = runner.air_on_c();
    state.cooling = runner.cooling();
    state.defrost = runner.defrost();
    state.power_kw = runner.power_kw();
    state.safe_off_s = runner.SafeOff();
    return state;
  }

  Result<std::vector<SheddingOutcome>> ReplayShedding(const std::vector<int>& case_indices,
                                                      int64_t start_us,
                                                      double duration_s) const override {
    if (!(duration_s > 0) || duration_s > 86400) {
      return Status::InvalidArgument("replay duration_s must be in (0, 86400]");
    }
    std::vector<SheddingOutcome> outcomes;
    outcomes.reserve(case_indices.size());
    for (int index : case_indices) {
      NEMESYST_RETURN_IF_ERROR(CheckCase(index));
      NEMESYST_ASSIGN_OR_RETURN(CaseRunner normal, RunnerAt(index, start_us));
      const CaseParams& params = cases_[index].params;
      SheddingOutcome outcome;
      outcome.case_index = index;
      outcome.limit_c = params.limit_c;
      outcome.type = params.type;
      outcome.safe_off_s = normal.SafeOff();
      CaseRunner off = normal;
      const int64_t t0 = normal.time_us();
      const int64_t end_us = t0 + static_cast<int64_t>(duration_s * 1e6);
      normal.energy_kj = 0;
      normal.AdvanceTo(end_us, /*forced_off=*/false);
      off.energy_kj = 0;
      off.max_air_c = off.air_c();
      off.AdvanceTo(end_us, /*forced_off=*/true);
      const double elapsed_s = static_cast<double>(normal.time_us() - t0) / 1e6;
      const double span_s = std::max(elapsed_s, normal.step_s());
      outcome.baseline_kw = normal.energy_kj / span_s;
      outcome.shed_kw = outcome.baseline_kw - off.energy_kj / span_s;
      outcome.max_air_c = off.max_air_c;
      outcome.crossed_limit = off.max_air_c >= params.limit_c;
      outcomes.push_back(outcome);
    }
    return outcomes;
  }

 private:
  Status CheckCase(int case_index) const {
    if (case_index < 0 || case_index >= static_cast<int>(cases_.size())) {
      return Status::OutOfRange("case index " + std::to_string(case_index) + " not in [0, " +
                                std::to_string(cases_.size()) + ")");
    }
    return Status::OK();
  }

  // A runner advanced from the start to `time_us` (rounded up to the next physics step).
  Result<CaseRunner> RunnerAt(int case_index, int64_t time_us) const {
    if (time_us < options_.start_us || time_us > options_.end_us() + 86400LL * 1000000) {
      return Status::OutOfRange("time " + std::to_string(time_us) +
                                " us is outside the simulated run (+1 day)");
    }
    CaseRunner runner(options_, cases_[case_index]);
    runner.AdvanceTo(time_us, /*forced_off=*/false);
    return runner;
  }

  SimulatorOptions options_;
  std::vector<CaseInfo> cases_;
  int64_t samples_ = 0;
};

}  // namespace

std::string_view CaseTypeName(CaseType type) {
  const int i = static_cast<int>(type);
  return i >= 0 && i < kCaseTypeCount ? kCaseTypeNames[i] : std::string_view("unknown");
}

Result<CaseType> ParseCaseType(std::string_view name) {
  for (int i = 0; i < kCaseTypeCount; ++i) {
    if (name == kCaseTypeNames[i]) return static_cast<CaseType>(i);
  }
  return Status::InvalidArgument("unknown case type '" + std::string(name) +
                                 "' (chilled_multideck, chilled_glass_door, frozen_well, "
                                 "frozen_glass_door)");
}

const std::vector<std::string>& SimulatorFields() {
  static const std::vector<std::string> kFields = {"air_on_c",  "air_off_c", "product_c",
                                                   "ambient_c", "cooling",   "defrost",
                                                   "power_kw",  "case_type", "safe_off_s"};
  return kFields;
}

int64_t SimulatorOptions::end_us() const {
  return start_us + static_cast<int64_t>(days * 86400.0 * 1e6);
}

Status SimulatorOptions::Validate() const {
  auto bad = [](const std::string& field, const std::string& why) {
    return Status::InvalidArgument("simulator option '" + field + "' " + why);
  };
  if (stores < 1 || stores > 100000) return bad("stores", "must be in [1, 100000]");
  if (cases_per_store < 1 || cases_per_store > 100) {
    return bad("cases_per_store", "must be in [1, 100]");
  }
  if (!(days > 0) || days > 3660) return bad("days", "must be in (0, 3660]");
  if (interval_s < 1 || interval_s > 3600) return bad("interval_s", "must be in [1, 3600]");
  double total = 0;
  for (double w : type_mix) {
    if (!(w >= 0) || !std::isfinite(w)) return bad("type_mix", "weights must be finite and >= 0");
    total += w;
  }
  if (!(total > 0)) return bad("type_mix", "needs at least one positive weight");
  if (!(fault_rate >= 0 && fault_rate <= 1)) return bad("fault_rate", "must be in [0, 1]");
  if (!(gap_rate >= 0 && gap_rate < 1)) return bad("gap_rate", "must be in [0, 1)");
  if (!(noise_c >= 0 && noise_c <= 10)) return bad("noise_c", "must be in [0, 10]");
  if (!(quantum_c >= 0 && quantum_c <= 10)) return bad("quantum_c", "must be in [0, 10]");
  if (end_us() - start_us < interval_s * 1000000LL)
    return bad("days", "is shorter than one interval");
  return Status::OK();
}

Result<std::unique_ptr<FleetSimulator>> FleetSimulator::Create(const SimulatorOptions& options) {
  NEMESYST_RETURN_IF_ERROR(options.Validate());
  return std::unique_ptr<FleetSimulator>(new FleetSimulatorImpl(options));
}

}  // namespace nemesyst::refrigeration
