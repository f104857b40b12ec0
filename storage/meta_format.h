// Formats of the `meta` column family (documented in docs/storage.md):
//   'S' name                -> stream definition: sealed JSON {schema, retention, created_us}
//   'D' stream_id:u64(BE)   -> deleted_through_seq:u64 (LE): retention's floor, keeps seq numbers
//                              from being reused after a whole stream was deleted
//   'J' position:u64(BE)    -> change-journal descriptor (below)
//   'X' id:u64(BE)          -> dead-letter row: sealed JSON {stream, source, reason, raw,
//   received_us}
//
// A "sealed" value is  format:u8 = 1 | crc32c:u32 (LE) of the JSON text | JSON text.
//
// Journal descriptor:  kind:u8 | then by kind:
//   kStreamDef:  name (length-prefixed)
//   kAppend:     stream_id:u64 first_seq:u64 last_seq:u64 (LE)
//   kModelPut / kModelMeta: name (length-prefixed) version:u32
//   kAlias:      name, alias (length-prefixed)
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
};
std::string EncodeJournalEntry(const JournalEntry& entry);
Status DecodeJournalEntry(std::string_view value, JournalEntry* entry);

}  // namespace nemesyst::storage

#endif  // NEMESYST_STORAGE_META_FORMAT_H_
