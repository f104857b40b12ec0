// Record chunks: several consecutive records of one append stored under one key of the `log`
// column family. Documented in docs/storage.md ("log").
//
// Why: RocksDB's cost per key (WriteBatch entry, memtable skip-list insert with its key
// comparisons, index and flush work) was most of an append's time with one key per record (see
// docs/bench/storage.md). A chunk of up to `max_records` records (default 64, ~4 KiB for the
// simulator's rows) pays it once.
//
// Key: 'r' stream_id:u64 last_seq:u64 — the seq of the chunk's LAST record, so Seek(first wanted
// seq) lands on the chunk that holds it. A chunk never spans two appends, so an append [f, l] is
// exactly the chunk keys in [f, l], and its records are contiguous.
//
// Value, format 2 (integers little-endian):
//   format:u8 = 2 | count:u16 (>= 1) | field_count:u16 |
//   count x { device_len:varint | device bytes | timestamp_us:i64 | fields (as in format 1) } |
//   crc32c:u32 of every byte before it
// The chunk holds seqs last_seq - count + 1 .. last_seq. A format-1 value (one record, see
// log_format.h) under a record key is read as a chunk of one, so stores written before chunks
// read unchanged.
//
// Thread-safety: a ChunkBuilder or ChunkReader is used by one thread.
#ifndef NEMESYST_STORAGE_LOG_CHUNK_H_
#define NEMESYST_STORAGE_LOG_CHUNK_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/coding.h"
#include "nemesyst/status.h"
#include "nemesyst/store_types.h"

namespace nemesyst::storage {

constexpr uint8_t kChunkFormatV2 = 2;
constexpr size_t kChunkHeaderBytes = 5;
constexpr uint32_t kMaxChunkRecords = 4096;
// A chunk is closed once its bytes reach this (or it holds max_records records).
constexpr size_t kChunkTargetBytes = 16 * 1024;

// Encodes the records of one append into consecutive chunks in one buffer.
class ChunkBuilder {
 public:
  struct Chunk {
    size_t begin = 0;  // byte range of the value in out()
    size_t end = 0;
    uint32_t last_index = 0;  // index, in the append, of the chunk's last record
  };

  // `max_records` in 1..kMaxChunkRecords. `expected_records` sizes the buffer.
  ChunkBuilder(const StreamSchema& schema, uint32_t max_records, size_t expected_records);

  // Encodes a validated record (the caller checks the schema first); returns the bytes its body
  // takes, which the caller compares with its per-record limit.
  size_t Add(const Record& record);
  // Closes the open chunk. Call once after the last Add.
  void Finish();

  const std::string& out() const { return out_; }
  const std::vector<Chunk>& chunks() const { return chunks_; }

 private:
  void Close();

  const StreamSchema& schema_;
  const uint32_t max_records_;
  size_t fields_bytes_ = 0;  // encoded bytes of one record's fields
  bool all_float32_ = true;
  std::string out_;
  std::vector<Chunk> chunks_;
  bool open_ = false;
  size_t chunk_begin_ = 0;
  uint32_t chunk_count_ = 0;
  uint32_t next_index_ = 0;
};

// Reads the records of one stored value (a format-2 chunk or a format-1 record).
class ChunkReader {
 public:
  // Checks the checksum and header of `value`, stored under the key whose seq is `last_seq`.
  // `value` must stay valid while the reader is used. Corruption names what is wrong.
  Status Open(const StreamSchema& schema, std::string_view value, uint64_t last_seq);

  uint64_t first_seq() const { return last_seq_ - count_ + 1; }
  uint64_t last_seq() const { return last_seq_; }
  uint32_t count() const { return count_; }
  bool done() const { return left_ == 0; }
  uint64_t next_seq() const { return next_seq_; }  // seq of the record Next() decodes
  // Decodes the next record (only when !done()); Corruption if its bytes are malformed.
  Status Next(Record* record);
  // Moves past the next record without decoding it (only when !done()).
  Status Skip();

 private:
  const StreamSchema* schema_ = nullptr;
  std::string_view value_;  // format 1: the whole value, decoded by DecodeRecord
  Reader body_{std::string_view()};
  size_t fields_bytes_ = 0;
  bool v1_ = false;
  uint32_t count_ = 0;
  uint32_t left_ = 0;  // records not yet decoded or skipped (not next_seq_ > last_seq_: the seq
                       // after a chunk ending at 2^64 - 1 wraps to 0)
  uint64_t last_seq_ = 0;
  uint64_t next_seq_ = 1;
};

// Re-encodes the records of `reader` from seq `from` on as one chunk (retention trims the chunk
// that straddles its cut). Requires reader.first_seq() < from <= reader.last_seq() and a freshly
// opened reader.
Result<std::string> TrimChunk(const StreamSchema& schema, ChunkReader& reader, uint64_t from);

}  // namespace nemesyst::storage

#endif  // NEMESYST_STORAGE_LOG_CHUNK_H_
