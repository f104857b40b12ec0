// libFuzzer harness: the decoders of the store's own values (storage/*_format.h, log_chunk.h) —
// what a store trusts when it reads its disk, a copied checkpoint or a peer's CHANGES: record
// chunks and format-1 records, batch summaries, replicated changes and their change-journal
// descriptors, consumer-group and group-batch records, sealed-JSON meta values (stream
// definitions, dead-letter rows, the history), model headers and model chunks.
//
// Input: selector:u8 | fields:u8 | types:u8 | seq:u8 | value. The selector's low bits pick the
// decoder; unless its top bit is set the harness first recomputes the value's CRC-32C, since
// mutated bytes almost never pass a checksum and the parsing behind it is what needs fuzzing.
// fields/types/seq give the chunk and record decoders their schema and key (the stored seq).
// Invariants: whatever decodes re-encodes to bytes that decode to the same thing (fixed-layout
// values: to the input itself); a chunk's Skip and Next agree on where its records end; a chunk
// re-built from its records, or trimmed, holds the same records; a model header's blob layout
// covers exactly its bytes.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/coding.h"
#include "common/crc32c.h"
#include "storage/change_format.h"
#include "storage/group_format.h"
#include "storage/log_chunk.h"
#include "storage/log_format.h"
#include "storage/meta_format.h"
#include "storage/model_format.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/storage_decoders.h"

