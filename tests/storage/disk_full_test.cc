// A full disk under a running store: the write that does not fit fails with ResourceExhausted and
// says what did commit, reads keep working, nothing acknowledged is lost, and writes resume by
// themselves once there is space again — in every durability mode, on a real tmpfs (root only).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/storage/store_fixture.h"
#include "tests/testing/tmpfs.h"

namespace nemesyst::testing {
namespace {

class DiskFullTest : public ::testing::TestWithParam<Durability> {};

TEST_P(DiskFullTest, WritesStopCleanlyReadsWorkAndWritesResumeOnceSpaceIsFreed) {
  Tmpfs disk(2 << 20);
  if (!disk.mounted()) GTEST_SKIP() << disk.error();
  const std::string path = disk.Sub("store");
  auto store = OpenStore(path, GetParam());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->CreateStream("fridges", FridgeSchema()).ok());

  // Append batches until the disk refuses one (bounded: 2 MiB holds far fewer than 400 batches).
  uint64_t acknowledged = 0;
  Status refused;
  for (int batch = 0; batch < 400 && refused.ok(); ++batch) {
    std::vector<Record> records;
    for (int i = 0; i < 500; ++i) {
      records.push_back(FridgeRecord("case-" + std::to_string(i % 7), batch * 500 + i, i % 40));
    }
    auto r = store->Append("fridges", records);
    if (r.ok()) {
      ASSERT_EQ(r->last, acknowledged + 500);
      acknowledged = r->last;
    } else {
      refused = r.status();
    }
  }
  ASSERT_FALSE(refused.ok()) << "the disk never filled";
  ASSERT_GT(acknowledged, 0u);
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted) << refused.ToString();
  EXPECT_NE(refused.message().find("last committed seq is " + std::to_string(acknowledged)),
            std::string_view::npos)
      << refused.ToString();
  // While the disk is full: further writes are refused the same way, reads see every record.
  EXPECT_EQ(store->Append("fridges", std::vector<Record>{FridgeRecord("x", 1)}).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(ReadAll(*store, "fridges").size(), acknowledged);
  // Retention deletes by writing too: on the full disk it fails cleanly and deletes nothing.
  const Status policy = store->SetRetention("fridges", {0, acknowledged - 500});
  EXPECT_TRUE(policy.ok() || policy.code() == StatusCode::kResourceExhausted) << policy.ToString();
  auto retained = store->ApplyRetention("fridges");
  if (!retained.ok()) {
    EXPECT_EQ(retained.status().code(), StatusCode::kResourceExhausted)
        << retained.status().ToString();
    EXPECT_EQ(ReadAll(*store, "fridges").size(), acknowledged);
  }

  ASSERT_TRUE(disk.Resize(64 << 20));
  // Writes resume by themselves (at most one retry a second while the disk was full).
  Result<SeqRange> resumed = Status::ResourceExhausted("not tried");
  for (int attempt = 0; attempt < 30 && !resumed.ok(); ++attempt) {
    resumed = store->Append("fridges", std::vector<Record>{FridgeRecord("after", 7)});
    if (!resumed.ok()) {
      ASSERT_EQ(resumed.status().code(), StatusCode::kResourceExhausted)
          << resumed.status().ToString();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  // With space again, retention runs (the policy may not have been stored while the disk was
  // full: set it again).
  ASSERT_TRUE(store->SetRetention("fridges", {0, acknowledged - 500}).ok());
  retained = store->ApplyRetention("fridges");
  ASSERT_TRUE(retained.ok()) << retained.status().ToString();
  // The refused appends burned their seqs (StreamInfo: holes are possible), so the resumed record
  // is not acknowledged + 1; the policy counts from the last seq.
  const uint64_t after_seq = resumed->first;
  ASSERT_GT(after_seq, acknowledged);
  EXPECT_EQ(retained->deleted_through_seq, after_seq - (acknowledged - 500));
  const uint64_t kept_from = retained->deleted_through_seq + 1;

  // Nothing acknowledged was lost, across a reopen too.
  store.reset();
  store = OpenStore(path, GetParam());
  ASSERT_TRUE(store);
  const auto all = ReadAll(*store, "fridges");
  ASSERT_EQ(all.size(), acknowledged - kept_from + 2);
  for (uint64_t i = 0; i + kept_from <= acknowledged; ++i) {
    ASSERT_EQ(all[i].seq, kept_from + i);
    ASSERT_EQ(all[i].record.timestamp_us, static_cast<int64_t>(kept_from - 1 + i));
  }
  EXPECT_EQ(all.back().record.device_id, "after");
}

INSTANTIATE_TEST_SUITE_P(EveryDurability, DiskFullTest,
                         ::testing::Values(Durability::kSync, Durability::kGroup,
                                           Durability::kAsync),
                         [](const auto& info) { return std::string(DurabilityName(info.param)); });

}  // namespace
}  // namespace nemesyst::testing
