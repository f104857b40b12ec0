// Records stored in chunks (several records of one append under one key, storage/log_chunk.h):
// reads that start, end and filter inside chunks, retention cutting through a chunk, reopening
// with another chunk size, stores written one record per key (format 1) before chunks, corrupt
// chunks, and replication of chunked appends.
#include <gtest/gtest.h>

#include "storage/log_format.h"
#include "tests/storage/store_fixture.h"

namespace nemesyst::testing {
namespace {

// Record i (1-based seq) of the test: device "d<i % 3>", timestamp i s, temperature i / 4.
Record Numbered(int i) {
  return FridgeRecord("d" + std::to_string(i % 3), i * 1'000'000, i * 0.25);
}

class ChunkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Open(3);
    ASSERT_TRUE(store_->CreateStream("fridges", FridgeSchema()).ok());
  }
  void Open(uint32_t records_per_chunk) {
    store_.reset();
    StoreOptions options;
    options.max_records_per_chunk = records_per_chunk;
    store_ = OpenStore(dir_.Sub("store"), Durability::kAsync, options);
    ASSERT_TRUE(store_);
  }
  // Appends records from..to (inclusive) in one call.
  void AppendRange(int from, int to) {
    std::vector<Record> batch;
    for (int i = from; i <= to; ++i) batch.push_back(Numbered(i));
    auto range = store_->Append("fridges", batch);
    ASSERT_TRUE(range.ok()) << range.status().ToString();
    ASSERT_EQ(range->first, uint64_t(from));
    ASSERT_EQ(range->last, uint64_t(to));
  }
  // Checks that `rows` are exactly the numbered records `seqs`, in order.
  static void ExpectSeqs(const std::vector<StoredRecord>& rows, const std::vector<int>& seqs) {
    ASSERT_EQ(rows.size(), seqs.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ(rows[i].seq, uint64_t(seqs[i]));
      const Record want = Numbered(seqs[i]);
      EXPECT_EQ(rows[i].record.device_id, want.device_id) << "seq " << seqs[i];
      EXPECT_EQ(rows[i].record.timestamp_us, want.timestamp_us) << "seq " << seqs[i];
      EXPECT_EQ(rows[i].record.values, want.values) << "seq " << seqs[i];
    }
  }
  static std::vector<int> Iota(int from, int to) {
    std::vector<int> v;
    for (int i = from; i <= to; ++i) v.push_back(i);
    return v;
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(ChunkTest, AppendsAreStoredAsChunksUnderTheirLastSeq) {
  AppendRange(1, 10);  // chunks 1-3, 4-6, 7-9, 10
  AppendRange(11, 12);
  store_.reset();
  {
    RawDb raw(dir_.Sub("store"));
    std::string prefix = std::string(1, 'r');
    std::vector<uint64_t> keys;
    for (const auto& [key, value] : raw.Scan(raw.log(), prefix)) {
      uint64_t id = 0, seq = 0;
      ASSERT_TRUE(storage::ParseLogKey(key, 'r', &id, &seq));
      keys.push_back(seq);
      EXPECT_EQ(static_cast<uint8_t>(value[0]), 2) << "format of the chunk ending at " << seq;
    }
    EXPECT_EQ(keys, (std::vector<uint64_t>{3, 6, 9, 10, 12}));
  }
  Open(3);
  ExpectSeqs(ReadAll(*store_, "fridges"), Iota(1, 12));
}

TEST_F(ChunkTest, ReadsStartEndAndFilterInsideChunks) {
  AppendRange(1, 10);
  AppendRange(11, 20);
  RecordQuery q;
  q.first_seq = 5;
  q.last_seq = 14;
  ExpectSeqs(ReadAll(*store_, "fridges", q), Iota(5, 14));
  q.first_seq = 9;  // the last record of a chunk
  q.last_seq = 10;  // a chunk of one
  ExpectSeqs(ReadAll(*store_, "fridges", q), {9, 10});

  RecordQuery by_time;  // 4.5 s .. 12 s: seqs 5..12, across both appends
  by_time.min_timestamp_us = 4'500'000;
  by_time.max_timestamp_us = 12'000'000;
  ExpectSeqs(ReadAll(*store_, "fridges", by_time), Iota(5, 12));

  RecordQuery by_device;
  by_device.device_id = "d1";
  by_device.first_seq = 2;
  ExpectSeqs(ReadAll(*store_, "fridges", by_device), {4, 7, 10, 13, 16, 19});

  auto info = store_->GetStreamInfo("fridges");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->first_seq, 1u);
  EXPECT_EQ(info->last_seq, 20u);
}

TEST_F(ChunkTest, RetentionCutsThroughAChunk) {
  AppendRange(1, 10);
  AppendRange(11, 15);
  // Keep 7 of 15: deletes 1..8; the chunk 7-9 keeps only 9.
  ASSERT_TRUE(store_->SetRetention("fridges", {0, 7}).ok());
  auto report = store_->ApplyRetention("fridges");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->deleted_through_seq, 8u);
  EXPECT_EQ(report->records_deleted, 8u);
  ExpectSeqs(ReadAll(*store_, "fridges"), Iota(9, 15));
  RecordQuery q;
  q.first_seq = 2;
  q.last_seq = 9;
  ExpectSeqs(ReadAll(*store_, "fridges", q), {9});
  RecordQuery by_device;
  by_device.device_id = "d0";
  ExpectSeqs(ReadAll(*store_, "fridges", by_device), {9, 12, 15});

