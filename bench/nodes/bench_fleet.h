// What the node benchmarks share: scratch directories, stores, the simulated fleet's rows in
// append batches, and latency percentiles as counters. (A header: the suite globs *.cc.)
#ifndef NEMESYST_BENCH_NODES_BENCH_FLEET_H_
#define NEMESYST_BENCH_NODES_BENCH_FLEET_H_

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <vector>

#include "nemesyst/refrigeration/fleet.h"
#include "nemesyst/refrigeration/simulator.h"
#include "nemesyst/store.h"

namespace nemesyst {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline fs::path Scratch(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("nemesyst-bench-" + name);
  fs::remove_all(p);
  return p;
}

inline std::unique_ptr<Store> OpenStore(const fs::path& path, Durability d = Durability::kAsync) {
  StoreOptions o;
  o.durability = d;
  std::unique_ptr<Store> store;
  if (!Store::Open(o, path.string(), &store).ok()) std::abort();
  return store;
}

// The simulated fleet's rows, in append batches of `batch` records.
inline const std::vector<std::vector<Record>>& FleetBatches(size_t records, size_t batch) {
  static std::map<std::pair<size_t, size_t>, std::vector<std::vector<Record>>> cache;
  auto& out = cache[{records, batch}];
  if (!out.empty()) return out;
  refrigeration::SimulatorOptions so;
  so.stores = 8;
  so.cases_per_store = 24;
  so.days = static_cast<double>(records) / (so.stores * so.cases_per_store * 1440.0) + 0.01;
  auto sim = refrigeration::FleetSimulator::Create(so).value();
  std::vector<Record> rows;
  (void)sim->GenerateFleet([&](const refrigeration::SimSample* s, size_t n) -> Status {
    for (size_t i = 0; i < n && rows.size() < records; ++i) {
      Record r;
      refrigeration::SampleToRecord(*sim, s[i], &r);
      rows.push_back(std::move(r));
    }
    return Status::OK();
  });
  for (size_t i = 0; i < rows.size(); i += batch) {
    out.emplace_back(rows.begin() + i, rows.begin() + std::min(rows.size(), i + batch));
  }
  return out;
}

// p50 / p99 of per-iteration latencies, as counters.
inline void Percentiles(benchmark::State& state, std::vector<double> us) {
  std::sort(us.begin(), us.end());
  if (us.empty()) return;
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}

}  // namespace
}  // namespace nemesyst

#endif  // NEMESYST_BENCH_NODES_BENCH_FLEET_H_
