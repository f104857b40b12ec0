// Pipeline throughput: windows/s from records to a dataset (Apply) and from a dataset into
// training tensors (BatchProvider::Next, batch 256), for the demo's shape of pipeline.
#include <benchmark/benchmark.h>

#include "nemesyst/refrigeration/fleet.h"
#include "nemesyst/stream.h"

namespace nemesyst {
namespace {

// Realistic readings come from the case study's simulator.
using namespace nemesyst::refrigeration;

constexpr const char* kSpec = R"(
[[steps]]
op = "derive"
name = "air_mean5"
kind = "rolling_mean"
field = "air_off_c"
k = 5
[[steps]]
op = "derive"
name = "air_rate"
kind = "rate"
field = "air_off_c"
[[steps]]
op = "derive"
name = "hour_sin"
kind = "time_of_day"
encoding = "sin"
[[steps]]
op = "derive"
name = "since_defrost"
kind = "since_defrost"
[[steps]]
op = "fill"
max_gap_s = 180
[[steps]]
op = "select"
fields = ["air_on_c", "air_off_c", "product_c", "ambient_c", "cooling", "defrost", "power_kw",
          "air_mean5", "air_rate", "hour_sin", "since_defrost"]
[[steps]]
op = "normalise"
[window]
length = 30
[label]
field = "safe_off_s"
[split]
by = "store"
)";

struct Data {
  std::vector<Record> records;
  std::unique_ptr<Pipeline> pipeline;
  Data() {
    SimulatorOptions options;
    options.stores = 4;
    options.cases_per_store = 12;
    options.days = 1;
    auto sim = FleetSimulator::Create(options);
    if (!sim.ok()) std::abort();
    (void)(*sim)->GenerateFleet([&](const SimSample* s, size_t n) {
      for (size_t i = 0; i < n; ++i) {
        records.emplace_back();
        SampleToRecord(**sim, s[i], &records.back());
      }
      return Status::OK();
    });
    auto p = Pipeline::Create(kSpec, SimulatorFields());
    if (!p.ok() || !(*p)->Fit(records).ok()) std::abort();
    pipeline = std::move(p).value();
  }
};

Data& Shared() {
  static Data data;
  return data;
}

void BM_PipelineApply(benchmark::State& state) {
  Data& d = Shared();
  size_t windows = 0;
  for (auto _ : state) {
    auto data = d.pipeline->Apply(d.records);
    if (!data.ok()) {
      state.SkipWithError(data.status().ToString().c_str());
      return;
    }
    windows = (*data)->windows.size();
  }
  state.counters["windows_per_s"] = benchmark::Counter(
      static_cast<double>(windows) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["records_per_s"] = benchmark::Counter(
      static_cast<double>(d.records.size()) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PipelineApply)->Unit(benchmark::kMillisecond);

void BM_PipelineBatches(benchmark::State& state) {
  Data& d = Shared();
  auto data = d.pipeline->Apply(d.records);
  if (!data.ok()) std::abort();
  auto provider = MakeDatasetProvider(*data, {.split = DataSplit::kAll, .shuffle = true});
  if (!provider.ok()) std::abort();
  Batch batch;
  size_t windows = 0;
  for (auto _ : state) {
    auto more = (*provider)->Next(256, &batch);
    if (!more.ok()) {
      state.SkipWithError(more.status().ToString().c_str());
      return;
    }
    if (!*more) {
      state.PauseTiming();
      (void)(*provider)->Rewind();
      state.ResumeTiming();
      continue;
    }
    windows += static_cast<size_t>(batch.batch);
    benchmark::DoNotOptimize(batch.x.data());
  }
  state.counters["windows_per_s"] =
      benchmark::Counter(static_cast<double>(windows), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PipelineBatches)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace nemesyst
