#include "storage/log_chunk.h"

#include <cstring>

#include "common/crc32c.h"
#include "storage/log_format.h"

namespace nemesyst::storage {

ChunkBuilder::ChunkBuilder(const StreamSchema& schema, uint32_t max_records,
                           size_t expected_records)
    : schema_(schema), max_records_(max_records), fields_bytes_(FieldsBytes(schema)) {
  for (const FieldSpec& f : schema.fields) all_float32_ &= f.type == FieldType::kFloat32;
  out_.reserve(expected_records * (fields_bytes_ + 32) + 64);
  chunks_.reserve(expected_records / max_records + 1);
}

size_t ChunkBuilder::Add(const Record& record) {
  if (open_ && (chunk_count_ == max_records_ || out_.size() - chunk_begin_ >= kChunkTargetBytes)) {
    Close();
  }
  if (!open_) {
    open_ = true;
    chunk_begin_ = out_.size();
    chunk_count_ = 0;
    const uint16_t field_count = static_cast<uint16_t>(schema_.fields.size());
    char header[kChunkHeaderBytes] = {static_cast<char>(kChunkFormatV2), 0, 0,
                                      static_cast<char>(field_count & 0xff),
                                      static_cast<char>(field_count >> 8)};
    out_.append(header, kChunkHeaderBytes);  // count is patched in by Close()
  }
  // Sized once and written in place: an append encodes up to 100 000 records.
  const std::string& device = record.device_id;
  const size_t start = out_.size();
  size_t varint_bytes = 1;
  for (size_t n = device.size(); n >= 0x80; n >>= 7) ++varint_bytes;
  const size_t body = varint_bytes + device.size() + 8 + fields_bytes_;
  out_.resize(start + body);
  char* p = out_.data() + start;
  size_t n = device.size();
  for (; n >= 0x80; n >>= 7) *p++ = static_cast<char>((n & 0x7f) | 0x80);
  *p++ = static_cast<char>(n);
  std::memcpy(p, device.data(), device.size());
  p += device.size();
  const uint64_t ts = static_cast<uint64_t>(record.timestamp_us);
  std::memcpy(p, &ts, 8);  // little-endian hosts (x86-64, aarch64)
  p += 8;
  if (all_float32_) {
    for (size_t i = 0; i < schema_.fields.size(); ++i) {
      const float f = static_cast<float>(record.values[i]);
      std::memcpy(p + 4 * i, &f, 4);
    }
  } else {
    EncodeFields(schema_, record.values.data(), p);
  }
  ++chunk_count_;
  ++next_index_;
  return body;
}

void ChunkBuilder::Close() {
  if (!open_) return;
  char* header = out_.data() + chunk_begin_;
  header[1] = static_cast<char>(chunk_count_ & 0xff);
  header[2] = static_cast<char>(chunk_count_ >> 8);
  PutFixed32(&out_, Crc32cExtend(0, out_.data() + chunk_begin_, out_.size() - chunk_begin_));
  chunks_.push_back({chunk_begin_, out_.size(), next_index_ - 1});
  open_ = false;
}

void ChunkBuilder::Finish() { Close(); }

Status ChunkReader::Open(const StreamSchema& schema, std::string_view value, uint64_t last_seq) {
  schema_ = &schema;
  value_ = value;
  last_seq_ = last_seq;
  left_ = 0;
  if (!value.empty() && static_cast<uint8_t>(value[0]) == kRecordFormatV1) {
    // One record (stores written before chunks); DecodeRecord checks it in Next().
    v1_ = true;
    count_ = 1;
  } else {
    v1_ = false;
    if (value.size() < kChunkHeaderBytes + 4) return Status::Corruption("record chunk truncated");
    const uint32_t stored_crc = DecodeFixed32(value.data() + value.size() - 4);
    if (Crc32cExtend(0, value.data(), value.size() - 4) != stored_crc) {
      return Status::Corruption("record chunk checksum mismatch");
    }
    if (static_cast<uint8_t>(value[0]) != kChunkFormatV2) {
      return Status::Corruption("unknown record format " +
                                std::to_string(static_cast<uint8_t>(value[0])));
    }
    count_ = static_cast<uint8_t>(value[1]) | static_cast<uint32_t>(static_cast<uint8_t>(value[2]))
                                                  << 8;
    const uint32_t fields =
        static_cast<uint8_t>(value[3]) | static_cast<uint32_t>(static_cast<uint8_t>(value[4])) << 8;
    if (count_ == 0) return Status::Corruption("record chunk holds no records");
    if (fields != schema.fields.size()) {
      return Status::Corruption("record chunk has " + std::to_string(fields) + " fields, schema " +
                                std::to_string(schema.fields.size()));
    }
    body_ = Reader(value.substr(kChunkHeaderBytes, value.size() - kChunkHeaderBytes - 4));
    fields_bytes_ = FieldsBytes(schema);
  }
  if (count_ > last_seq) return Status::Corruption("record chunk holds more records than its seq");
  next_seq_ = last_seq - count_ + 1;
  left_ = count_;
  return Status::OK();
}

Status ChunkReader::Next(Record* record) {
  if (v1_) {
    NEMESYST_RETURN_IF_ERROR(DecodeRecord(*schema_, value_, record));
    ++next_seq_;
    --left_;
    return Status::OK();
  }
  std::string_view device, fields;
  uint64_t ts = 0;
  if (!body_.GetLengthPrefixed(&device) || !body_.GetFixed64(&ts) ||
      !body_.GetBytes(fields_bytes_, &fields)) {
    return Status::Corruption("record chunk truncated at its record " +
                              std::to_string(next_seq_ - first_seq()));
  }
  record->device_id.assign(device);
  record->timestamp_us = static_cast<int64_t>(ts);
  record->values.resize(schema_->fields.size());
  DecodeFields(*schema_, fields.data(), record->values.data());
  ++next_seq_;
  --left_;
  if (done() && !body_.empty()) return Status::Corruption("record chunk has trailing bytes");
  return Status::OK();
}

Status ChunkReader::Skip() {
  if (v1_) {
    ++next_seq_;
    --left_;
    return Status::OK();
  }
  std::string_view device, rest;
  if (!body_.GetLengthPrefixed(&device) || !body_.GetBytes(8 + fields_bytes_, &rest)) {
    return Status::Corruption("record chunk truncated at its record " +
                              std::to_string(next_seq_ - first_seq()));
  }
  ++next_seq_;
  --left_;
  if (done() && !body_.empty()) return Status::Corruption("record chunk has trailing bytes");
  return Status::OK();
}

Result<std::string> TrimChunk(const StreamSchema& schema, ChunkReader& reader, uint64_t from) {
  Record record;
  while (!reader.done() && reader.next_seq() < from) NEMESYST_RETURN_IF_ERROR(reader.Skip());
  ChunkBuilder builder(schema, kMaxChunkRecords, reader.last_seq() - from + 1);
  while (!reader.done()) {
    NEMESYST_RETURN_IF_ERROR(reader.Next(&record));
    builder.Add(record);
  }
  builder.Finish();
  if (builder.chunks().size() != 1) return Status::Internal("trimmed chunk does not fit one chunk");
  return builder.out();
}

}  // namespace nemesyst::storage
