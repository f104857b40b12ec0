// Ingest throughput of the simulator's CSV into a store (async durability, one core), beside a
// plain read of the same file. Target (issue 5): >= 1,000,000 rows/s.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "nemesyst/refrigeration/fleet.h"
#include "nemesyst/store.h"
#include "nemesyst/stream.h"

namespace nemesyst {
namespace {

// Realistic readings come from the case study's simulator.
using namespace nemesyst::refrigeration;

struct Fixture {
  std::filesystem::path dir;
  std::string csv_path;
  uint64_t rows = 0;
  uint64_t bytes = 0;
  std::unique_ptr<Store> store;
  // The same, storing one RocksDB key per record (the store before record chunks).
  std::unique_ptr<Store> store_one_key;
  int next_stream = 0;

  Fixture() {
    dir = std::filesystem::temp_directory_path() /
          ("nemesyst-ingest-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    csv_path = (dir / "fleet.csv").string();
    SimulatorOptions options;
    options.stores = 4;
    options.cases_per_store = 12;
    options.days = 4;  // 276k rows, ~20 MB
    auto sim = FleetSimulator::Create(options);
    const int fd = ::open(csv_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!sim.ok() || fd < 0 || !WriteFleet(**sim, fd, {}, &rows).ok()) std::abort();
    ::close(fd);
    bytes = std::filesystem::file_size(csv_path);
    StoreOptions store_options;
    store_options.durability = Durability::kAsync;
    if (!Store::Open(store_options, (dir / "db").string(), &store).ok()) std::abort();
    store_options.max_records_per_chunk = 1;
    if (!Store::Open(store_options, (dir / "db1").string(), &store_one_key).ok()) std::abort();
  }
  ~Fixture() {
    store.reset();
    store_one_key.reset();
    std::filesystem::remove_all(dir);
  }
};

Fixture& Shared() {
  static Fixture fixture;
  return fixture;
}

void SetCounters(benchmark::State& state, uint64_t rows, uint64_t bytes) {
  state.counters["rows_per_s"] = benchmark::Counter(static_cast<double>(rows) * state.iterations(),
                                                    benchmark::Counter::kIsRate);
  state.counters["MB_per_s"] = benchmark::Counter(
      static_cast<double>(bytes) * state.iterations() / 1e6, benchmark::Counter::kIsRate);
}

// The peer: read the same file and count its lines.
void BM_PlainRead(benchmark::State& state) {
  Fixture& f = Shared();
  std::vector<char> buffer(4 << 20);
  for (auto _ : state) {
    const int fd = ::open(f.csv_path.c_str(), O_RDONLY);
    uint64_t lines = 0;
    ssize_t n;
    while ((n = ::read(fd, buffer.data(), buffer.size())) > 0) {
      for (ssize_t i = 0; i < n; ++i) lines += buffer[i] == '\n';
    }
    ::close(fd);
    benchmark::DoNotOptimize(lines);
  }
  SetCounters(state, f.rows, f.bytes);
}
BENCHMARK(BM_PlainRead)->Unit(benchmark::kMillisecond);

void IngestInto(benchmark::State& state, Store& store, uint32_t batch_rows) {
  Fixture& f = Shared();
  IngestOptions options;
  options.batch_rows = batch_rows;
  for (auto _ : state) {
    state.PauseTiming();
    options.stream = "fleet-" + std::to_string(f.next_stream++);
    if (!store.CreateStream(options.stream, SimulatorSchema(true)).ok()) std::abort();
    state.ResumeTiming();
    IngestReport report;
    Status status = Ingest(store, f.csv_path, options, &report);
    if (!status.ok() || report.rows_committed != f.rows) {
      state.SkipWithError(status.ok() ? "rows missing" : status.ToString().c_str());
      return;
    }
  }
  SetCounters(state, f.rows, f.bytes);
}

void BM_IngestCsv(benchmark::State& state) {
  IngestInto(state, *Shared().store, static_cast<uint32_t>(state.range(0)));
}
BENCHMARK(BM_IngestCsv)
    ->ArgNames({"batch"})
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(50000)
    ->Unit(benchmark::kMillisecond);

// The default batch into a store with one RocksDB key per record (StoreOptions::
// max_records_per_chunk = 1): what record chunks gain.
void BM_IngestCsvOneKeyPerRecord(benchmark::State& state) {
  IngestInto(state, *Shared().store_one_key, 10000);
}
BENCHMARK(BM_IngestCsvOneKeyPerRecord)->Unit(benchmark::kMillisecond);

// Parsing and validation alone (--dry-run): how much of the above is ingest, how much the store.
void BM_IngestCsvDryRun(benchmark::State& state) {
  Fixture& f = Shared();
  IngestOptions options;
  options.stream = "dry";
  options.dry_run = true;
  if (!f.store->GetSchema("dry").ok() &&
      !f.store->CreateStream("dry", SimulatorSchema(true)).ok()) {
    std::abort();
  }
  for (auto _ : state) {
    IngestReport report;
    Status status = Ingest(*f.store, f.csv_path, options, &report);
    if (!status.ok() || report.rows_committed != f.rows) {
      state.SkipWithError(status.ok() ? "rows missing" : status.ToString().c_str());
      return;
    }
  }
  SetCounters(state, f.rows, f.bytes);
}
BENCHMARK(BM_IngestCsvDryRun)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace nemesyst
