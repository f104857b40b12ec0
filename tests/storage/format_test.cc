// The documented on-disk formats, checked against bytes built by hand (not by the encoders), plus
// every truncation and single-byte corruption of encoded values.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "common/coding.h"
#include "common/crc32c.h"
#include "storage/change_format.h"
#include "storage/group_format.h"
#include "storage/log_chunk.h"
#include "storage/log_format.h"
#include "storage/meta_format.h"
#include "storage/model_format.h"
#include "tests/storage/store_fixture.h"

namespace nemesyst::storage {
namespace {

std::string Le32(uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }
std::string Le64(uint64_t v) { return std::string(reinterpret_cast<const char*>(&v), 8); }

// The field bytes of the test schema (temperature_c float32, power_kw float64, door_open int32).
std::string HandBuiltFields(float temperature_c, double power_kw, uint32_t door_open) {
  uint32_t bits;
  std::memcpy(&bits, &temperature_c, 4);
  uint64_t dbits;
  std::memcpy(&dbits, &power_kw, 8);
  return Le32(bits) + Le64(dbits) + Le32(door_open);
}

TEST(LogFormatTest, KeysAreBigEndianAndOrdered) {
  std::string key = LogKey('r', 0x0102030405060708ull, 0x1122);
  ASSERT_EQ(key.size(), 17u);
  EXPECT_EQ(key, std::string("r\x01\x02\x03\x04\x05\x06\x07\x08\0\0\0\0\0\0\x11\x22", 17));
  EXPECT_LT(LogKey('r', 5, 255), LogKey('r', 5, 256));
  uint64_t id = 0, seq = 0;
  EXPECT_TRUE(ParseLogKey(key, 'r', &id, &seq));
  EXPECT_EQ(seq, 0x1122u);
  EXPECT_FALSE(ParseLogKey(key.substr(0, 16), 'r', &id, &seq));
  EXPECT_FALSE(ParseLogKey(key, 's', &id, &seq));
  // FNV-1a 64 of "a" (published test vector).
  EXPECT_EQ(StreamId("a"), 0xaf63dc4c8601ec8cull);
}

// The record of the docs, built byte by byte.
std::string HandBuiltRecord() {
  std::string v;
  v.push_back(1);                    // format
  v.push_back(3);                    // device_len
  v += "abc";                        // device
  v += Le64(1'700'000'000'000'000);  // timestamp_us
  v.push_back(3);                    // field count
  v += HandBuiltFields(4.5f, 1.25, 1);
  v += Le32(Crc32c(v));
  return v;
}

TEST(LogFormatTest, RecordMatchesHandBuiltBytes) {
  StreamSchema schema = testing::FridgeSchema();
  Record record{"abc", 1'700'000'000'000'000, {4.5, 1.25, 1}};
  std::string encoded;
  EncodeRecord(schema, record, &encoded);
  EXPECT_EQ(encoded, HandBuiltRecord());
  Record decoded;
  ASSERT_TRUE(DecodeRecord(schema, HandBuiltRecord(), &decoded).ok());
  EXPECT_EQ(decoded.device_id, "abc");
  EXPECT_EQ(decoded.timestamp_us, 1'700'000'000'000'000);
  EXPECT_EQ(decoded.values, (std::vector<double>{4.5, 1.25, 1}));
}

TEST(LogFormatTest, EveryTruncationAndByteFlipIsCorruption) {
  StreamSchema schema = testing::FridgeSchema();
  std::string good = HandBuiltRecord();
  Record out;
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_TRUE(DecodeRecord(schema, good.substr(0, n), &out).IsCorruption()) << "length " << n;
  }
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x10;
    EXPECT_TRUE(DecodeRecord(schema, bad, &out).IsCorruption()) << "byte " << i;
  }
  // Valid checksum but wrong field count for the schema, or unknown format.
  std::string v = good.substr(0, good.size() - 4);
  v[13] = 2;
  v += Le32(Crc32c(v));
  EXPECT_TRUE(DecodeRecord(schema, v, &out).IsCorruption());
  v = good.substr(0, good.size() - 4);
  v[0] = 9;
  v += Le32(Crc32c(v));
  Status s = DecodeRecord(schema, v, &out);
  EXPECT_NE(s.message().find("format"), std::string_view::npos) << s.ToString();
}

// A chunk of two records, as docs/storage.md describes format 2, built byte by byte.
std::string HandBuiltChunk() {
  std::string v;
  v.push_back(2);                   // format
  v += std::string("\x02\x00", 2);  // count:u16
  v += std::string("\x03\x00", 2);  // field_count:u16
  for (int i = 0; i < 2; ++i) {
    v.push_back(2);             // device_len
    v += i == 0 ? "ab" : "cd";  // device
    v += Le64(1000 + i);        // timestamp_us
    v += HandBuiltFields(4.5f + i, 1.25, i);
  }
  v += Le32(Crc32c(v));
  return v;
}

TEST(LogChunkTest, ChunkMatchesHandBuiltBytesAndReadsBack) {
  StreamSchema schema = testing::FridgeSchema();
  ChunkBuilder builder(schema, 64, 2);
  builder.Add(Record{"ab", 1000, {4.5, 1.25, 0}});
  builder.Add(Record{"cd", 1001, {5.5, 1.25, 1}});
  builder.Finish();
  ASSERT_EQ(builder.chunks().size(), 1u);
  EXPECT_EQ(builder.chunks()[0].last_index, 1u);
  EXPECT_EQ(builder.out(), HandBuiltChunk());

  ChunkReader reader;
  const std::string chunk = HandBuiltChunk();       // the reader reads it in place
  ASSERT_TRUE(reader.Open(schema, chunk, 8).ok());  // seqs 7, 8
  EXPECT_EQ(reader.first_seq(), 7u);
  EXPECT_EQ(reader.count(), 2u);
  Record r;
  ASSERT_EQ(reader.next_seq(), 7u);
  ASSERT_TRUE(reader.Next(&r).ok());
  EXPECT_EQ(r.device_id, "ab");
  EXPECT_EQ(r.values, (std::vector<double>{4.5, 1.25, 0}));
  ASSERT_TRUE(reader.Next(&r).ok());
  EXPECT_EQ(r.device_id, "cd");
  EXPECT_EQ(r.timestamp_us, 1001);
  EXPECT_TRUE(reader.done());

  // A format-1 record is a chunk of one.
  const std::string record = HandBuiltRecord();
  ASSERT_TRUE(reader.Open(schema, record, 3).ok());
  EXPECT_EQ(reader.first_seq(), 3u);
  ASSERT_TRUE(reader.Next(&r).ok());
  EXPECT_EQ(r.device_id, "abc");
  EXPECT_TRUE(reader.done());
}

TEST(LogChunkTest, ChunksCloseAtTheirRecordLimit) {
  StreamSchema schema = testing::FridgeSchema();
  ChunkBuilder builder(schema, 2, 5);
  for (int i = 0; i < 5; ++i) builder.Add(Record{"d", i, {1, 2, 0}});
  builder.Finish();
  ASSERT_EQ(builder.chunks().size(), 3u);
  EXPECT_EQ(builder.chunks()[0].last_index, 1u);
  EXPECT_EQ(builder.chunks()[1].last_index, 3u);
  EXPECT_EQ(builder.chunks()[2].last_index, 4u);
  EXPECT_EQ(builder.chunks()[1].begin, builder.chunks()[0].end);
  EXPECT_EQ(builder.chunks()[2].end, builder.out().size());

  // A device id of 200 bytes takes a two-byte length.
  ChunkBuilder long_device(schema, 64, 2);
  long_device.Add(Record{std::string(200, 'x'), 7, {1, 2, 0}});
  long_device.Add(Record{"y", 8, {1, 2, 1}});
  long_device.Finish();
  ChunkReader long_reader;
  ASSERT_TRUE(long_reader.Open(schema, long_device.out(), 2).ok());
  Record device_record;
  ASSERT_TRUE(long_reader.Next(&device_record).ok());
  EXPECT_EQ(device_record.device_id, std::string(200, 'x'));
  ASSERT_TRUE(long_reader.Next(&device_record).ok());
  EXPECT_EQ(device_record.device_id, "y");

  // Trimming the middle chunk (seqs 3, 4) to start at 4.
  std::string_view middle(builder.out().data() + builder.chunks()[1].begin,
                          builder.chunks()[1].end - builder.chunks()[1].begin);
  ChunkReader reader;
  ASSERT_TRUE(reader.Open(schema, middle, 4).ok());
  auto trimmed = TrimChunk(schema, reader, 4);
  ASSERT_TRUE(trimmed.ok());
  ASSERT_TRUE(reader.Open(schema, *trimmed, 4).ok());
  EXPECT_EQ(reader.count(), 1u);
  Record r;
  ASSERT_TRUE(reader.Next(&r).ok());
  EXPECT_EQ(r.timestamp_us, 3);
}

// Open, then read every record: the first error of either.
Status ReadChunk(const StreamSchema& schema, std::string_view value, uint64_t last_seq) {
  ChunkReader reader;
  NEMESYST_RETURN_IF_ERROR(reader.Open(schema, value, last_seq));
  Record r;
  while (!reader.done()) NEMESYST_RETURN_IF_ERROR(reader.Next(&r));
  // Skipping checks the same lengths.
  NEMESYST_RETURN_IF_ERROR(reader.Open(schema, value, last_seq));
  while (!reader.done()) NEMESYST_RETURN_IF_ERROR(reader.Skip());
  return Status::OK();
}

TEST(LogChunkTest, EveryTruncationAndByteFlipIsCorruption) {
  StreamSchema schema = testing::FridgeSchema();
  const std::string good = HandBuiltChunk();
  ASSERT_TRUE(ReadChunk(schema, good, 2).ok());
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_TRUE(ReadChunk(schema, good.substr(0, n), 2).IsCorruption()) << "length " << n;
  }
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x10;
    EXPECT_TRUE(ReadChunk(schema, bad, 2).IsCorruption()) << "byte " << i;
  }
  // Valid checksums, wrong contents: more records than the key's seq, no records, a count that
  // does not match the bytes, a field count that is not the schema's.
  EXPECT_TRUE(ReadChunk(schema, good, 1).IsCorruption());
  auto resealed = [&](size_t at, char byte) {
    std::string v = good.substr(0, good.size() - 4);
    v[at] = byte;
    return v + Le32(Crc32c(v));
  };
  EXPECT_TRUE(ReadChunk(schema, resealed(1, 0), 5).IsCorruption());
  EXPECT_TRUE(ReadChunk(schema, resealed(1, 1), 5).IsCorruption());  // trailing bytes
  EXPECT_TRUE(ReadChunk(schema, resealed(1, 3), 5).IsCorruption());  // truncated
  EXPECT_TRUE(ReadChunk(schema, resealed(3, 2), 5).IsCorruption());
  Status s = ReadChunk(schema, resealed(0, 7), 5);
  EXPECT_NE(s.message().find("format"), std::string_view::npos) << s.ToString();
}

// Found by tests/fuzz/storage_fuzzer: under a key whose seq is 2^64 - 1 (any bytes from a peer or
// a damaged disk can say so) the seq after the chunk's last record wrapped to 0, so done() never
// became true — a chunk then failed as truncated, and a format-1 record was read forever.
TEST(LogChunkTest, ChunkEndingAtTheLastSeqEnds) {
  StreamSchema schema = testing::FridgeSchema();
  const uint64_t last = std::numeric_limits<uint64_t>::max();
  const std::string chunk = HandBuiltChunk();
  ChunkReader reader;
  ASSERT_TRUE(reader.Open(schema, chunk, last).ok());
  EXPECT_EQ(reader.first_seq(), last - 1);
  Record r;
  ASSERT_TRUE(reader.Next(&r).ok());
  EXPECT_FALSE(reader.done());
  ASSERT_TRUE(reader.Next(&r).ok());
  EXPECT_TRUE(reader.done());
  ASSERT_TRUE(reader.Open(schema, chunk, last).ok());
  ASSERT_TRUE(reader.Skip().ok());
  ASSERT_TRUE(reader.Skip().ok());
  EXPECT_TRUE(reader.done());

  const std::string record = HandBuiltRecord();
  ASSERT_TRUE(reader.Open(schema, record, last).ok());
  EXPECT_FALSE(reader.done());
  ASSERT_TRUE(reader.Next(&r).ok());
  EXPECT_EQ(r.device_id, "abc");
  EXPECT_TRUE(reader.done());
}

TEST(LogFormatTest, SummaryBytes) {
  BatchSummary summary;
  summary.last_seq = 42;
  summary.min_timestamp_us = -5;
  summary.max_timestamp_us = 77;
  summary.AddDevice("fridge-1");
  std::string v;
  v.push_back(1);
  v += Le64(42);
  v += Le64(static_cast<uint64_t>(-5));
  v += Le64(77);
  v.append(reinterpret_cast<const char*>(summary.device_bloom.data()), kBloomBytes);
  v += Le32(Crc32c(v));
  EXPECT_EQ(EncodeSummary(summary), v);
  BatchSummary decoded;
  ASSERT_TRUE(DecodeSummary(v, &decoded).ok());
  EXPECT_TRUE(decoded.MayContainDevice("fridge-1"));
  EXPECT_EQ(decoded.min_timestamp_us, -5);
  for (size_t n = 0; n < v.size(); ++n) EXPECT_FALSE(DecodeSummary(v.substr(0, n), &decoded).ok());
  v[3] ^= 1;
  EXPECT_TRUE(DecodeSummary(v, &decoded).IsCorruption());
}

TEST(GroupFormatTest, BatchAndGroupBytes) {
  std::string v;
  v.push_back(1);
  v += Le64(10);
  v += Le64(19);
  v.push_back(2);  // pending
  v += Le32(3);
  v += Le64(1234);
  v.push_back(2);
  v += "m7";
  v += Le32(Crc32c(v));
  BatchRecord batch;
  ASSERT_TRUE(DecodeBatchRecord(v, &batch).ok());
  EXPECT_EQ(batch.range.first, 10u);
  EXPECT_EQ(batch.range.last, 19u);
  EXPECT_EQ(batch.state, BatchState::kPending);
  EXPECT_EQ(batch.delivery, 3u);
  EXPECT_EQ(batch.lease_expires_ms, 1234);
  EXPECT_EQ(batch.member, "m7");
  EXPECT_EQ(EncodeBatchRecord(batch), v);
  for (size_t n = 0; n < v.size(); ++n)
    EXPECT_FALSE(DecodeBatchRecord(v.substr(0, n), &batch).ok());
  std::string bad_state = v.substr(0, v.size() - 4);
  bad_state[17] = 9;
  bad_state += Le32(Crc32c(bad_state));
  EXPECT_TRUE(DecodeBatchRecord(bad_state, &batch).IsCorruption());

  GroupRecord group;
  group.stream = "s";
  group.cursor = 5;
  group.next_batch_id = 2;
  group.acked_total = 1;
  group.created_us = 9;
  std::string g;
  g.push_back(1);
  g.push_back(1);
  g += "s";
  g += Le64(5) + Le64(2) + Le64(1) + Le64(0) + Le64(9);
  g += Le32(Crc32c(g));
  EXPECT_EQ(EncodeGroupRecord(group), g);
  GroupRecord decoded;
  ASSERT_TRUE(DecodeGroupRecord(g, &decoded).ok());
  EXPECT_EQ(decoded.cursor, 5u);
  g[5] ^= 1;
  EXPECT_TRUE(DecodeGroupRecord(g, &decoded).IsCorruption());
  EXPECT_EQ(BatchKey("g", 1), std::string("bg\0\0\0\0\0\0\0\0\x01", 11));
}

TEST(ModelFormatTest, ChunkHeaderAndKeys) {
  std::string chunk = Le32(Crc32c("weights")) + "weights";
  EXPECT_EQ(EncodeChunk("weights"), chunk);
  std::string_view data;
  ASSERT_TRUE(DecodeChunk(chunk, &data).ok());
  EXPECT_EQ(data, "weights");
  chunk[6] ^= 1;
  EXPECT_TRUE(DecodeChunk(chunk, &data).IsCorruption());
  EXPECT_TRUE(DecodeChunk("abc", &data).IsCorruption());
  EXPECT_EQ(ModelChunkKey("m", 2, 1), std::string("cm\0\0\0\0\x02\0\0\0\x01", 11));
  EXPECT_EQ(ModelHeaderKey("m", 258), std::string("vm\0\0\0\x01\x02", 7));
  std::string name;
  uint32_t version = 0;
  ASSERT_TRUE(ParseModelHeaderKey(ModelHeaderKey("a/b", 7), &name, &version));
  EXPECT_EQ(name, "a/b");
  EXPECT_EQ(version, 7u);

  // A sealed header built by hand: format, crc32c of the JSON, JSON.
  std::string json =
      R"({"kind":"rnn","blob":{"bytes":10,"crc32c":1,"chunk_bytes":4,"chunks":3},"retired":true})";
  std::string sealed = std::string(1, '\1') + Le32(Crc32c(json)) + json;
  auto header = DecodeModelHeader(sealed);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->metadata.kind, "rnn");
  EXPECT_EQ(header->blob.chunks, 3u);
  EXPECT_TRUE(header->retired);
  for (size_t n = 0; n < sealed.size(); ++n) {
    EXPECT_FALSE(DecodeModelHeader(sealed.substr(0, n)).ok()) << n;
  }
  // Inconsistent layout (3 chunks of 4 bytes cannot hold 20 bytes) is corruption too.
  json = R"({"blob":{"bytes":20,"crc32c":1,"chunk_bytes":4,"chunks":3},"retired":false})";
  sealed = std::string(1, '\1') + Le32(Crc32c(json)) + json;
  EXPECT_TRUE(DecodeModelHeader(sealed).status().IsCorruption());
}

