// Storage benchmarks (docs/bench/storage.md):
//   append/<impl>/batch:B/durability:D      impl = nemesyst (default: up to 64 records per key)
//                                           | rocksdb_raw (the same records, one key per record
//                                           in format 1, put with a raw RocksDB WriteBatch: the
//                                           issue's peer) | rocksdb_raw_chunked (the very key and
//                                           value bytes the store writes, chunks included)
//   append/nemesyst/batch:B/durability:async/chunk:1   the store with one key per record
//   append_concurrent/nemesyst/durability:D/threads:T   batch 1, T appenders sharing one store
//   group/claim_ack/durability:D/threads:M  M members claiming 10-record batches and acking them
//   model/put|get/mb:10                     a 10 MB blob, MB/s
// Each case opens a fresh store under $TMPDIR and deletes it afterwards.
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "nemesyst/store.h"
#include "storage/log_chunk.h"
#include "storage/log_format.h"

namespace nemesyst {
namespace {

std::string MakeTempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp ? tmp : "/tmp") + "/nemesyst-bench-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return {};
  return pattern;
}

StreamSchema EightFloats() {
  StreamSchema schema;
  for (int i = 0; i < 8; ++i) {
    schema.fields.push_back(
        {"f" + std::to_string(i), FieldType::kFloat32, "", std::nullopt, std::nullopt});
  }
  return schema;
}

