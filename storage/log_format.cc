#include "storage/log_format.h"

#include <cmath>
#include <cstring>
#include <set>

#include "common/coding.h"
#include "common/crc32c.h"

namespace nemesyst::storage {

uint64_t Hash64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string LogKey(char tag, uint64_t stream_id, uint64_t seq) {
  std::string key;
  key.reserve(kLogKeySize);
  key.push_back(tag);
  PutBigEndian64(&key, stream_id);
  PutBigEndian64(&key, seq);
  return key;
}

bool ParseLogKey(std::string_view key, char tag, uint64_t* stream_id, uint64_t* seq) {
  if (key.size() != kLogKeySize || key[0] != tag) return false;
  *stream_id = DecodeBigEndian64(key.data() + 1);
  *seq = DecodeBigEndian64(key.data() + 9);
  return true;
}

namespace {

size_t FieldWidth(FieldType type) { return type == FieldType::kFloat64 ? 8 : 4; }

std::string Where(int64_t record_index, const FieldSpec* field) {
  std::string where;
  if (record_index >= 0) where = "record " + std::to_string(record_index);
  if (field != nullptr)
    where += (where.empty() ? "" : ", ") + std::string("field '") + field->name + "'";
  return where;
}

}  // namespace

Status ValidateRecord(const StreamSchema& schema, const Record& record, int64_t record_index) {
  if (!DeviceIdProblem(record.device_id).empty()) {
    return Status::InvalidArgument(Where(record_index, nullptr) + (record_index >= 0 ? ": " : "") +
                                   "device id must be 1..256 bytes without NUL");
  }
  if (record.values.size() != schema.fields.size()) {
    return Status::InvalidArgument(Where(record_index, nullptr) + (record_index >= 0 ? ": " : "") +
                                   "expected " + std::to_string(schema.fields.size()) +
                                   " field values, got " + std::to_string(record.values.size()));
  }
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const FieldSpec& f = schema.fields[i];
    double v = record.values[i];
    auto fail = [&](const std::string& why) {
      return Status::InvalidArgument(Where(record_index, &f) + ": " + why);
    };
    if (!std::isfinite(v)) return fail("value is not finite");
    if (f.min_value && v < *f.min_value) {
      return fail("value " + std::to_string(v) + " below minimum " + std::to_string(*f.min_value));
    }
    if (f.max_value && v > *f.max_value) {
      return fail("value " + std::to_string(v) + " above maximum " + std::to_string(*f.max_value));
    }
    if (f.type == FieldType::kInt32 &&
        (v != std::floor(v) || v < -2147483648.0 || v > 2147483647.0)) {
      return fail("value " + std::to_string(v) + " is not a 32-bit integer");
    }
  }
  return Status::OK();
}

size_t FieldsBytes(const StreamSchema& schema) {
  size_t bytes = 0;
  for (const FieldSpec& f : schema.fields) bytes += FieldWidth(f.type);
  return bytes;
}

void EncodeFields(const StreamSchema& schema, const double* values, char* p) {
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const double v = values[i];
    switch (schema.fields[i].type) {
      case FieldType::kFloat32: {
        float f = static_cast<float>(v);
        std::memcpy(p, &f, 4);  // little-endian hosts (x86-64, aarch64)
        p += 4;
        break;
      }
      case FieldType::kFloat64:
        std::memcpy(p, &v, 8);
        p += 8;
        break;
      case FieldType::kInt32: {
        int32_t n = static_cast<int32_t>(v);
        std::memcpy(p, &n, 4);
        p += 4;
        break;
      }
    }
  }
}

void DecodeFields(const StreamSchema& schema, const char* p, double* values) {
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    switch (schema.fields[i].type) {
      case FieldType::kFloat32: {
        uint32_t bits = DecodeFixed32(p);
        float f;
        std::memcpy(&f, &bits, 4);
        values[i] = f;
        p += 4;
        break;
      }
      case FieldType::kFloat64: {
        uint64_t bits = DecodeFixed64(p);
        std::memcpy(&values[i], &bits, 8);
        p += 8;
        break;
      }
      case FieldType::kInt32:
        values[i] = static_cast<int32_t>(DecodeFixed32(p));
        p += 4;
        break;
    }
  }
}

void EncodeRecord(const StreamSchema& schema, const Record& record, std::string* out) {
  const size_t start = out->size();
  const size_t fields_bytes = FieldsBytes(schema);
  std::string header;
  header.push_back(static_cast<char>(kRecordFormatV1));
  PutLengthPrefixed(&header, record.device_id);
  PutFixed64(&header, static_cast<uint64_t>(record.timestamp_us));
  PutVarint64(&header, schema.fields.size());
  out->resize(start + header.size() + fields_bytes + 4);
  char* p = out->data() + start;
  std::memcpy(p, header.data(), header.size());
  p += header.size();
  EncodeFields(schema, record.values.data(), p);
  p += fields_bytes;
  const size_t body = static_cast<size_t>(p - (out->data() + start));
  uint32_t crc = Crc32cExtend(0, out->data() + start, body);
  for (int b = 0; b < 4; ++b) p[b] = static_cast<char>(crc >> (8 * b));
}

