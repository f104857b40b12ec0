// The sensor log: streams, schemas, append/read, sequence numbers across reopen, iterators by
// sequence/time/device, retention, dead-letter rows and bad input.
#include <gtest/gtest.h>

#include <cmath>

#include "storage/log_format.h"
#include "tests/storage/store_fixture.h"

namespace nemesyst::testing {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenStore(dir_.Sub("store"));
    ASSERT_TRUE(store_);
    ASSERT_TRUE(store_->CreateStream("fridges", FridgeSchema()).ok());
  }
  void Reopen() {
    store_.reset();
    store_ = OpenStore(dir_.Sub("store"));
    ASSERT_TRUE(store_);
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(LogTest, AppendAndReadBack) {
  auto one = store_->Append("fridges", FridgeRecord("store-1/case-1", 1000, 3.5, 2.0, 1));
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(*one, 1u);
  std::vector<Record> batch = {FridgeRecord("a", 2000, -1.25), FridgeRecord("b", 3000, 7.75)};
  auto range = store_->Append("fridges", batch);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->first, 2u);
  EXPECT_EQ(range->last, 3u);

  auto all = ReadAll(*store_, "fridges");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].seq, 1u);
  EXPECT_EQ(all[0].record.device_id, "store-1/case-1");
  EXPECT_EQ(all[0].record.timestamp_us, 1000);
  EXPECT_EQ(all[0].record.values, (std::vector<double>{3.5, 2.0, 1.0}));
  EXPECT_EQ(all[1].record.values[0], -1.25);
  EXPECT_EQ(all[2].seq, 3u);
  EXPECT_EQ(all[2].record.device_id, "b");
}

TEST_F(LogTest, CreateStreamErrors) {
  EXPECT_EQ(store_->CreateStream("fridges", FridgeSchema()).code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(store_->CreateStream("bad name!", FridgeSchema()).IsInvalidArgument());
  StreamSchema empty;
  EXPECT_TRUE(store_->CreateStream("empty", empty).IsInvalidArgument());
  StreamSchema dup = FridgeSchema();
  dup.fields[2].name = "power_kw";
  Status s = store_->CreateStream("dup", dup);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("power_kw"), std::string_view::npos) << s.ToString();
  StreamSchema inverted = FridgeSchema();
  inverted.fields[0].min_value = 10;
  inverted.fields[0].max_value = 5;
  s = store_->CreateStream("inverted", inverted);
  EXPECT_NE(s.message().find("temperature_c"), std::string_view::npos) << s.ToString();
  auto names = store_->ListStreams();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"fridges"});
}

TEST_F(LogTest, SchemaViolationNamesFieldAndWritesNothing) {
  ASSERT_TRUE(store_->Append("fridges", FridgeRecord("a", 1)).ok());
  std::vector<Record> batch = {FridgeRecord("a", 2), FridgeRecord("a", 3, 200.0)};
  auto r = store_->Append("fridges", batch);
  ASSERT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("record 1"), std::string_view::npos);
  EXPECT_NE(r.status().message().find("temperature_c"), std::string_view::npos);

  r = store_->Append("fridges", std::vector<Record>{FridgeRecord("a", 4, 1, 1, 0.5)});
  EXPECT_NE(r.status().message().find("door_open"), std::string_view::npos)
      << r.status().ToString();
  r = store_->Append("fridges", std::vector<Record>{FridgeRecord("a", 4, 1, std::nan(""), 0)});
  EXPECT_NE(r.status().message().find("power_kw"), std::string_view::npos);
  Record short_record{"a", 5, {1.0}};
  EXPECT_TRUE(store_->Append("fridges", short_record).status().IsInvalidArgument());
  EXPECT_TRUE(store_->Append("fridges", FridgeRecord("", 5)).status().IsInvalidArgument());

  // Nothing of the refused batches is there, and no sequence number was burned.
  EXPECT_EQ(ReadAll(*store_, "fridges").size(), 1u);
  auto next = store_->Append("fridges", FridgeRecord("a", 6));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 2u);
}

