// The self-contained change that Store::ReadChanges hands to replication and Store::ApplyChange
// writes on another node (documented in docs/storage.md, "Replication"):
//
//   magic "NCH1" | position:u64 | descriptor (length-prefixed journal entry, meta_format.h) |
//   op_count:varint | op_count x { cf:u8 (1 log, 3 models, 4 meta) | op:u8 (1 put, 2 delete) |
//   key (length-prefixed) | value (length-prefixed, puts only) } | crc32c:u32 of all before
// Integers little-endian. Keys are the deterministic keys of the source store, so applying a
// change twice writes the same bytes again.
//
// Thread-safety: pure functions.
#ifndef NEMESYST_STORAGE_CHANGE_FORMAT_H_
#define NEMESYST_STORAGE_CHANGE_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/status.h"

namespace nemesyst::storage {

enum class ChangeCf : uint8_t { kLog = 1, kModels = 3, kMeta = 4 };
enum class ChangeOpKind : uint8_t { kPut = 1, kDelete = 2 };

struct ChangeOp {
  ChangeCf cf = ChangeCf::kLog;
  ChangeOpKind kind = ChangeOpKind::kPut;
  std::string key;
  std::string value;
};

struct DecodedChange {
  uint64_t position = 0;
  std::string descriptor;
  std::vector<ChangeOp> ops;
};

std::string EncodeChange(const DecodedChange& change);
Status DecodeChange(std::string_view bytes, DecodedChange* change);

}  // namespace nemesyst::storage

#endif  // NEMESYST_STORAGE_CHANGE_FORMAT_H_