namespace nemesyst::fuzz {
namespace {

using namespace storage;

using Decoder = fuzz::StorageDecoder;
using namespace fuzz;

// Recomputes the checksum where `decoder` keeps it.
void Reseal(Decoder decoder, std::string* v) {
  switch (decoder) {
    case kJournal:
      return;  // no checksum
    case kStreamDef:
    case kDeadLetter:
    case kHistory:
    case kModelHeader:  // format:u8 | crc32c:u32 of the JSON text | JSON text
      if (v->size() >= 5) {
        const uint32_t crc = Crc32c(std::string_view(*v).substr(5));
        for (int b = 0; b < 4; ++b) (*v)[1 + b] = static_cast<char>(crc >> (8 * b));
      }
      return;
    case kModelChunk:  // crc32c:u32 of the data | data
      if (v->size() >= 4) {
        const uint32_t crc = Crc32c(std::string_view(*v).substr(4));
        for (int b = 0; b < 4; ++b) (*v)[b] = static_cast<char>(crc >> (8 * b));
      }
      return;
    default:  // ... | crc32c:u32 of every byte before it
      if (v->size() >= 4) {
        const uint32_t crc = Crc32c(std::string_view(*v).substr(0, v->size() - 4));
        for (int b = 0; b < 4; ++b) (*v)[v->size() - 4 + b] = static_cast<char>(crc >> (8 * b));
      }
      return;
  }
}

bool SameValue(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
}

bool SameRecord(const Record& a, const Record& b) {
  if (a.device_id != b.device_id || a.timestamp_us != b.timestamp_us ||
      a.values.size() != b.values.size()) {
    return false;
  }
  for (size_t i = 0; i < a.values.size(); ++i) {
    if (!SameValue(a.values[i], b.values[i])) return false;
  }
  return true;
}

// Decodes every record of a stored value; false at the first error.
bool ReadAll(const StreamSchema& schema, std::string_view value, uint64_t last_seq,
             std::vector<Record>* out) {
  ChunkReader reader;
  if (!reader.Open(schema, value, last_seq).ok()) return false;
  out->clear();
  while (!reader.done()) {
    Record r;
    if (!reader.Next(&r).ok()) return false;
    out->push_back(std::move(r));
  }
  return true;
}

void FuzzChunk(const StreamSchema& schema, std::string_view value, uint64_t last_seq) {
  ChunkReader reader;
  if (!reader.Open(schema, value, last_seq).ok()) return;
  const uint64_t first = reader.first_seq();
  NEMESYST_FUZZ_CHECK(reader.count() >= 1 && first >= 1 && first <= last_seq);
  std::vector<Record> records;
  bool next_ok = true;
  while (!reader.done()) {
    Record r;
    if (!reader.Next(&r).ok()) {
      next_ok = false;
      break;
    }
    NEMESYST_FUZZ_CHECK(r.values.size() == schema.fields.size());
    records.push_back(std::move(r));
  }
  const bool v1 = static_cast<uint8_t>(value[0]) == kRecordFormatV1;
  if (!v1) {  // Skip walks the same lengths as Next (format 1 decodes nothing in Skip)
    ChunkReader skipper;
    NEMESYST_FUZZ_CHECK(skipper.Open(schema, value, last_seq).ok());
    bool skip_ok = true;
    while (!skipper.done() && skip_ok) skip_ok = skipper.Skip().ok();
    NEMESYST_FUZZ_CHECK(skip_ok == next_ok);
  }
  if (!next_ok) return;
  NEMESYST_FUZZ_CHECK(records.size() == reader.count());

  // Re-built from its records, the chunk holds the same records.
  ChunkBuilder builder(schema, kMaxChunkRecords, records.size());
  for (const Record& r : records) builder.Add(r);
  builder.Finish();
  size_t at = 0;
  for (const ChunkBuilder::Chunk& c : builder.chunks()) {
    std::vector<Record> again;
    const std::string_view bytes = std::string_view(builder.out()).substr(c.begin, c.end - c.begin);
    NEMESYST_FUZZ_CHECK(ReadAll(schema, bytes, first + c.last_index, &again));
    for (const Record& r : again) NEMESYST_FUZZ_CHECK(SameRecord(r, records[at++]));
  }
  NEMESYST_FUZZ_CHECK(at == records.size());

  // Trimmed (what retention does to the chunk that straddles its cut), it holds the tail.
  if (records.size() >= 2) {
    const uint64_t from = first + records.size() / 2;
    ChunkReader trim_reader;
    NEMESYST_FUZZ_CHECK(trim_reader.Open(schema, value, last_seq).ok());
    Result<std::string> trimmed = TrimChunk(schema, trim_reader, from);
    if (trimmed.ok()) {
      std::vector<Record> tail;
      NEMESYST_FUZZ_CHECK(ReadAll(schema, *trimmed, last_seq, &tail));
      NEMESYST_FUZZ_CHECK(tail.size() == last_seq - from + 1);
      for (size_t i = 0; i < tail.size(); ++i) {
        NEMESYST_FUZZ_CHECK(SameRecord(tail[i], records[from - first + i]));
      }
    } else {  // only a chunk larger than any the store writes may not fit one trimmed chunk
      NEMESYST_FUZZ_CHECK(trimmed.status().code() == StatusCode::kInternal);
    }
  }
}

void FuzzRecordV1(const StreamSchema& schema, std::string_view value) {
  Record r;
  if (!DecodeRecord(schema, value, &r).ok()) return;
  std::string again;
  EncodeRecord(schema, r, &again);
  Record r2;
  NEMESYST_FUZZ_CHECK(DecodeRecord(schema, again, &r2).ok());
  NEMESYST_FUZZ_CHECK(SameRecord(r, r2));
}

bool SameEntry(const JournalEntry& a, const JournalEntry& b) {
  return a.kind == b.kind && a.name == b.name && a.alias == b.alias && a.stream_id == b.stream_id &&
         a.first_seq == b.first_seq && a.last_seq == b.last_seq && a.version == b.version &&
         a.written_us == b.written_us && a.stamp == b.stamp && a.bytes == b.bytes;
}

void FuzzJournal(std::string_view value) {
  JournalEntry e;
  if (!DecodeJournalEntry(value, &e).ok()) return;
  JournalEntry e2;
  NEMESYST_FUZZ_CHECK(DecodeJournalEntry(EncodeJournalEntry(e), &e2).ok());
  NEMESYST_FUZZ_CHECK(SameEntry(e, e2));
}

void FuzzChange(std::string_view value) {
  DecodedChange c;
  if (!DecodeChange(value, &c).ok()) return;
  DecodedChange c2;
  NEMESYST_FUZZ_CHECK(DecodeChange(EncodeChange(c), &c2).ok());
  NEMESYST_FUZZ_CHECK(c.position == c2.position && c.descriptor == c2.descriptor &&
                      c.ops.size() == c2.ops.size());
  for (size_t i = 0; i < c.ops.size(); ++i) {
    const ChangeOp &a = c.ops[i], &b = c2.ops[i];
    NEMESYST_FUZZ_CHECK(a.cf == b.cf && a.kind == b.kind && a.key == b.key && a.value == b.value);
  }
  FuzzJournal(c.descriptor);
}

// Decode -> encode -> decode -> encode gives the first encoding again (the sealed-JSON values,
// whose text need not be canonical on input).
template <typename Decode, typename Encode>
void FuzzSealed(std::string_view value, Decode decode, Encode encode) {
  auto first = decode(value);
  if (!first.ok()) return;
  const std::string once = encode(*first);
  auto second = decode(once);
  NEMESYST_FUZZ_CHECK(second.ok());
  NEMESYST_FUZZ_CHECK(encode(*second) == once);
}

void FuzzModelHeader(std::string_view value) {
  Result<ModelHeader> h = DecodeModelHeader(value);
  if (!h.ok()) return;
  const BlobLayout& b = h->blob;
  // chunks × chunk_bytes covers the blob, and the last chunk is not empty.
  NEMESYST_FUZZ_CHECK(b.chunk_bytes > 0);
  const unsigned __int128 capacity = static_cast<unsigned __int128>(b.chunks) * b.chunk_bytes;
  NEMESYST_FUZZ_CHECK(capacity >= b.bytes);
  NEMESYST_FUZZ_CHECK(capacity - b.bytes < b.chunk_bytes);
  FuzzSealed(value, DecodeModelHeader, EncodeModelHeader);
}

}  // namespace
}  // namespace nemesyst::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nemesyst;
  using namespace nemesyst::fuzz;
  using namespace nemesyst::storage;
  if (size < 4) return 0;
  const auto decoder = static_cast<Decoder>((data[0] & 0x7f) % kDecoders);
  const bool keep_checksum = (data[0] & 0x80) != 0;
  StreamSchema schema;
  for (int i = 0; i < data[1] % 5; ++i) {  // 0..4 fields of the types in data[2], 2 bits each
    static constexpr FieldType kTypes[] = {FieldType::kFloat32, FieldType::kFloat64,
                                           FieldType::kInt32, FieldType::kFloat32};
    schema.fields.push_back({"f" + std::to_string(i), kTypes[(data[2] >> (2 * i)) & 3], "",
                             std::nullopt, std::nullopt});
  }
  // Small seqs, and the top of the range (where first = last - count + 1 must not wrap).
  const uint64_t seq =
      data[3] < 200 ? data[3] : std::numeric_limits<uint64_t>::max() - (255 - data[3]);
  std::string value(reinterpret_cast<const char*>(data + 4), size - 4);
  if (!keep_checksum) Reseal(decoder, &value);

  switch (decoder) {
    case kChunk:
      FuzzChunk(schema, value, seq);
      break;
    case kRecordV1:
      FuzzRecordV1(schema, value);
      break;
    case kSummary: {
      BatchSummary s;
      if (DecodeSummary(value, &s).ok()) NEMESYST_FUZZ_CHECK(EncodeSummary(s) == value);
      break;
    }
    case kChange:
      FuzzChange(value);
      break;
    case kJournal:
      FuzzJournal(value);
      break;
    case kGroup: {
      GroupRecord g, g2;
      if (!DecodeGroupRecord(value, &g).ok()) break;
      NEMESYST_FUZZ_CHECK(DecodeGroupRecord(EncodeGroupRecord(g), &g2).ok());
      NEMESYST_FUZZ_CHECK(EncodeGroupRecord(g2) == EncodeGroupRecord(g));
      break;
    }
    case kBatch: {
      BatchRecord b, b2;
      if (!DecodeBatchRecord(value, &b).ok()) break;
      NEMESYST_FUZZ_CHECK(b.range.first >= 1 && b.range.first <= b.range.last);
      NEMESYST_FUZZ_CHECK(DecodeBatchRecord(EncodeBatchRecord(b), &b2).ok());
      NEMESYST_FUZZ_CHECK(EncodeBatchRecord(b2) == EncodeBatchRecord(b));
      break;
    }
    case kStreamDef:
      FuzzSealed(value, DecodeStreamDef, EncodeStreamDef);
      break;
    case kDeadLetter:
      FuzzSealed(value, DecodeDeadLetterRow, EncodeDeadLetterRow);
      break;
    case kHistory:
      FuzzSealed(value, DecodeHistory, EncodeHistory);
      break;
    case kModelHeader:
      FuzzModelHeader(value);
      break;
    case kModelChunk: {
      std::string_view chunk;
      if (DecodeChunk(value, &chunk).ok()) NEMESYST_FUZZ_CHECK(EncodeChunk(chunk) == value);
      break;
    }
    case kDecoders:
      break;
  }
  return 0;
}
