// An integrator's first program against an installed Nemesyst: open a store in the directory
// given, define a stream of fridge readings, append a batch atomically, read it back by sequence
// and by time. Prints what it read; exits 1 on any error (with the Status's message).
//
//   store_roundtrip /tmp/fridges
#include <cstdio>
#include <memory>
#include <vector>

#include "nemesyst/store.h"
#include "nemesyst/version.h"

namespace {

nemesyst::Status Run(const char* path) {
  std::unique_ptr<nemesyst::Store> store;
  NEMESYST_RETURN_IF_ERROR(nemesyst::Store::Open({}, path, &store));
  nemesyst::StreamSchema schema;
  schema.fields.push_back({"air_c", nemesyst::FieldType::kFloat32, "degC", -40.0, 40.0});
  schema.fields.push_back({"power_kw", nemesyst::FieldType::kFloat32, "kW", 0.0, 100.0});
  NEMESYST_RETURN_IF_ERROR(store->CreateStream("fridges", schema));
  const int64_t t0 = 1767225600000000;  // 2026-01-01T00:00:00Z, in µs
  std::vector<nemesyst::Record> batch;
  for (int i = 0; i < 3; ++i) {
    batch.push_back({"case-01", t0 + i * 60000000LL, {3.5 + 0.1 * i, 0.8}});
  }
  NEMESYST_ASSIGN_OR_RETURN(nemesyst::SeqRange seqs, store->Append("fridges", batch));
  std::printf("appended seqs %llu..%llu\n", static_cast<unsigned long long>(seqs.first),
              static_cast<unsigned long long>(seqs.last));
  nemesyst::RecordQuery query;
  query.min_timestamp_us = t0 + 60000000LL;  // the last two minutes
  NEMESYST_ASSIGN_OR_RETURN(std::unique_ptr<nemesyst::RecordIterator> it,
                            store->Read("fridges", query));
  int read = 0;
  for (; it->Valid(); it->Next()) {
    const nemesyst::StoredRecord& r = it->record();
    std::printf("seq %llu %s air %.1f degC\n", static_cast<unsigned long long>(r.seq),
                r.record.device_id.c_str(), r.record.values[0]);
    ++read;
  }
  NEMESYST_RETURN_IF_ERROR(it->status());
  if (read != 2)
    return nemesyst::Status::Internal("expected 2 records, read " + std::to_string(read));
  std::printf("nemesyst %s: ok\n", NEMESYST_VERSION_STRING);
  return nemesyst::Status::OK();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s STORE_DIR\n", argv[0]);
    return 2;
  }
  const nemesyst::Status s = Run(argv[1]);
  if (!s.ok()) {
    std::fprintf(stderr, "store_roundtrip: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
