// Formats of the `models` column family (documented in docs/storage.md):
//   'n' name                                 -> last_version:u32 (LE): versions are never reused
//   'v' name 0x00 version:u32(BE)            -> model header: sealed JSON (see below)
//   'c' name 0x00 version:u32(BE) index:u32(BE) -> chunk: crc32c:u32 (LE) of data | data
//   'a' name 0x00 alias                      -> version:u32 (LE)
//
// Header JSON: {"kind", "hyper_parameters": {k: v}, "metrics": {k: x},
//   "epoch_metrics": [{"epoch": n, "metrics": {...}}], "lineage": {"stream", "seq_ranges":
//   [[first, last], ...], "pipeline_spec", "parent_version", "node_id", "code_version",
//   "created_us"}, "blob": {"bytes", "crc32c", "sha256", "chunk_bytes", "chunks"}, "retired": bool}
// Sealed = format:u8=1 | crc32c:u32 (LE) of the JSON text | JSON text.
//
// Thread-safety: pure functions.
#ifndef NEMESYST_STORAGE_MODEL_FORMAT_H_
#define NEMESYST_STORAGE_MODEL_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "nemesyst/status.h"
#include "nemesyst/store_types.h"

namespace nemesyst::storage {

constexpr char kModelCounterTag = 'n';
constexpr char kModelHeaderTag = 'v';
constexpr char kModelChunkTag = 'c';
constexpr char kModelAliasTag = 'a';

struct BlobLayout {
  uint64_t bytes = 0;
  uint32_t crc32c = 0;  // of the whole blob (kept for readers that predate sha256)
  std::string sha256;   // hex; empty in headers written before it was recorded
  uint32_t chunk_bytes = 0;
  uint32_t chunks = 0;
};

struct ModelHeader {
  ModelMetadata metadata;
  BlobLayout blob;
  bool retired = false;
};

std::string ModelCounterKey(std::string_view name);
std::string ModelHeaderKey(std::string_view name, uint32_t version);
std::string ModelHeaderPrefix(std::string_view name);  // 'v' name 0x00
std::string ModelChunkKey(std::string_view name, uint32_t version, uint32_t index);
std::string ModelChunkPrefix(std::string_view name, uint32_t version);
std::string ModelAliasKey(std::string_view name, std::string_view alias);
std::string ModelAliasPrefix(std::string_view name);
bool ParseModelHeaderKey(std::string_view key, std::string* name, uint32_t* version);

nlohmann::json MetadataToJson(const ModelMetadata& metadata);
// Errors name the key path ("lineage.seq_ranges[1]").
Result<ModelMetadata> MetadataFromJson(const nlohmann::json& json);

std::string EncodeModelHeader(const ModelHeader& header);
Result<ModelHeader> DecodeModelHeader(std::string_view value);

std::string EncodeChunk(std::string_view data);
// Verifies the chunk checksum; `data` views into `value`.
Status DecodeChunk(std::string_view value, std::string_view* data);

}  // namespace nemesyst::storage

#endif  // NEMESYST_STORAGE_MODEL_FORMAT_H_
