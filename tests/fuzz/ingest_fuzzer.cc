// libFuzzer harness: ingest of CSV and JSON-lines rows (stream/ingest.cc, line_reader.cc and the
// timestamp parsers of common/timestamp.cc) through IngestFd into a real store — the path every
// file, pipe and `ingest --connect` client's rows take.
//
// Input: options:u8 | batch:u8 | the input's bytes. The options byte picks the format (auto by
// content, csv, jsonl, auto by a .csv name), the error policy, dry run, the timestamp format and
// ignore_unknown; batch picks rows per append. The store (one per process, in a directory under
// $TMPDIR removed at a normal exit, not after a crash) has one stream: temp float32 [-50, 50],
// power float64, door int32 [0, 1], count int32; a column "temperature" is renamed to temp.
// Invariants: the report adds up (every row read is committed, dead-lettered or, under reject,
// the one that stopped ingest); what was committed is in the store — as many records as the
// report says, in the ranges it names, finite, in range, with timestamps that advance per device
// — and what was dead-lettered is in the store's dead-letter rows.
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "nemesyst/ingest.h"
#include "nemesyst/store.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace nemesyst;

constexpr const char* kStream = "feed";

struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<Store> store;
  int fd = -1;
  uint64_t last_dead_letter_id = 0;
};

Fixture& TheFixture() {
  static Fixture* f = [] {
    auto* f = new Fixture;
    std::string pattern = (std::filesystem::temp_directory_path() / "nemesyst-ingest-fuzz-XXXXXX");
    NEMESYST_FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr);
    f->dir = pattern;
    std::atexit([] { std::filesystem::remove_all(TheFixture().dir); });
    StoreOptions options;
    options.durability = Durability::kAsync;
    NEMESYST_FUZZ_CHECK(Store::Open(options, (f->dir / "db").string(), &f->store).ok());
    StreamSchema schema;
    schema.fields = {{"temp", FieldType::kFloat32, "degC", -50.0, 50.0},
                     {"power", FieldType::kFloat64, "kW", std::nullopt, std::nullopt},
                     {"door", FieldType::kInt32, "", 0.0, 1.0},
                     {"count", FieldType::kInt32, "", std::nullopt, std::nullopt}};
    NEMESYST_FUZZ_CHECK(f->store->CreateStream(kStream, schema).ok());
    f->fd = memfd_create("ingest-fuzz", MFD_CLOEXEC);
    NEMESYST_FUZZ_CHECK(f->fd >= 0);
    return f;
  }();
  return *f;
}

