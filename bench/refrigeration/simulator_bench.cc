// Simulator throughput in case-minutes per second (one core), with and without labels.
// Target (issue 5): >= 1,000,000 case-minutes/s unlabelled, >= 250,000 labelled.
#include <benchmark/benchmark.h>

#include "nemesyst/refrigeration/simulator.h"

namespace nemesyst::refrigeration {
namespace {

void BM_Simulate(benchmark::State& state) {
  SimulatorOptions options;
  options.stores = 4;
  options.cases_per_store = 16;
  options.days = 1;
  options.labels = state.range(0) != 0;
  auto sim = FleetSimulator::Create(options);
  if (!sim.ok()) {
    state.SkipWithError(sim.status().ToString().c_str());
    return;
  }
  int64_t samples = 0;
  for (auto _ : state) {
    Status status = (*sim)->GenerateFleet([&](const SimSample* s, size_t n) {
      samples += static_cast<int64_t>(n);
      benchmark::DoNotOptimize(s);
      return Status::OK();
    });
    if (!status.ok()) state.SkipWithError(status.ToString().c_str());
  }
  const int64_t case_minutes =
      state.iterations() * (*sim)->samples_per_case() * options.total_cases();
  state.counters["case_minutes_per_s"] =
      benchmark::Counter(static_cast<double>(case_minutes), benchmark::Counter::kIsRate);
  state.counters["samples"] = static_cast<double>(samples);
}
BENCHMARK(BM_Simulate)->ArgNames({"labels"})->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace nemesyst::refrigeration