  // Age: records older than 11.5 s at now = 20 s (seqs 9..11) go, cutting the second append's
  // chunk 11-13 after 11.
  ASSERT_TRUE(store_->SetRetention("fridges", {8'500'000, 0}).ok());
  report = store_->ApplyRetention("fridges", 20'000'000);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->deleted_through_seq, 11u);
  EXPECT_EQ(report->records_deleted, 3u);
  ExpectSeqs(ReadAll(*store_, "fridges"), Iota(12, 15));

  Open(3);
  auto info = store_->GetStreamInfo("fridges");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->first_seq, 12u);
  EXPECT_EQ(info->last_seq, 15u);
  AppendRange(16, 16);
}

TEST_F(ChunkTest, AnyChunkSizeReadsWhatAnotherWrote) {
  AppendRange(1, 7);
  Open(1);
  AppendRange(8, 10);  // one key per record
  Open(64);
  AppendRange(11, 200);
  ExpectSeqs(ReadAll(*store_, "fridges"), Iota(1, 200));
  RecordQuery q;
  q.first_seq = 6;
  q.last_seq = 12;
  ExpectSeqs(ReadAll(*store_, "fridges", q), Iota(6, 12));
}

TEST_F(ChunkTest, RecordsWrittenOnePerKeyInFormatOneStillRead) {
  // A store from before chunks: one format-1 value per record key.
  store_.reset();
  {
    RawDb raw(dir_.Sub("store"));
    for (int i = 1; i <= 4; ++i) {
      std::string value;
      storage::EncodeRecord(FridgeSchema(), Numbered(i), &value);
      ASSERT_TRUE(raw.db()
                      ->Put(rocksdb::WriteOptions(), raw.log(),
                            storage::LogKey('r', storage::StreamId("fridges"), i), value)
                      .ok());
    }
  }
  Open(3);
  auto info = store_->GetStreamInfo("fridges");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->first_seq, 1u);
  EXPECT_EQ(info->last_seq, 4u);
  AppendRange(5, 9);  // numbers continue; chunks after format-1 records
  ExpectSeqs(ReadAll(*store_, "fridges"), Iota(1, 9));
  RecordQuery q;
  q.first_seq = 3;
  q.last_seq = 6;
  ExpectSeqs(ReadAll(*store_, "fridges", q), Iota(3, 6));
  ASSERT_TRUE(store_->SetRetention("fridges", {0, 6}).ok());
  auto report = store_->ApplyRetention("fridges");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->records_deleted, 3u);
  ExpectSeqs(ReadAll(*store_, "fridges"), Iota(4, 9));
}

TEST_F(ChunkTest, CorruptChunkStopsTheIteratorAfterTheGoodOnes) {
  AppendRange(1, 9);  // chunks 1-3, 4-6, 7-9
  store_.reset();
  {
    RawDb raw(dir_.Sub("store"));
    std::string key = storage::LogKey('r', storage::StreamId("fridges"), 6);
    std::string value;
    ASSERT_TRUE(raw.db()->Get(rocksdb::ReadOptions(), raw.log(), key, &value).ok());
    value[value.size() / 2] ^= 0x01;
    ASSERT_TRUE(raw.db()->Put(rocksdb::WriteOptions(), raw.log(), key, value).ok());
  }
  Open(3);
  {
    auto it = store_->Read("fridges");
    ASSERT_TRUE(it.ok());
    int n = 0;
    for (; (*it)->Valid(); (*it)->Next()) ++n;
    EXPECT_EQ(n, 3);
    Status s = (*it)->status();
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find("chunk ending at seq 6"), std::string_view::npos) << s.ToString();
  }  // the iterator goes before its store
  // A corrupt first chunk: the store still opens (and numbers continue after the last key), but
  // what needs the chunk's contents refuses rather than guess.
  store_.reset();
  {
    RawDb raw(dir_.Sub("store"));
    std::string key = storage::LogKey('r', storage::StreamId("fridges"), 3);
    ASSERT_TRUE(raw.db()->Put(rocksdb::WriteOptions(), raw.log(), key, "\x02garbage").ok());
  }
  Open(3);
  EXPECT_TRUE(store_->GetStreamInfo("fridges").status().IsCorruption());
  auto next = store_->Append("fridges", Numbered(10));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 10u);
  ASSERT_TRUE(store_->SetRetention("fridges", {0, 2}).ok());
  EXPECT_TRUE(store_->ApplyRetention("fridges").status().IsCorruption());
}

TEST_F(ChunkTest, ChunkSizeOptionIsChecked) {
  store_.reset();
  std::unique_ptr<Store> store;
  StoreOptions options;
  options.max_records_per_chunk = 0;
  EXPECT_TRUE(Store::Open(options, dir_.Sub("store"), &store).IsInvalidArgument());
  options.max_records_per_chunk = 4097;
  EXPECT_TRUE(Store::Open(options, dir_.Sub("store"), &store).IsInvalidArgument());
}

TEST_F(ChunkTest, ChunkedAppendsReplicateToAStoreWithAnotherChunkSize) {
  AppendRange(1, 10);
  AppendRange(11, 11);
  StoreOptions options;  // default chunk size on the replica
  auto replica = OpenStore(dir_.Sub("replica"), Durability::kAsync, options);
  ASSERT_TRUE(replica);
  auto changes = store_->ReadChanges(0, 100);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 3u);  // definition, two appends
  for (const auto& change : *changes) ASSERT_TRUE(replica->ApplyChange(change.bytes).ok());
  ExpectSeqs(ReadAll(*replica, "fridges"), Iota(1, 11));
  RecordQuery q;
  q.first_seq = 5;
  q.last_seq = 7;
  ExpectSeqs(ReadAll(*replica, "fridges", q), Iota(5, 7));
  auto next = replica->Append("fridges", Numbered(12));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 12u);
}

}  // namespace
}  // namespace nemesyst::testing
