#include "storage/change_format.h"

#include "common/coding.h"
#include "common/crc32c.h"

namespace nemesyst::storage {

constexpr std::string_view kChangeMagic = "NCH1";

std::string EncodeChange(const DecodedChange& change) {
  std::string out(kChangeMagic);
  PutFixed64(&out, change.position);
  PutLengthPrefixed(&out, change.descriptor);
  PutVarint64(&out, change.ops.size());
  for (const ChangeOp& op : change.ops) {
    out.push_back(static_cast<char>(op.cf));
    out.push_back(static_cast<char>(op.kind));
    PutLengthPrefixed(&out, op.key);
    if (op.kind == ChangeOpKind::kPut) PutLengthPrefixed(&out, op.value);
  }
  PutFixed32(&out, Crc32c(out));
  return out;
}

Status DecodeChange(std::string_view bytes, DecodedChange* change) {
  if (bytes.size() < kChangeMagic.size() + 8 + 4 || bytes.substr(0, 4) != kChangeMagic) {
    return Status::Corruption("change: bad magic or truncated");
  }
  std::string_view body = bytes.substr(0, bytes.size() - 4);
  if (Crc32c(body) != DecodeFixed32(bytes.data() + bytes.size() - 4)) {
    return Status::Corruption("change: checksum mismatch");
  }
  Reader r(body.substr(4));
  std::string_view descriptor;
  uint64_t count = 0;
  if (!r.GetFixed64(&change->position) || !r.GetLengthPrefixed(&descriptor) ||
      !r.GetVarint64(&count)) {
    return Status::Corruption("change: header truncated");
  }
  change->descriptor.assign(descriptor);
  change->ops.clear();
  for (uint64_t i = 0; i < count; ++i) {
    uint8_t cf = 0, kind = 0;
    std::string_view key, value;
    if (!r.GetByte(&cf) || !r.GetByte(&kind) || !r.GetLengthPrefixed(&key)) {
      return Status::Corruption("change: op " + std::to_string(i) + " truncated");
    }
    if (cf != 1 && cf != 3 && cf != 4) {
      return Status::Corruption("change: op " + std::to_string(i) + " has unknown column family");
    }
    if (kind == static_cast<uint8_t>(ChangeOpKind::kPut)) {
      if (!r.GetLengthPrefixed(&value)) {
        return Status::Corruption("change: op " + std::to_string(i) + " value truncated");
      }
    } else if (kind != static_cast<uint8_t>(ChangeOpKind::kDelete)) {
      return Status::Corruption("change: op " + std::to_string(i) + " has unknown kind");
    }
    change->ops.push_back({static_cast<ChangeCf>(cf), static_cast<ChangeOpKind>(kind),
                           std::string(key), std::string(value)});
  }
  if (!r.empty()) return Status::Corruption("change: trailing bytes");
  return Status::OK();
}

}  // namespace nemesyst::storage