TEST_F(LogTest, UnknownStreamAndOversizedRecord) {
  EXPECT_TRUE(store_->Append("nope", FridgeRecord("a", 1)).status().IsNotFound());
  EXPECT_TRUE(store_->Read("nope").status().IsNotFound());
  EXPECT_TRUE(store_->GetSchema("nope").status().IsNotFound());

  StoreOptions options;
  options.max_record_bytes = 64;
  store_.reset();
  store_ = OpenStore(dir_.Sub("store"), Durability::kAsync, options);
  ASSERT_TRUE(store_);
  Status s = store_->Append("fridges", FridgeRecord(std::string(100, 'd'), 1)).status();
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_TRUE(ReadAll(*store_, "fridges").empty());
  EXPECT_TRUE(store_->Append("fridges", FridgeRecord(std::string(257, 'd'), 1))
                  .status()
                  .IsInvalidArgument());
}

TEST_F(LogTest, SequenceNumbersSurviveReopenAndRetention) {
  std::vector<Record> batch(10, FridgeRecord("a", 1));
  ASSERT_TRUE(store_->Append("fridges", batch).ok());
  Reopen();
  auto next = store_->Append("fridges", FridgeRecord("a", 2));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 11u);
  // Delete everything (no groups hold it back), reopen: numbers still continue.
  ASSERT_TRUE(store_->SetRetention("fridges", {0, 1}).ok());
  auto report = store_->ApplyRetention("fridges");
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->deleted_through_seq, 10u);
  EXPECT_EQ(report->records_deleted, 10u);
  ASSERT_TRUE(store_->SetRetention("fridges", {0, 0}).ok());
  Reopen();
  auto info = store_->GetStreamInfo("fridges");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->first_seq, 11u);
  EXPECT_EQ(info->last_seq, 11u);
  EXPECT_EQ(info->retention.max_records, 0u);
  next = store_->Append("fridges", FridgeRecord("a", 3));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 12u);
}

TEST_F(LogTest, ReadBySeqTimeAndDevice) {
  // 20 batches of 5 records; timestamps increase with seq; devices alternate per batch.
  for (int b = 0; b < 20; ++b) {
    std::vector<Record> batch;
    for (int i = 0; i < 5; ++i) {
      batch.push_back(FridgeRecord(b % 2 ? "odd" : "even", (b * 5 + i) * 1000, i));
    }
    ASSERT_TRUE(store_->Append("fridges", batch).ok());
  }
  RecordQuery by_seq;
  by_seq.first_seq = 7;
  by_seq.last_seq = 12;
  auto rows = ReadAll(*store_, "fridges", by_seq);
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows.front().seq, 7u);
  EXPECT_EQ(rows.back().seq, 12u);

  RecordQuery by_time;
  by_time.min_timestamp_us = 33'000;
  by_time.max_timestamp_us = 41'000;
  rows = ReadAll(*store_, "fridges", by_time);
  ASSERT_EQ(rows.size(), 9u);
  EXPECT_EQ(rows.front().record.timestamp_us, 33'000);
  EXPECT_EQ(rows.front().seq, 34u);

  RecordQuery by_device;
  by_device.device_id = "odd";
  by_device.first_seq = 3;  // inside an "even" batch
  by_device.last_seq = 18;  // inside the "odd" batch 16..20
  rows = ReadAll(*store_, "fridges", by_device);
  ASSERT_EQ(rows.size(), 8u);  // 6..10 and 16..18
  for (const auto& r : rows) EXPECT_EQ(r.record.device_id, "odd");
  EXPECT_EQ(rows.front().seq, 6u);
  EXPECT_EQ(rows.back().seq, 18u);

  RecordQuery none;
  none.device_id = "missing";
  EXPECT_TRUE(ReadAll(*store_, "fridges", none).empty());
  RecordQuery bad;
  bad.first_seq = 5;
  bad.last_seq = 4;
  EXPECT_TRUE(store_->Read("fridges", bad).status().IsInvalidArgument());
}

TEST_F(LogTest, IteratorSeesSnapshot) {
  ASSERT_TRUE(store_->Append("fridges", FridgeRecord("a", 1)).ok());
  auto it = store_->Read("fridges");
  ASSERT_TRUE(it.ok());
  ASSERT_TRUE(store_->Append("fridges", FridgeRecord("a", 2)).ok());
  int n = 0;
  for (; (*it)->Valid(); (*it)->Next()) ++n;
  EXPECT_EQ(n, 1);
}

