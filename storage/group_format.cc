#include "storage/group_format.h"

#include "common/coding.h"
#include "common/crc32c.h"

namespace nemesyst::storage {
namespace {

void Seal(std::string* out) { PutFixed32(out, Crc32c(*out)); }

// Verifies the trailing checksum and returns the body without it.
Status Unseal(std::string_view value, std::string_view what, std::string_view* body) {
  if (value.size() < 5) return Status::Corruption(std::string(what) + " value truncated");
  *body = value.substr(0, value.size() - 4);
  if (Crc32c(*body) != DecodeFixed32(value.data() + value.size() - 4)) {
    return Status::Corruption(std::string(what) + " checksum mismatch");
  }
  if ((*body)[0] != 1) return Status::Corruption(std::string(what) + " has an unknown format");
  body->remove_prefix(1);
  return Status::OK();
}

}  // namespace

std::string GroupKey(std::string_view group) {
  std::string key(1, kGroupKeyTag);
  key += group;
  return key;
}

std::string BatchKeyPrefix(std::string_view group) {
  std::string key(1, kBatchKeyTag);
  key += group;
  key.push_back('\0');
  return key;
}

std::string BatchKey(std::string_view group, uint64_t batch_id) {
  std::string key = BatchKeyPrefix(group);
  PutBigEndian64(&key, batch_id);
  return key;
}

bool ParseBatchKey(std::string_view key, std::string_view group, uint64_t* batch_id) {
  std::string prefix = BatchKeyPrefix(group);
  if (key.size() != prefix.size() + 8 || key.substr(0, prefix.size()) != prefix) return false;
  *batch_id = DecodeBigEndian64(key.data() + prefix.size());
  return true;
}

std::string EncodeGroupRecord(const GroupRecord& g) {
  std::string out(1, '\1');
  PutLengthPrefixed(&out, g.stream);
  PutFixed64(&out, g.cursor);
  PutFixed64(&out, g.next_batch_id);
  PutFixed64(&out, g.acked_total);
  PutFixed64(&out, g.redeliveries_total);
  PutFixed64(&out, static_cast<uint64_t>(g.created_us));
  Seal(&out);
  return out;
}

Status DecodeGroupRecord(std::string_view value, GroupRecord* g) {
  std::string_view body;
  NEMESYST_RETURN_IF_ERROR(Unseal(value, "group", &body));
  Reader r(body);
  std::string_view stream;
  uint64_t created = 0;
  if (!r.GetLengthPrefixed(&stream) || !r.GetFixed64(&g->cursor) ||
      !r.GetFixed64(&g->next_batch_id) || !r.GetFixed64(&g->acked_total) ||
      !r.GetFixed64(&g->redeliveries_total) || !r.GetFixed64(&created) || !r.empty()) {
    return Status::Corruption("group value malformed");
  }
  g->stream.assign(stream);
  g->created_us = static_cast<int64_t>(created);
  return Status::OK();
}

std::string EncodeBatchRecord(const BatchRecord& b) {
  std::string out(1, '\1');
  PutFixed64(&out, b.range.first);
  PutFixed64(&out, b.range.last);
  out.push_back(static_cast<char>(b.state));
  PutFixed32(&out, b.delivery);
  PutFixed64(&out, static_cast<uint64_t>(b.lease_expires_ms));
  PutLengthPrefixed(&out, b.member);
  Seal(&out);
  return out;
}

Status DecodeBatchRecord(std::string_view value, BatchRecord* b) {
  std::string_view body;
  NEMESYST_RETURN_IF_ERROR(Unseal(value, "group batch", &body));
  Reader r(body);
  uint8_t state = 0;
  uint64_t expires = 0;
  std::string_view member;
  if (!r.GetFixed64(&b->range.first) || !r.GetFixed64(&b->range.last) || !r.GetByte(&state) ||
      !r.GetFixed32(&b->delivery) || !r.GetFixed64(&expires) || !r.GetLengthPrefixed(&member) ||
      !r.empty()) {
    return Status::Corruption("group batch value malformed");
  }
  if (state < 1 || state > 3) return Status::Corruption("group batch has an unknown state");
  if (b->range.first == 0 || b->range.last < b->range.first) {
    return Status::Corruption("group batch has an empty range");
  }
  b->state = static_cast<BatchState>(state);
  b->lease_expires_ms = static_cast<int64_t>(expires);
  b->member.assign(member);
  return Status::OK();
}

}  // namespace nemesyst::storage