std::vector<Record> MakeRecords(size_t n) {
  std::vector<Record> records;
  for (size_t i = 0; i < n; ++i) {
    Record r{"store-0042/case-" + std::to_string(i % 16), int64_t(1'700'000'000'000'000 + i), {}};
    for (int f = 0; f < 8; ++f) r.values.push_back(0.25 * f + 0.001 * i);
    records.push_back(std::move(r));
  }
  return records;
}

struct TempStore {
  std::string dir = MakeTempDir();
  std::unique_ptr<Store> store;
  explicit TempStore(Durability durability, uint32_t records_per_chunk = 64) {
    StoreOptions options;
    options.durability = durability;
    options.max_records_per_chunk = records_per_chunk;
    Status s = Store::Open(options, dir + "/store", &store);
    if (!s.ok()) store.reset();
  }
  ~TempStore() {
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

const char* kDurabilityNames[] = {"sync", "group", "async"};

void BM_AppendNemesyst(benchmark::State& state, size_t batch, Durability durability,
                       uint32_t records_per_chunk) {
  TempStore t(durability, records_per_chunk);
  if (!t.store || !t.store->CreateStream("s", EightFloats()).ok()) {
    state.SkipWithError("cannot open store");
    return;
  }
  std::vector<Record> records = MakeRecords(batch);
  for (auto _ : state) {
    auto r = t.store->Append("s", records);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
  }
  state.counters["records/s"] =
      benchmark::Counter(double(state.iterations() * batch), benchmark::Counter::kIsRate);
}

// The peers: the records put with a raw RocksDB WriteBatch into a database configured like the
// store's log column family. `chunked` false: one key per record, the format-1 value of each (the
// store before chunks, and what "raw RocksDB writing the same records" costs); true: the very key
// and value bytes the store writes, chunks of 64 (what the store adds on top of RocksDB).
void BM_AppendRocksdbRaw(benchmark::State& state, size_t batch, Durability durability,
                         bool chunked) {
  const bool sync = durability != Durability::kAsync;
  std::string dir = MakeTempDir();
  rocksdb::Options options;
  options.create_if_missing = true;
  options.write_buffer_size = 64 << 20;
  options.max_background_jobs = 2;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir + "/raw", &raw).ok()) {
    state.SkipWithError("cannot open rocksdb");
    return;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  StreamSchema schema = EightFloats();
  std::vector<Record> records = MakeRecords(batch);
  std::vector<std::string> values;     // one per key
  std::vector<uint32_t> last_indices;  // index of each key's last record in the batch
  if (chunked) {
    storage::ChunkBuilder builder(schema, 64, batch);
    for (const Record& r : records) builder.Add(r);
    builder.Finish();
    for (const auto& chunk : builder.chunks()) {
      values.push_back(builder.out().substr(chunk.begin, chunk.end - chunk.begin));
      last_indices.push_back(chunk.last_index);
    }
  } else {
    for (size_t i = 0; i < batch; ++i) {
      std::string v;
      storage::EncodeRecord(schema, records[i], &v);
      values.push_back(std::move(v));
      last_indices.push_back(static_cast<uint32_t>(i));
    }
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = sync;
  uint64_t first = 1;
  const uint64_t stream_id = storage::StreamId("s");
  for (auto _ : state) {
    rocksdb::WriteBatch wb;
    for (size_t k = 0; k < values.size(); ++k) {
      wb.Put(storage::LogKey(storage::kRecordKeyTag, stream_id, first + last_indices[k]),
             values[k]);
    }
    first += batch;
    rocksdb::Status s = db->Write(write_options, &wb);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  state.counters["records/s"] =
      benchmark::Counter(double(state.iterations() * batch), benchmark::Counter::kIsRate);
  db->Close().PermitUncheckedError();
  db.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

void RegisterAppend() {
  for (int durability : {2, 0}) {
    for (int batch : {1, 100, 1000}) {
      std::string suffix =
          "/batch:" + std::to_string(batch) + "/durability:" + kDurabilityNames[durability];
      auto d = static_cast<Durability>(durability);
      // Wall-clock time: what an appender waits for (RocksDB's own threads do part of the work).
      benchmark::RegisterBenchmark(("append/nemesyst" + suffix).c_str(), BM_AppendNemesyst,
                                   size_t(batch), d, 64u)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("append/rocksdb_raw" + suffix).c_str(), BM_AppendRocksdbRaw,
                                   size_t(batch), d, false)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
      if (batch == 1) continue;  // a chunk of one is a record: nothing more to compare
      benchmark::RegisterBenchmark(("append/rocksdb_raw_chunked" + suffix).c_str(),
                                   BM_AppendRocksdbRaw, size_t(batch), d, true)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
      if (d != Durability::kAsync) continue;
      benchmark::RegisterBenchmark(("append/nemesyst" + suffix + "/chunk:1").c_str(),
                                   BM_AppendNemesyst, size_t(batch), d, 1u)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

// Shared by the threads of one multi-threaded case (created by thread 0 before the loop).
std::unique_ptr<TempStore> shared_store;

void BM_AppendConcurrent(benchmark::State& state, Durability durability) {
  if (state.thread_index() == 0) {
    shared_store = std::make_unique<TempStore>(durability);
    if (shared_store->store) shared_store->store->CreateStream("s", EightFloats()).IgnoreError();
  }
  std::vector<Record> records = MakeRecords(1);
  for (auto _ : state) {
    auto r = shared_store->store->Append("s", records);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
  }
  state.counters["records/s"] =
      benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  if (state.thread_index() == 0) shared_store.reset();
}

void BM_ClaimAck(benchmark::State& state, Durability durability) {
  constexpr uint32_t kBatch = 10;
  if (state.thread_index() == 0) {
    shared_store = std::make_unique<TempStore>(durability);
    Store& store = *shared_store->store;
    store.CreateStream("s", EightFloats()).IgnoreError();
    std::vector<Record> records = MakeRecords(1000);
    for (int i = 0; i < 600; ++i) store.Append("s", records).status().IgnoreError();
    store.CreateGroup("g", "s").IgnoreError();
  }
  std::string member = "m" + std::to_string(state.thread_index());
  for (auto _ : state) {
    auto claim = shared_store->store->Claim("g", member, kBatch, 60'000);
    if (!claim.ok()) {
      state.SkipWithError(claim.status().ToString().c_str());
      break;
    }
    Status s = shared_store->store->Ack("g", claim->lease);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  state.counters["batches/s"] =
      benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  if (state.thread_index() == 0) shared_store.reset();
}

void RegisterConcurrent() {
  for (int durability : {0, 1, 2}) {
    std::string name =
        std::string("append_concurrent/nemesyst/durability:") + kDurabilityNames[durability];
    benchmark::RegisterBenchmark(name.c_str(), BM_AppendConcurrent,
                                 static_cast<Durability>(durability))
        ->Threads(1)
        ->Threads(4)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
  for (int durability : {2, 1}) {
    std::string name = std::string("group/claim_ack/durability:") + kDurabilityNames[durability];
    benchmark::RegisterBenchmark(name.c_str(), BM_ClaimAck, static_cast<Durability>(durability))
        ->Threads(1)
        ->Threads(2)
        ->Threads(4)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
}

constexpr size_t kModelBytes = 10 << 20;

std::string ModelBlob() {
  std::string blob(kModelBytes, '\0');
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<char>(i * 2654435761u >> 24);
  return blob;
}

void BM_ModelPut(benchmark::State& state) {
  TempStore t(Durability::kAsync);
  std::string blob = ModelBlob();
  ModelMetadata metadata;
  metadata.kind = "lstm";
  for (auto _ : state) {
    auto v = t.store->PutModel("m", blob, metadata);
    if (!v.ok()) {
      state.SkipWithError(v.status().ToString().c_str());
      break;
    }
  }
  state.SetBytesProcessed(int64_t(state.iterations() * blob.size()));
}

void BM_ModelGet(benchmark::State& state) {
  TempStore t(Durability::kAsync);
  std::string blob = ModelBlob();
  if (!t.store->PutModel("m", blob, {}).ok()) {
    state.SkipWithError("put failed");
    return;
  }
  for (auto _ : state) {
    auto b = t.store->ReadModelBlob("m", 1);
    if (!b.ok() || b->size() != blob.size()) {
      state.SkipWithError("get failed");
      break;
    }
    benchmark::DoNotOptimize(b->data());
  }
  state.SetBytesProcessed(int64_t(state.iterations() * blob.size()));
}

int Register() {
  RegisterAppend();
  RegisterConcurrent();
  benchmark::RegisterBenchmark("model/put/mb:10", BM_ModelPut)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("model/get/mb:10", BM_ModelGet)->Unit(benchmark::kMillisecond);
  return 0;
}
const int kRegistered = Register();

}  // namespace
}  // namespace nemesyst