TEST_F(LogTest, RetentionByAgeAndCountHeldBackByGroup) {
  std::vector<Record> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(FridgeRecord("a", i * 1'000'000));
  ASSERT_TRUE(store_->Append("fridges", batch).ok());
  ASSERT_TRUE(store_->CreateGroup("learners", "fridges").ok());
  auto claim = store_->Claim("learners", "m1", 3, 60'000);
  ASSERT_TRUE(claim.ok());
  ASSERT_TRUE(store_->Ack("learners", claim->lease).ok());  // seqs 1..3 acknowledged

  // Age: records older than 6 s at now = 10 s -> seqs 1..4 (ts 0..3 s) wanted.
  ASSERT_TRUE(store_->SetRetention("fridges", {6'000'000, 0}).ok());
  auto report = store_->ApplyRetention("fridges", 10'000'000);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->wanted_through_seq, 4u);
  EXPECT_EQ(report->deleted_through_seq, 3u);
  ASSERT_EQ(report->held_back.size(), 1u);
  EXPECT_EQ(report->held_back[0].group, "learners");
  EXPECT_EQ(report->held_back[0].needs_from_seq, 4u);
  auto rows = ReadAll(*store_, "fridges");
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows.front().seq, 4u);

  // Count: keep 2 -> wants through 8; the group has now acked through 6.
  claim = store_->Claim("learners", "m1", 3, 60'000);
  ASSERT_TRUE(claim.ok());
  ASSERT_TRUE(store_->Ack("learners", claim->lease).ok());
  ASSERT_TRUE(store_->SetRetention("fridges", {0, 2}).ok());
  report = store_->ApplyRetention("fridges", 10'000'000);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->wanted_through_seq, 8u);
  EXPECT_EQ(report->deleted_through_seq, 6u);
  EXPECT_EQ(report->records_deleted, 3u);
  EXPECT_EQ(ReadAll(*store_, "fridges").front().seq, 7u);
}

TEST_F(LogTest, DeadLetterRows) {
  auto id = store_->AppendDeadLetterRow("fridges", "in.csv:7",
                                        "field 'temperature_c': not a number", "a,1,x,2");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(store_->AppendDeadLetterRow("other", "in.csv:9", "unknown stream", "zz").ok());
  Reopen();
  ASSERT_TRUE(store_->AppendDeadLetterRow("fridges", "in.csv:12", "bad", "\xff\xfe").ok());
  auto rows = store_->ListDeadLetterRows("fridges", 0, 100);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].id, *id);
  EXPECT_EQ((*rows)[0].source, "in.csv:7");
  EXPECT_EQ((*rows)[0].raw, "a,1,x,2");
  EXPECT_GT((*rows)[1].id, (*rows)[0].id + 1);  // ids continue after reopen
  auto all = store_->ListDeadLetterRows("", 0, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
}

TEST_F(LogTest, CorruptRecordStopsIteratorWithCorruption) {
  // Three appends: three chunks, under the keys of seqs 1, 2 and 3.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->Append("fridges", FridgeRecord("a", 1)).ok());
  store_.reset();
  {
    RawDb raw(dir_.Sub("store"));
    std::string key = storage::LogKey('r', storage::StreamId("fridges"), 2);
    std::string value;
    ASSERT_TRUE(raw.db()->Get(rocksdb::ReadOptions(), raw.log(), key, &value).ok());
    value[value.size() / 2] ^= 0x40;
    ASSERT_TRUE(raw.db()->Put(rocksdb::WriteOptions(), raw.log(), key, value).ok());
  }
  Reopen();
  auto it = store_->Read("fridges");
  ASSERT_TRUE(it.ok());
  int n = 0;
  for (; (*it)->Valid(); (*it)->Next()) ++n;
  EXPECT_EQ(n, 1);
  EXPECT_TRUE((*it)->status().IsCorruption()) << (*it)->status().ToString();
  EXPECT_NE((*it)->status().message().find("seq 2"), std::string_view::npos);
}

TEST(StoreOpenTest, MissingStoreWithoutCreateAndSecondOpen) {
  TempDir dir;
  StoreOptions options;
  options.create_if_missing = false;
  std::unique_ptr<Store> store;
  EXPECT_TRUE(Store::Open(options, dir.Sub("none"), &store).IsNotFound());
  auto first = OpenStore(dir.Sub("s"));
  ASSERT_TRUE(first);
  Status s = Store::Open(StoreOptions{}, dir.Sub("s"), &store);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("in use by another process"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace nemesyst::testing