// The blob layout invariant tests/fuzz/storage_fuzzer checks: bytes + chunk_bytes - 1 wrapped for
// a header claiming close to 2^64 bytes, so 0 chunks "held" 2^64 - 1 bytes (and a read then
// reserved that much).
TEST(ModelFormatTest, BlobLayoutNearTwoToTheSixtyFourIsCorruption) {
  auto sealed = [](uint64_t bytes, uint32_t chunk_bytes, uint32_t chunks) {
    const std::string json = R"({"blob":{"bytes":)" + std::to_string(bytes) +
                             R"(,"crc32c":0,"chunk_bytes":)" + std::to_string(chunk_bytes) +
                             R"(,"chunks":)" + std::to_string(chunks) + R"(},"retired":false})";
    return std::string(1, '\1') + Le32(Crc32c(json)) + json;
  };
  EXPECT_TRUE(DecodeModelHeader(sealed(UINT64_MAX, 2, 0)).status().IsCorruption());
  EXPECT_TRUE(DecodeModelHeader(sealed(UINT64_MAX - 3, 8, 0)).status().IsCorruption());
  // The largest layouts that do exist still decode.
  const uint64_t max = uint64_t{UINT32_MAX} * UINT32_MAX;
  EXPECT_TRUE(DecodeModelHeader(sealed(max, UINT32_MAX, UINT32_MAX)).ok());
  EXPECT_TRUE(DecodeModelHeader(sealed(max - 1, UINT32_MAX, UINT32_MAX)).ok());
  EXPECT_TRUE(DecodeModelHeader(sealed(max + 1, UINT32_MAX, UINT32_MAX)).status().IsCorruption());
  EXPECT_TRUE(DecodeModelHeader(sealed(0, 1, 0)).ok());
}

