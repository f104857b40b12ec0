// On-disk format of the sensor log (column family `log`). Documented in docs/storage.md.
//
// Keys (integers big-endian, so byte order = numeric order; stream_id = StreamId(name), a 64-bit
// FNV-1a hash of the stream name, identical on every node so replicated keys never collide):
//   'r' stream_id:u64 last_seq:u64     -> record chunk (format 2, storage/log_chunk.h), or a
//                                         format-1 record (stores written before chunks)
//   's' stream_id:u64 first_seq:u64    -> batch summary (one per Append call)
//
// Record value (v1, read as a chunk of one; still written by the benchmark's per-record peer),
// integers little-endian:
//   format:u8 = 1 | device_len:varint | device bytes | timestamp_us:i64 | field_count:varint |
//   fields (float32: 4 bytes, float64: 8, int32: 4, in schema order) | crc32c:u32 of all before
//
// Batch summary value (v1):
//   format:u8 = 1 | last_seq:u64 | min_timestamp_us:i64 | max_timestamp_us:i64 |
//   device bloom: 32 bytes (256 bits, 2 probes of a 64-bit hash) | crc32c:u32 of all before
//
// Thread-safety: pure functions.
#ifndef NEMESYST_STORAGE_LOG_FORMAT_H_
#define NEMESYST_STORAGE_LOG_FORMAT_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "nemesyst/status.h"
#include "nemesyst/store_types.h"

namespace nemesyst::storage {

constexpr char kRecordKeyTag = 'r';
constexpr char kSummaryKeyTag = 's';
constexpr size_t kLogKeySize = 17;
constexpr uint8_t kRecordFormatV1 = 1;
constexpr uint8_t kSummaryFormatV1 = 1;
constexpr size_t kBloomBytes = 32;

uint64_t Hash64(std::string_view bytes);  // FNV-1a 64
inline uint64_t StreamId(std::string_view name) { return Hash64(name); }

std::string LogKey(char tag, uint64_t stream_id, uint64_t seq);
// Parses a log key; false if it is not `tag` + 16 bytes.
bool ParseLogKey(std::string_view key, char tag, uint64_t* stream_id, uint64_t* seq);

// Checks `record` against `schema`. The message names the field (and `record_index` when >= 0).
Status ValidateRecord(const StreamSchema& schema, const Record& record, int64_t record_index);
// Appends the v1 encoding of a validated record to `out`.
void EncodeRecord(const StreamSchema& schema, const Record& record, std::string* out);
// Decodes a v1 value; Corruption names what is wrong (checksum, truncation, field count).
Status DecodeRecord(const StreamSchema& schema, std::string_view value, Record* record);

// The fields of one record, as formats 1 and 2 lay them out (float32 -> 4 bytes IEEE, float64 ->
// 8, int32 -> 4, little-endian, schema order). FieldsBytes is their total size; Encode writes that
// many bytes at `out`, Decode reads them from `in` into values[0..fields).
size_t FieldsBytes(const StreamSchema& schema);
void EncodeFields(const StreamSchema& schema, const double* values, char* out);
void DecodeFields(const StreamSchema& schema, const char* in, double* values);

struct BatchSummary {
  uint64_t last_seq = 0;
  int64_t min_timestamp_us = 0;
  int64_t max_timestamp_us = 0;
  std::array<uint8_t, kBloomBytes> device_bloom{};

  void AddDevice(std::string_view device_id);
  bool MayContainDevice(std::string_view device_id) const;
};
std::string EncodeSummary(const BatchSummary& summary);
Status DecodeSummary(std::string_view value, BatchSummary* summary);

// Validation of stream, group, model and alias names: 1..128 of [A-Za-z0-9_.-/].
Status ValidateName(std::string_view what, std::string_view name);
// Checks a schema: at least one field, names valid and unique, min <= max.
Status ValidateSchema(const StreamSchema& schema);

}  // namespace nemesyst::storage

#endif  // NEMESYST_STORAGE_LOG_FORMAT_H_
