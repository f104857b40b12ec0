#include "kernels/model_file.h"

#include "common/crc32c.h"

#include <array>
#include <bit>
#include <cstring>
#include <set>

namespace nemesyst::kernels {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the model file stores little-endian floats; add byte swapping for this host");

void PutU16(std::string* out, uint16_t v) { out->append(reinterpret_cast<const char*>(&v), 2); }
void PutU32(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }
void PutU64(std::string* out, uint64_t v) { out->append(reinterpret_cast<const char*>(&v), 8); }
size_t AlignUp(size_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

// Bounds-checked little-endian reader over the verified body of a file.
class Reader {
 public:
  Reader(std::string_view bytes, size_t pos, size_t end) : bytes_(bytes), pos_(pos), end_(end) {}
  template <typename T>
  bool Get(T* v) {
    if (end_ - pos_ < sizeof(T)) return false;
    std::memcpy(v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool GetBytes(size_t n, std::string* out) {
    if (end_ - pos_ < n) return false;
    out->assign(bytes_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view bytes_;
  size_t pos_, end_;
};

Status Corrupt(const std::string& what) { return Status::Corruption("model file: " + what); }

struct Header {
  uint32_t metadata_count = 0;
  uint32_t tensor_count = 0;
  size_t body_end = 0;  // start of the trailer
};

// Checks everything that can be checked before parsing: magic, version, size, checksum.
Result<Header> VerifyEnvelope(std::string_view bytes) {
  if (bytes.size() < sizeof(kModelFileMagic) ||
      std::memcmp(bytes.data(), kModelFileMagic, sizeof(kModelFileMagic)) != 0) {
    return Status::InvalidArgument("not a Nemesyst model file (bad magic)");
  }
  if (bytes.size() < kModelFileHeaderBytes + kModelFileTrailerBytes) {
    return Corrupt("truncated: " + std::to_string(bytes.size()) + " bytes is shorter than the " +
                   std::to_string(kModelFileHeaderBytes + kModelFileTrailerBytes) +
                   "-byte header and trailer");
  }
  uint32_t version, flags;
  uint64_t file_size;
  Header h;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&flags, bytes.data() + 12, 4);
  std::memcpy(&file_size, bytes.data() + 16, 8);
  std::memcpy(&h.metadata_count, bytes.data() + 24, 4);
  std::memcpy(&h.tensor_count, bytes.data() + 28, 4);
  if (version != kModelFileVersion) {
    return Status::Unimplemented("model file format version " + std::to_string(version) +
                                 " is not supported (this build reads version " +
                                 std::to_string(kModelFileVersion) + ")");
  }
  if (flags != 0)
    return Status::Unimplemented("model file has unknown flags " + std::to_string(flags));
  if (file_size != bytes.size()) {
    return Corrupt(
        (file_size > bytes.size() ? "truncated: header says " : "size mismatch: header says ") +
        std::to_string(file_size) + " bytes, got " + std::to_string(bytes.size()));
  }
  h.body_end = bytes.size() - kModelFileTrailerBytes;
  if (std::memcmp(bytes.data() + bytes.size() - 4, kModelFileEndMagic, 4) != 0) {
    return Corrupt("bad end marker");
  }
  uint32_t stored_crc;
  std::memcpy(&stored_crc, bytes.data() + h.body_end, 4);
  const uint32_t actual_crc = Crc32cExtend(0, bytes.data(), h.body_end);
  if (stored_crc != actual_crc) {
    return Corrupt("checksum mismatch (stored " + std::to_string(stored_crc) + ", computed " +
                   std::to_string(actual_crc) + "): the file is damaged");
  }
  if (h.metadata_count > kMaxMetadataEntries) return Corrupt("too many metadata entries");
  if (h.tensor_count > kMaxTensors) return Corrupt("too many tensors");
  return h;
}

Status ReadMetadata(Reader& r, uint32_t count, std::map<std::string, std::string>* out) {
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t key_len, value_len;
    std::string key, value;
    if (!r.Get(&key_len) || key_len == 0 || key_len > kMaxKeyBytes || !r.GetBytes(key_len, &key)) {
      return Corrupt("bad metadata key #" + std::to_string(i));
    }
    if (!r.Get(&value_len) || value_len > kMaxValueBytes || !r.GetBytes(value_len, &value)) {
      return Corrupt("bad metadata value for key '" + key + "'");
    }
    if (!out->emplace(std::move(key), std::move(value)).second) {
      return Corrupt("duplicate metadata key");
    }
  }
  return Status::OK();
}

}  // namespace

Result<std::string> EncodeModelFile(const std::map<std::string, std::string>& metadata,
                                    const std::vector<TensorView>& tensors) {
  if (metadata.size() > kMaxMetadataEntries)
    return Status::InvalidArgument("too many metadata entries");
  if (tensors.size() > kMaxTensors) return Status::InvalidArgument("too many tensors");
  std::string out(kModelFileHeaderBytes, '\0');
  for (const auto& [key, value] : metadata) {
    if (key.empty() || key.size() > kMaxKeyBytes) {
      return Status::InvalidArgument("metadata key '" + key + "' must be 1.." +
                                     std::to_string(kMaxKeyBytes) + " bytes");
    }
    if (value.size() > kMaxValueBytes) {
      return Status::InvalidArgument("metadata value for '" + key + "' exceeds 64 MiB");
    }
    PutU32(&out, static_cast<uint32_t>(key.size()));
    out += key;
    PutU32(&out, static_cast<uint32_t>(value.size()));
    out += value;
  }
  // Table size first, so data offsets are known while writing the table.
  size_t table_bytes = 0;
  std::set<std::string_view> names;
  for (const TensorView& t : tensors) {
    if (t.name.empty() || t.name.size() > kMaxKeyBytes || !names.insert(t.name).second) {
      return Status::InvalidArgument("tensor name '" + t.name + "' empty, too long or repeated");
    }
    if (t.shape.empty() || t.shape.size() > kMaxRank) {
      return Status::InvalidArgument("tensor '" + t.name + "' rank must be 1..8");
    }
    table_bytes += 2 + t.name.size() + 2 + 8 * t.shape.size() + 16;
  }
  size_t offset = AlignUp(out.size() + table_bytes);
  std::vector<size_t> sizes;
  for (const TensorView& t : tensors) {
    size_t count = 1;
    for (int64_t d : t.shape) {
      if (d < 0) return Status::InvalidArgument("tensor '" + t.name + "' has a negative dim");
      count *= static_cast<size_t>(d);
    }
    const size_t bytes = count * sizeof(float);
    PutU16(&out, static_cast<uint16_t>(t.name.size()));
    out += t.name;
    out.push_back(static_cast<char>(kDtypeFloat32));
    out.push_back(static_cast<char>(t.shape.size()));
    for (int64_t d : t.shape) PutU64(&out, static_cast<uint64_t>(d));
    PutU64(&out, offset);
    PutU64(&out, bytes);
    sizes.push_back(bytes);
    offset = AlignUp(offset + bytes);
  }
  for (size_t k = 0; k < tensors.size(); ++k) {
    out.resize(AlignUp(out.size()), '\0');
    out.append(reinterpret_cast<const char*>(tensors[k].data), sizes[k]);
  }
  const uint64_t file_size = out.size() + kModelFileTrailerBytes;
  const uint32_t version = kModelFileVersion, flags = 0;
  const auto metadata_count = static_cast<uint32_t>(metadata.size());
  const auto tensor_count = static_cast<uint32_t>(tensors.size());
  std::memcpy(out.data(), kModelFileMagic, 8);
  std::memcpy(out.data() + 8, &version, 4);
  std::memcpy(out.data() + 12, &flags, 4);
  std::memcpy(out.data() + 16, &file_size, 8);
  std::memcpy(out.data() + 24, &metadata_count, 4);
  std::memcpy(out.data() + 28, &tensor_count, 4);
  PutU32(&out, Crc32c(out));
  out.append(kModelFileEndMagic, 4);
  return out;
}

Result<std::map<std::string, std::string>> DecodeModelFileMetadata(std::string_view bytes) {
  NEMESYST_ASSIGN_OR_RETURN(Header h, VerifyEnvelope(bytes));
  Reader r(bytes, kModelFileHeaderBytes, h.body_end);
  std::map<std::string, std::string> metadata;
  NEMESYST_RETURN_IF_ERROR(ReadMetadata(r, h.metadata_count, &metadata));
  return metadata;
}

Result<ModelFileContents> DecodeModelFile(std::string_view bytes) {
  NEMESYST_ASSIGN_OR_RETURN(Header h, VerifyEnvelope(bytes));
  Reader r(bytes, kModelFileHeaderBytes, h.body_end);
  ModelFileContents contents;
  NEMESYST_RETURN_IF_ERROR(ReadMetadata(r, h.metadata_count, &contents.metadata));
  struct Entry {
    uint64_t offset, length;
  };
  std::vector<Entry> entries;
  std::set<std::string> names;
  for (uint32_t i = 0; i < h.tensor_count; ++i) {
    StoredTensor t;
    uint16_t name_len;
    uint8_t dtype, rank;
    if (!r.Get(&name_len) || name_len == 0 || name_len > kMaxKeyBytes ||
        !r.GetBytes(name_len, &t.name) || !r.Get(&dtype) || !r.Get(&rank)) {
      return Corrupt("bad tensor table entry #" + std::to_string(i));
    }
    if (dtype != kDtypeFloat32) return Corrupt("tensor '" + t.name + "' has unknown dtype");
    if (rank == 0 || rank > kMaxRank) return Corrupt("tensor '" + t.name + "' has bad rank");
    if (!names.insert(t.name).second) return Corrupt("tensor '" + t.name + "' is repeated");
    uint64_t count = 1;
    for (uint8_t d = 0; d < rank; ++d) {
      uint64_t dim;
      if (!r.Get(&dim) || dim > (uint64_t{1} << 40))
        return Corrupt("tensor '" + t.name + "' has a bad dim");
      if (dim != 0 && count > bytes.size() / dim) {
        return Corrupt("tensor '" + t.name + "' is larger than the file");
      }
      count *= dim;
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    Entry e;
    if (!r.Get(&e.offset) || !r.Get(&e.length))
      return Corrupt("bad tensor table entry #" + std::to_string(i));
    if (e.length != count * sizeof(float))
      return Corrupt("tensor '" + t.name + "' length does not match its shape");
    if (e.offset % kAlignment != 0)
      return Corrupt("tensor '" + t.name + "' is not 64-byte aligned");
    contents.tensors.push_back(std::move(t));
    entries.push_back(e);
  }
  // Data must follow the table, in order, without overlap, inside the body.
  uint64_t min_offset = r.pos();
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    StoredTensor& t = contents.tensors[i];
    if (e.offset < min_offset || e.offset > h.body_end || h.body_end - e.offset < e.length) {
      return Corrupt("tensor '" + t.name + "' data lies outside the file or overlaps");
    }
    t.values.resize(e.length / sizeof(float));
    // A tensor with a zero dim has no data (and values.data() may be null: no memcpy then).
    if (e.length > 0) std::memcpy(t.values.data(), bytes.data() + e.offset, e.length);
    min_offset = e.offset + e.length;
  }
  return contents;
}

}  // namespace nemesyst::kernels