Status DecodeRecord(const StreamSchema& schema, std::string_view value, Record* record) {
  if (value.size() < 5) return Status::Corruption("record value truncated");
  uint32_t stored_crc = DecodeFixed32(value.data() + value.size() - 4);
  std::string_view body = value.substr(0, value.size() - 4);
  if (Crc32c(body) != stored_crc) return Status::Corruption("record checksum mismatch");
  Reader r(body);
  uint8_t format = 0;
  std::string_view device;
  uint64_t ts = 0, count = 0;
  if (!r.GetByte(&format)) return Status::Corruption("record value truncated");
  if (format != kRecordFormatV1) {
    return Status::Corruption("unknown record format " + std::to_string(format));
  }
  if (!r.GetLengthPrefixed(&device) || !r.GetFixed64(&ts) || !r.GetVarint64(&count)) {
    return Status::Corruption("record header truncated");
  }
  if (count != schema.fields.size()) {
    return Status::Corruption("record has " + std::to_string(count) + " fields, schema " +
                              std::to_string(schema.fields.size()));
  }
  record->device_id.assign(device);
  record->timestamp_us = static_cast<int64_t>(ts);
  record->values.resize(count);
  std::string_view fields;
  if (!r.GetBytes(FieldsBytes(schema), &fields)) {
    return Status::Corruption("record fields truncated");
  }
  DecodeFields(schema, fields.data(), record->values.data());
  if (!r.empty()) return Status::Corruption("record has trailing bytes");
  return Status::OK();
}

namespace {
void BloomProbes(std::string_view device_id, uint32_t* a, uint32_t* b) {
  uint64_t h = Hash64(device_id);
  *a = static_cast<uint32_t>(h % (kBloomBytes * 8));
  *b = static_cast<uint32_t>((h >> 32) % (kBloomBytes * 8));
}
}  // namespace

void BatchSummary::AddDevice(std::string_view device_id) {
  uint32_t a, b;
  BloomProbes(device_id, &a, &b);
  device_bloom[a / 8] |= static_cast<uint8_t>(1u << (a % 8));
  device_bloom[b / 8] |= static_cast<uint8_t>(1u << (b % 8));
}

bool BatchSummary::MayContainDevice(std::string_view device_id) const {
  uint32_t a, b;
  BloomProbes(device_id, &a, &b);
  return (device_bloom[a / 8] & (1u << (a % 8))) && (device_bloom[b / 8] & (1u << (b % 8)));
}

std::string EncodeSummary(const BatchSummary& s) {
  std::string out;
  out.push_back(static_cast<char>(kSummaryFormatV1));
  PutFixed64(&out, s.last_seq);
  PutFixed64(&out, static_cast<uint64_t>(s.min_timestamp_us));
  PutFixed64(&out, static_cast<uint64_t>(s.max_timestamp_us));
  out.append(reinterpret_cast<const char*>(s.device_bloom.data()), kBloomBytes);
  PutFixed32(&out, Crc32c(out));
  return out;
}

Status DecodeSummary(std::string_view value, BatchSummary* s) {
  constexpr size_t kSize = 1 + 8 * 3 + kBloomBytes + 4;
  if (value.size() != kSize) return Status::Corruption("batch summary has the wrong size");
  if (Crc32c(value.substr(0, kSize - 4)) != DecodeFixed32(value.data() + kSize - 4)) {
    return Status::Corruption("batch summary checksum mismatch");
  }
  if (static_cast<uint8_t>(value[0]) != kSummaryFormatV1) {
    return Status::Corruption("unknown batch summary format");
  }
  s->last_seq = DecodeFixed64(value.data() + 1);
  s->min_timestamp_us = static_cast<int64_t>(DecodeFixed64(value.data() + 9));
  s->max_timestamp_us = static_cast<int64_t>(DecodeFixed64(value.data() + 17));
  std::memcpy(s->device_bloom.data(), value.data() + 25, kBloomBytes);
  return Status::OK();
}

Status ValidateName(std::string_view what, std::string_view name) {
  if (name.empty() || name.size() > 128) {
    return Status::InvalidArgument(std::string(what) + " name must be 1..128 characters");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-' || c == '/';
    if (!ok) {
      return Status::InvalidArgument(std::string(what) + " name '" + std::string(name) +
                                     "' may only contain [A-Za-z0-9_.-/]");
    }
  }
  return Status::OK();
}

Status ValidateSchema(const StreamSchema& schema) {
  if (schema.fields.empty()) return Status::InvalidArgument("schema has no fields");
  if (schema.fields.size() > 4096) return Status::InvalidArgument("schema has over 4096 fields");
  std::set<std::string_view> seen;
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const FieldSpec& f = schema.fields[i];
    std::string where = "schema field " + std::to_string(i) + " '" + f.name + "'";
    if (f.name.empty() || f.name.size() > 64) {
      return Status::InvalidArgument(where + ": name must be 1..64 characters");
    }
    for (char c : f.name) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '.' || c == '-';
      if (!ok) return Status::InvalidArgument(where + ": name may only contain [A-Za-z0-9_.-]");
    }
    if (!seen.insert(f.name).second) return Status::InvalidArgument(where + ": duplicate name");
    if (f.type != FieldType::kFloat32 && f.type != FieldType::kFloat64 &&
        f.type != FieldType::kInt32) {
      return Status::InvalidArgument(where + ": unknown type");
    }
    if ((f.min_value && !std::isfinite(*f.min_value)) ||
        (f.max_value && !std::isfinite(*f.max_value))) {
      return Status::InvalidArgument(where + ": range bounds must be finite");
    }
    if (f.min_value && f.max_value && *f.min_value > *f.max_value) {
      return Status::InvalidArgument(where + ": min > max");
    }
  }
  return Status::OK();
}

}  // namespace nemesyst::storage