TEST(MetaFormatTest, StreamDefJournalAndChange) {
  std::string json = R"({"fields":[{"name":"t","type":"float32","unit":"degC","min":-1}],)"
                     R"("retention":{"max_age_us":5,"max_records":0},"created_us":7})";
  std::string sealed = std::string(1, '\1') + Le32(Crc32c(json)) + json;
  auto def = DecodeStreamDef(sealed);
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  EXPECT_EQ(def->schema.fields[0].unit, "degC");
  EXPECT_EQ(*def->schema.fields[0].min_value, -1);
  EXPECT_FALSE(def->schema.fields[0].max_value.has_value());
  EXPECT_EQ(def->retention.max_age_us, 5);
  sealed[10] ^= 1;
  EXPECT_TRUE(DecodeStreamDef(sealed).status().IsCorruption());
  auto bad = SchemaFromJson(nlohmann::json::parse(R"({"fields":[{"name":"x","type":"int8"}]})"));
  EXPECT_NE(bad.status().message().find("fields[0].type"), std::string_view::npos);

  // An entry from before stamps (no trailer) still decodes; written again it gains the trailer.
  std::string entry = std::string(1, '\2') + Le64(9) + Le64(1) + Le64(4);
  JournalEntry decoded;
  ASSERT_TRUE(DecodeJournalEntry(entry, &decoded).ok());
  EXPECT_EQ(decoded.kind, JournalKind::kAppend);
  EXPECT_EQ(decoded.last_seq, 4u);
  EXPECT_EQ(decoded.stamp, 0u);
  EXPECT_EQ(EncodeJournalEntry(decoded), entry + Le64(0) + Le64(0) + Le64(0));
  EXPECT_TRUE(DecodeJournalEntry(entry.substr(0, 20), &decoded).IsCorruption());
  const std::string stamped = entry + Le64(1767571200000000) + Le64(0xabcdef) + Le64(512);
  ASSERT_TRUE(DecodeJournalEntry(stamped, &decoded).ok());
  EXPECT_EQ(decoded.written_us, 1767571200000000);
  EXPECT_EQ(decoded.stamp, 0xabcdefu);
  EXPECT_EQ(decoded.bytes, 512u);
  EXPECT_EQ(EncodeJournalEntry(decoded), stamped);
  EXPECT_TRUE(DecodeJournalEntry(stamped.substr(0, stamped.size() - 1), &decoded).IsCorruption());
  EXPECT_TRUE(DecodeJournalEntry(stamped + "x", &decoded).IsCorruption());
  EXPECT_TRUE(DecodeJournalEntry(std::string(1, '\x7f'), &decoded).IsCorruption());

  std::string change = "NCH1" + Le64(3);
  change.push_back(static_cast<char>(entry.size()));
  change += entry;
  change.push_back(1);                     // one op
  change += std::string("\x01\x01", 2);    // cf log, put
  change += std::string(1, '\2') + "k1";   // key
  change += std::string(1, '\3') + "val";  // value
  change += Le32(Crc32c(change));
  DecodedChange c;
  ASSERT_TRUE(DecodeChange(change, &c).ok());
  EXPECT_EQ(c.position, 3u);
  ASSERT_EQ(c.ops.size(), 1u);
  EXPECT_EQ(c.ops[0].key, "k1");
  EXPECT_EQ(c.ops[0].value, "val");
  EXPECT_EQ(EncodeChange(c), change);
  for (size_t n = 0; n < change.size(); ++n)
    EXPECT_FALSE(DecodeChange(change.substr(0, n), &c).ok());
  change[20] ^= 1;
  EXPECT_TRUE(DecodeChange(change, &c).IsCorruption());
}

TEST(CodingTest, ReaderRejectsTruncatedVarints) {
  Reader r(std::string_view("\x80\x80", 2));
  uint64_t v = 0;
  EXPECT_FALSE(r.GetVarint64(&v));
  std::string s;
  PutVarint64(&s, 300);
  EXPECT_EQ(s, "\xac\x02");
  Reader ok(s);
  ASSERT_TRUE(ok.GetVarint64(&v));
  EXPECT_EQ(v, 300u);
  std::string lp;
  PutVarint64(&lp, 10);
  lp += "short";
  Reader short_reader(lp);
  std::string_view out;
  EXPECT_FALSE(short_reader.GetLengthPrefixed(&out));
}

}  // namespace
}  // namespace nemesyst::storage