void CheckCommitted(Fixture& f, const IngestReport& report) {
  uint64_t appended = 0;
  std::map<std::string, int64_t> last_us;
  const StreamSchema schema = f.store->GetSchema(kStream).value();
  for (const SeqRange& range : report.appended) {
    NEMESYST_FUZZ_CHECK(range.first >= 1 && range.first <= range.last);
    appended += range.last - range.first + 1;
    RecordQuery query;
    query.first_seq = range.first;
    query.last_seq = range.last;
    auto it = f.store->Read(kStream, query);
    NEMESYST_FUZZ_CHECK(it.ok());
    uint64_t seq = range.first;
    for (; (*it)->Valid(); (*it)->Next(), ++seq) {
      const StoredRecord& r = (*it)->record();
      NEMESYST_FUZZ_CHECK(r.seq == seq);
      NEMESYST_FUZZ_CHECK(!r.record.device_id.empty());
      for (size_t i = 0; i < schema.fields.size(); ++i) {
        const double v = r.record.values[i];
        const FieldSpec& spec = schema.fields[i];
        NEMESYST_FUZZ_CHECK(std::isfinite(v));
        NEMESYST_FUZZ_CHECK(!spec.min_value || v >= *spec.min_value);
        NEMESYST_FUZZ_CHECK(!spec.max_value || v <= *spec.max_value);
      }
      auto [last, fresh] = last_us.emplace(r.record.device_id, r.record.timestamp_us);
      NEMESYST_FUZZ_CHECK(fresh || r.record.timestamp_us > last->second);
      last->second = r.record.timestamp_us;
    }
    NEMESYST_FUZZ_CHECK((*it)->status().ok());
    NEMESYST_FUZZ_CHECK(seq == range.last + 1);
  }
  NEMESYST_FUZZ_CHECK(appended == report.rows_committed);

  auto dead = f.store->ListDeadLetterRows(kStream, f.last_dead_letter_id, 1 << 20);
  NEMESYST_FUZZ_CHECK(dead.ok());
  NEMESYST_FUZZ_CHECK(dead->size() == report.rows_dead_lettered);
  if (!dead->empty()) f.last_dead_letter_id = dead->back().id;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  Fixture& f = TheFixture();
  const uint8_t o = data[0];
  IngestOptions options;
  options.stream = kStream;
  static constexpr IngestFormat kFormats[] = {IngestFormat::kAuto, IngestFormat::kCsv,
                                              IngestFormat::kJsonLines, IngestFormat::kAuto};
  options.format = kFormats[o & 3];
  const std::string name = (o & 3) == 3 ? "fuzz-input.csv" : "fuzz-input";
  options.on_error = (o & 4) ? OnError::kDeadLetter : OnError::kReject;
  options.dry_run = (o & 8) != 0;
  static constexpr TimestampFormat kTimes[] = {
      TimestampFormat::kAuto,        TimestampFormat::kIso8601,     TimestampFormat::kEpochSeconds,
      TimestampFormat::kEpochMillis, TimestampFormat::kEpochMicros, TimestampFormat::kEpochNanos,
      TimestampFormat::kAuto,        TimestampFormat::kAuto};
  options.timestamp_format = kTimes[(o >> 4) & 7];
  options.ignore_unknown = (o & 0x80) != 0;
  options.batch_rows = data[1] < 240 ? 1 + data[1] % 16 : 10000;
  options.rename["temperature"] = "temp";
  options.max_reported_errors = 8;

  const char* input = reinterpret_cast<const char*>(data + 2);
  const size_t input_size = size - 2;
  NEMESYST_FUZZ_CHECK(ftruncate(f.fd, 0) == 0);
  NEMESYST_FUZZ_CHECK(pwrite(f.fd, input, input_size, 0) == static_cast<ssize_t>(input_size));
  NEMESYST_FUZZ_CHECK(lseek(f.fd, 0, SEEK_SET) == 0);

  IngestReport report;
  const Status status = IngestFd(*f.store, f.fd, name, options, &report);

  NEMESYST_FUZZ_CHECK(report.error_details.size() <= options.max_reported_errors);
  NEMESYST_FUZZ_CHECK(report.error_details.size() <= report.errors);
  NEMESYST_FUZZ_CHECK(report.rows_committed + report.rows_dead_lettered <= report.rows_read);
  NEMESYST_FUZZ_CHECK(report.bytes_read <= input_size);
  if (report.rejected) {
    NEMESYST_FUZZ_CHECK(options.on_error == OnError::kReject && report.errors == 1);
    NEMESYST_FUZZ_CHECK(report.error_details.size() == 1);
  }
  if (status.ok()) {
    if (options.on_error == OnError::kDeadLetter) {
      NEMESYST_FUZZ_CHECK(!report.rejected && report.errors == report.rows_dead_lettered);
      NEMESYST_FUZZ_CHECK(report.rows_committed + report.rows_dead_lettered == report.rows_read);
    } else if (!report.rejected) {
      NEMESYST_FUZZ_CHECK(report.errors == 0 && report.rows_committed == report.rows_read);
    }
    if (!report.rejected) NEMESYST_FUZZ_CHECK(report.bytes_read == input_size);
  }
  if (options.dry_run) {
    NEMESYST_FUZZ_CHECK(report.appended.empty());
  } else {
    CheckCommitted(f, report);
  }
  return 0;
}
