// The Nemesyst model file: a versioned, checksummed, self-describing container of key/value
// metadata and named float32 tensors. Nothing in it is executed: the model is rebuilt from the
// spec (metadata "nemesyst.spec", parsed and validated like any user spec) and the tensors are
// checked name by name and shape by shape against it. Documented in docs/model-format.md.
//
// Format version 1, all integers little-endian:
//
//   offset  size  field
//   0       8     magic "NMSYMODL"
//   8       4     u32 format version = 1
//   12      4     u32 flags = 0 (reserved; a reader refuses unknown flags)
//   16      8     u64 file size in bytes, trailer included (detects truncation up front)
//   24      4     u32 metadata entry count      (<= kMaxMetadataEntries)
//   28      4     u32 tensor count              (<= kMaxTensors)
//   32      ...   metadata entries, sorted by key, keys unique:
//                   u32 key length (1..kMaxKeyBytes), key bytes (UTF-8),
//                   u32 value length (<= kMaxValueBytes), value bytes
//   ...     ...   tensor table, one entry per tensor, names unique:
//                   u16 name length (1..kMaxKeyBytes), name bytes,
//                   u8 dtype (1 = float32), u8 rank (1..kMaxRank), u64 dims[rank],
//                   u64 data offset (from file start, a multiple of kAlignment),
//                   u64 data length in bytes (= 4 × product of dims)
//   ...     ...   zero padding up to a multiple of kAlignment (64)
//   data    ...   tensor data in table order, each starting on a kAlignment boundary,
//                 zero padding between; float32 little-endian, row-major
//   end-8   4     u32 CRC32C (Castagnoli, as iSCSI/ext4) of bytes [0, end-8)
//   end-4   4     end magic "MEND"
//
// Readers check, in order: minimum size and magic (else InvalidArgument "not a model file"),
// version and flags (Unimplemented for newer versions), declared size vs actual (Corruption
// "truncated"), end magic and CRC32C (Corruption), then every length, count, offset and
// overlap while parsing (Corruption). Keys starting with "nemesyst." are reserved for the
// library; callers' metadata (pipeline, normalisation statistics, lineage) uses other keys.
#ifndef NEMESYST_KERNELS_MODEL_FILE_H_
#define NEMESYST_KERNELS_MODEL_FILE_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/status.h"

namespace nemesyst::kernels {

inline constexpr char kModelFileMagic[8] = {'N', 'M', 'S', 'Y', 'M', 'O', 'D', 'L'};
inline constexpr char kModelFileEndMagic[4] = {'M', 'E', 'N', 'D'};
inline constexpr uint32_t kModelFileVersion = 1;
inline constexpr size_t kModelFileHeaderBytes = 32;
inline constexpr size_t kModelFileTrailerBytes = 8;
inline constexpr size_t kAlignment = 64;
inline constexpr uint8_t kDtypeFloat32 = 1;
inline constexpr uint32_t kMaxMetadataEntries = 4096;
inline constexpr uint32_t kMaxTensors = 65536;
inline constexpr uint32_t kMaxKeyBytes = 256;
inline constexpr uint32_t kMaxValueBytes = 64u << 20;
inline constexpr uint8_t kMaxRank = 8;

struct TensorView {  // for writing
  std::string name;
  std::vector<int64_t> shape;
  const float* data = nullptr;
};

struct StoredTensor {  // as read
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

struct ModelFileContents {
  std::map<std::string, std::string> metadata;
  std::vector<StoredTensor> tensors;
};

// Metadata keys must be 1..kMaxKeyBytes bytes, values <= kMaxValueBytes; tensor names unique.
Result<std::string> EncodeModelFile(const std::map<std::string, std::string>& metadata,
                                    const std::vector<TensorView>& tensors);
Result<ModelFileContents> DecodeModelFile(std::string_view bytes);
// Only the metadata (still verifies size and checksum).
Result<std::map<std::string, std::string>> DecodeModelFileMetadata(std::string_view bytes);

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_MODEL_FILE_H_
