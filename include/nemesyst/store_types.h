// Value types of the embedded store (include/nemesyst/store.h): stream schemas and records,
// retention, consumer-group batches and the model registry's metadata.
//
// All types here are plain values: copyable, no hidden sharing; distinct objects may be used from
// distinct threads. Units are in the names (`_us` = microseconds since the Unix epoch unless said
// otherwise, `_ms` = milliseconds).
#ifndef NEMESYST_STORE_TYPES_H_
#define NEMESYST_STORE_TYPES_H_

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/export.h"
#include "nemesyst/status.h"

namespace nemesyst {

// ---- Sensor log ---------------------------------------------------------------------------------

// How a field's value is stored. Every value is handed to and from the API as a double; the type
// decides the on-disk width and what is valid (kInt32 values must be integral and fit 32 bits).
enum class FieldType : uint8_t { kFloat32 = 1, kFloat64 = 2, kInt32 = 3 };

NEMESYST_EXPORT std::string_view FieldTypeName(FieldType type);           // "float32" ...
NEMESYST_EXPORT Result<FieldType> ParseFieldType(std::string_view text);  // inverse

struct FieldSpec {
  std::string name;  // [A-Za-z0-9_.-]{1,64}, unique within the schema
  FieldType type = FieldType::kFloat32;
  std::string unit;                 // free text ("degC", "kW"); may be empty
  std::optional<double> min_value;  // inclusive valid range; absent = unbounded
  std::optional<double> max_value;
};

// A stream's schema: the fixed fields every record carries, in order. Values must be finite
// (NaN/inf are refused: ingest dead-letters such rows rather than storing holes).
struct StreamSchema {
  std::vector<FieldSpec> fields;
};

// Retention of one stream. Zero means "no limit". Retention deletes a prefix of the stream (oldest
// sequence numbers first) and never records some consumer group has not acknowledged.
struct RetentionPolicy {
  int64_t max_age_us = 0;    // delete the prefix whose timestamp_us < now - max_age_us
  uint64_t max_records = 0;  // keep at most this many records (the size limit, in records)
};

// A device id is 1..kMaxDeviceIdBytes bytes, any bytes but NUL.
inline constexpr size_t kMaxDeviceIdBytes = 256;

// Why `id` cannot be a device id ("empty device id", ...), or an empty string when it can: the one
// rule both the store (at append) and ingest (per row, to name the line) apply.
inline std::string DeviceIdProblem(std::string_view id) {
  if (id.empty()) return "empty device id";
  if (id.size() > kMaxDeviceIdBytes) {
    return "device id of " + std::to_string(id.size()) + " bytes is over the " +
           std::to_string(kMaxDeviceIdBytes) + "-byte limit";
  }
  if (id.find('\0') != std::string_view::npos) return "device id contains a NUL byte";
  return {};
}

struct Record {
  std::string device_id;       // 1..256 bytes, any bytes but NUL
  int64_t timestamp_us = 0;    // µs since the Unix epoch (the reading's time, not the append time)
  std::vector<double> values;  // one per schema field, in schema order
};

// A record as read back: with its sequence number.
struct StoredRecord {
  uint64_t seq = 0;
  Record record;
};

// Inclusive range of sequence numbers. Sequence numbers start at 1; 0 means "none".
struct SeqRange {
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t size() const { return last >= first && first != 0 ? last - first + 1 : 0; }
};

struct StreamInfo {
  std::string name;
  StreamSchema schema;
  RetentionPolicy retention;
  int64_t created_us = 0;
  // Sequence numbers present: [first_seq, last_seq] (both 0 when empty). Holes are possible (an
  // append that failed with an I/O error, or was not yet durable at a crash, burns its numbers).
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  uint64_t next_seq = 1;  // the number the next appended record will get
};

// Which records an iterator yields. All conditions combine (AND). Defaults read everything.
struct RecordQuery {
  uint64_t first_seq = 1;
  uint64_t last_seq = std::numeric_limits<uint64_t>::max();
  int64_t min_timestamp_us = std::numeric_limits<int64_t>::min();  // inclusive
  int64_t max_timestamp_us = std::numeric_limits<int64_t>::max();  // inclusive
  std::string device_id;                                           // empty = every device
};

// What ApplyRetention did and what it held back.
struct RetentionReport {
  std::string stream;
  uint64_t wanted_through_seq = 0;   // the policy would delete up to here (0 = nothing)
  uint64_t deleted_through_seq = 0;  // actually deleted up to here (0 = nothing)
  uint64_t records_deleted = 0;
  // Groups whose unacknowledged batches stopped the deletion, with the first seq each still needs.
  struct HeldBack {
    std::string group;
    uint64_t needs_from_seq = 0;
  };
  std::vector<HeldBack> held_back;
};

// A raw input row ingest could not turn into a record (bad syntax, schema violation ...), kept so
// nothing is silently dropped.
struct DeadLetterRow {
  uint64_t id = 0;         // store-wide, increasing
  std::string stream;      // the stream it was meant for (may not exist)
  std::string source;      // where it came from ("file.csv:17", "zmq:tcp://...")
  std::string reason;      // why it was refused
  std::string raw;         // the row as received, or its first kMaxDeadLetterRawBytes
  uint64_t raw_bytes = 0;  // the row's size as received (> raw.size() when raw was cut)
  int64_t received_us = 0;
};

// A rejected row longer than this is kept as its first this-many bytes plus its size: one huge
// bad row must neither be lost from the record nor stop dead-letter mode.
inline constexpr size_t kMaxDeadLetterRawBytes = 64 * 1024;

// ---- Consumer groups ----------------------------------------------------------------------------

// Identifies one delivery of one batch. Only the holder of the current lease may Ack/Nack it.
struct LeaseId {
  uint64_t batch_id = 0;
  uint32_t delivery = 0;  // 1 for the first delivery, 2 for the first redelivery ...
};

// A batch handed out by Claim: the sequence range (records are read with Store::Read) and its
// lease.
struct ClaimedBatch {
  std::string group;
  std::string stream;
  SeqRange range;
  LeaseId lease;
  int64_t lease_expires_ms = 0;  // wall clock, ms since the Unix epoch
};

struct DeadLetterBatch {
  uint64_t batch_id = 0;
  SeqRange range;
  uint32_t deliveries = 0;
  std::string last_member;
};

struct GroupStats {
  std::string group;
  std::string stream;
  uint64_t next_unclaimed_seq = 1;  // the cursor: first seq never handed out
  uint64_t committed_seq = 0;    // every seq <= this is acknowledged (or dead-lettered & resolved)
  uint64_t backlog_records = 0;  // appended, durable, never handed out
  uint64_t leased_batches = 0;   // handed out, lease running
  uint64_t pending_batches = 0;  // nacked or lease expired, waiting for redelivery
  uint64_t dead_letter_batches = 0;
  uint64_t acked_batches_total = 0;
  uint64_t redeliveries_total = 0;
};

// ---- Model registry -----------------------------------------------------------------------------

struct EpochMetrics {
  int epoch = 0;
  std::map<std::string, double> metrics;  // "train_loss" -> 0.12
};

// Where a model came from. `created_us` 0 means "now" when the model is put.
struct ModelLineage {
  std::string stream;
  std::vector<SeqRange> seq_ranges;  // what it was trained on
  std::string pipeline_spec;         // the resolved pipeline (TOML/JSON text), with its statistics
  uint32_t parent_version = 0;       // 0 = trained from scratch
  std::string node_id;
  std::string code_version;
  int64_t created_us = 0;
};

struct ModelMetadata {
  std::string kind;                                     // "lstm", "rnn", "gan" ...
  std::map<std::string, std::string> hyper_parameters;  // values as text ("64", "0.001")
  std::map<std::string, double> metrics;                // final metrics
  std::vector<EpochMetrics> epoch_metrics;
  ModelLineage lineage;
};

struct ModelInfo {
  std::string name;
  uint32_t version = 0;
  ModelMetadata metadata;
  uint64_t blob_bytes = 0;
  // SHA-256 of the blob, lower-case hex (what `sha256sum` prints for the file): identifies the
  // content. Empty for versions registered before digests were recorded.
  std::string blob_sha256;
  bool retired = false;
  std::vector<std::string> aliases;  // aliases pointing at this version, sorted
};

enum class MetricOrder { kLowerIsBetter, kHigherIsBetter };

// Naming a model version: `name` | `name@version` | `name:alias` (Store::ResolveModel).
struct ModelRef {
  std::string name;
  uint32_t version = 0;  // > 0 for name@version
  std::string alias;     // non-empty for name:alias
  std::string ToString() const;
};

// InvalidArgument for an empty name, a bad version number ("lstm@x", "lstm@0"), an empty alias,
// or both '@' and ':'.
NEMESYST_EXPORT Result<ModelRef> ParseModelRef(std::string_view text);

struct ResolvedModel {
  std::string name;
  uint32_t version = 0;
  std::string how;  // "version 3", "alias production" ...
  std::string ToString() const { return name + "@" + std::to_string(version); }
};

// A store's replication history (docs/replication.md): the id names one sequence of changes.
// "Same id and same position" means "same data" — so a store gets a new id when it is created,
// restored from a backup, or found to have diverged from what a follower holds, and a replica
// carries its source's. previous_id and switch_position say where the current id began.
struct HistoryInfo {
  std::string id;                // 32 hex digits (128 random bits)
  std::string previous_id;       // empty for the first history
  uint64_t switch_position = 0;  // the last journal position of the previous history
};

// One entry of the change journal, as the journal recorded it when it was written.
struct JournalPoint {
  uint64_t position = 0;
  int64_t written_us = 0;  // wall clock, µs since the epoch (0 in entries written before stamps)
  uint64_t stamp = 0;      // tells this write from another one at the same position elsewhere
  uint64_t bytes = 0;      // bytes the write stored (records, model chunks ...)
};

// One group batch to acknowledge as part of Store::CommitModel.
struct GroupAck {
  std::string group;
  LeaseId lease;
};

}  // namespace nemesyst

#endif  // NEMESYST_STORE_TYPES_H_
