// Formats of the `meta` column family (documented in docs/storage.md):
//   'S' name                -> stream definition: sealed JSON {schema, retention, created_us}
//   'D' stream_id:u64(BE)   -> deleted_through_seq:u64 (LE): retention's floor, keeps seq numbers
//                              from being reused after a whole stream was deleted
//   'J' position:u64(BE)    -> change-journal descriptor (below)
//   'X' id:u64(BE)          -> dead-letter row: sealed JSON {stream, source, reason, raw,
//   received_us}
//   'H'                     -> history: sealed JSON {id, previous_id, switch_position} (the store's
//                              replication history; absent in stores that predate it)
//   'T'                     -> journal trimmed through: position:u64 (LE); positions at or below it
//                              are gone, and are never handed out again
//   'N' key                 -> node state: opaque bytes a node keeps with its store (never
//                              journaled, never replicated)
//
// A "sealed" value is  format:u8 = 1 | crc32c:u32 (LE) of the JSON text | JSON text.
//
// Journal descriptor:  kind:u8 | then by kind:
//   kStreamDef:  name (length-prefixed)
//   kAppend:     stream_id:u64 first_seq:u64 last_seq:u64 (LE)
//   kModelPut / kModelMeta: name (length-prefixed) version:u32
//   kAlias:      name, alias (length-prefixed)
// followed, in entries written since replication positions carry stamps, by a 24-byte trailer:
//   written_us:i64 stamp:u64 bytes:u64 (LE) — when the write happened, a value that tells this
//   write from any other one at the same position in another history, and the bytes written.
//
// Thread-safety: pure functions.
#ifndef NEMESYST_STORAGE_META_FORMAT_H_
#define NEMESYST_STORAGE_META_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "nemesyst/status.h"
#include "nemesyst/store_types.h"

namespace nemesyst::storage {

constexpr char kStreamDefTag = 'S';
constexpr char kDeletedThroughTag = 'D';
constexpr char kJournalTag = 'J';
constexpr char kDeadLetterRowTag = 'X';
constexpr char kHistoryTag = 'H';
constexpr char kJournalTrimTag = 'T';
constexpr char kNodeStateTag = 'N';

std::string SealJson(const nlohmann::json& json);
Status UnsealJson(std::string_view value, nlohmann::json* json);

// 'tag' + name
std::string NamedKey(char tag, std::string_view name);
// 'tag' + u64 big-endian
std::string NumberedKey(char tag, uint64_t number);
bool ParseNumberedKey(std::string_view key, char tag, uint64_t* number);

struct StreamDef {
  StreamSchema schema;
  RetentionPolicy retention;
  int64_t created_us = 0;
};
nlohmann::json SchemaToJson(const StreamSchema& schema);
// Errors name the key path ("fields[2].type").
Result<StreamSchema> SchemaFromJson(const nlohmann::json& json);
std::string EncodeStreamDef(const StreamDef& def);
Result<StreamDef> DecodeStreamDef(std::string_view value);

std::string EncodeDeadLetterRow(const DeadLetterRow& row);
Result<DeadLetterRow> DecodeDeadLetterRow(std::string_view value);

enum class JournalKind : uint8_t {
  kStreamDef = 1,
  kAppend = 2,
  kModelPut = 3,
  kModelMeta = 4,
  kAlias = 5,
};
struct JournalEntry {
  JournalKind kind = JournalKind::kAppend;
  std::string name;   // stream or model name
  std::string alias;  // kAlias
  uint64_t stream_id = 0;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  uint32_t version = 0;
  // The trailer (0 in entries that predate it).
  int64_t written_us = 0;
  uint64_t stamp = 0;
  uint64_t bytes = 0;
};
std::string EncodeJournalEntry(const JournalEntry& entry);
Status DecodeJournalEntry(std::string_view value, JournalEntry* entry);

// 32 hex digits from the OS's random source (store_replication.cc).
std::string NewHistoryId();
std::string EncodeHistory(const HistoryInfo& history);
Result<HistoryInfo> DecodeHistory(std::string_view value);

}  // namespace nemesyst::storage

#endif  // NEMESYST_STORAGE_META_FORMAT_H_
