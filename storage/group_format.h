// Formats of the `groups` column family (documented in docs/storage.md). Integers little-endian
// in values, big-endian in keys; every value ends with crc32c:u32 of the bytes before it.
//
//   'g' group                     -> group:  format:u8=1 | stream (length-prefixed) |
//                                    cursor:u64 | next_batch_id:u64 | acked_total:u64 |
//                                    redeliveries_total:u64 | created_us:i64 | crc
//   'b' group 0x00 batch_id:u64   -> batch:  format:u8=1 | first_seq:u64 | last_seq:u64 |
//                                    state:u8 (1 leased, 2 pending, 3 dead) | delivery:u32 |
//                                    lease_expires_ms:i64 | member (length-prefixed) | crc
// An acknowledged batch has no key: the group's progress is its cursor plus its outstanding
// batches, so committed_seq = min(first_seq of outstanding batches, cursor) - 1.
//
// Thread-safety: pure functions.
#ifndef NEMESYST_STORAGE_GROUP_FORMAT_H_
#define NEMESYST_STORAGE_GROUP_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "nemesyst/status.h"
#include "nemesyst/store_types.h"

namespace nemesyst::storage {

constexpr char kGroupKeyTag = 'g';
constexpr char kBatchKeyTag = 'b';

struct GroupRecord {
  std::string stream;
  uint64_t cursor = 1;
  uint64_t next_batch_id = 1;
  uint64_t acked_total = 0;
  uint64_t redeliveries_total = 0;
  int64_t created_us = 0;
};

enum class BatchState : uint8_t { kLeased = 1, kPending = 2, kDead = 3 };

struct BatchRecord {
  SeqRange range;
  BatchState state = BatchState::kLeased;
  uint32_t delivery = 1;
  int64_t lease_expires_ms = 0;
  std::string member;
};

std::string GroupKey(std::string_view group);
std::string BatchKey(std::string_view group, uint64_t batch_id);
std::string BatchKeyPrefix(std::string_view group);  // 'b' group 0x00
bool ParseBatchKey(std::string_view key, std::string_view group, uint64_t* batch_id);

std::string EncodeGroupRecord(const GroupRecord& group);
Status DecodeGroupRecord(std::string_view value, GroupRecord* group);
std::string EncodeBatchRecord(const BatchRecord& batch);
Status DecodeBatchRecord(std::string_view value, BatchRecord* batch);

}  // namespace nemesyst::storage

#endif  // NEMESYST_STORAGE_GROUP_FORMAT_H_
