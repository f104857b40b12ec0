// Consumer groups: unique batches, ack/nack, lease expiry and redelivery, dead letters, progress
// across reopen, and many members claiming while many threads append.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "tests/storage/store_fixture.h"

namespace nemesyst::testing {
namespace {

class GroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenStore(dir_.Sub("store"), Durability::kAsync, options_);
    ASSERT_TRUE(store_);
    ASSERT_TRUE(store_->CreateStream("fridges", FridgeSchema()).ok());
  }
  void AppendN(int n) {
    std::vector<Record> batch;
    for (int i = 0; i < n; ++i) batch.push_back(FridgeRecord("d", i));
    ASSERT_TRUE(store_->Append("fridges", batch).ok());
  }
  TempDir dir_;
  StoreOptions options_;
  std::unique_ptr<Store> store_;
};

TEST_F(GroupTest, ClaimsAreDisjointAndAckedProgressSurvivesReopen) {
  AppendN(10);
  ASSERT_TRUE(store_->CreateGroup("learners", "fridges").ok());
  EXPECT_EQ(store_->CreateGroup("learners", "fridges").code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(store_->CreateGroup("g2", "nope").IsNotFound());

  auto a = store_->Claim("learners", "m1", 4, 60'000);
  auto b = store_->Claim("learners", "m2", 4, 60'000);
  auto c = store_->Claim("learners", "m3", 4, 60'000);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->range.first, 1u);
  EXPECT_EQ(a->range.last, 4u);
  EXPECT_EQ(b->range.first, 5u);
  EXPECT_EQ(c->range.first, 9u);
  EXPECT_EQ(c->range.last, 10u);  // only what exists
  EXPECT_EQ(c->stream, "fridges");
  EXPECT_TRUE(store_->Claim("learners", "m1", 4, 60'000).status().IsWouldBlock());

  ASSERT_TRUE(store_->Ack("learners", a->lease).ok());
  ASSERT_TRUE(store_->Ack("learners", c->lease).ok());
  EXPECT_EQ(store_->Ack("learners", a->lease).code(), StatusCode::kFailedPrecondition);
  auto stats = store_->GetGroupStats("learners");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->committed_seq, 4u);
  EXPECT_EQ(stats->leased_batches, 1u);
  EXPECT_EQ(stats->acked_batches_total, 2u);

  // Restart: b (unacked) comes back once its lease expires... here via Nack after reopen; the
  // acknowledged ranges never come back.
  store_.reset();
  store_ = OpenStore(dir_.Sub("store"));
  ASSERT_TRUE(store_);
  stats = store_->GetGroupStats("learners");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->committed_seq, 4u);
  EXPECT_EQ(stats->next_unclaimed_seq, 11u);
  ASSERT_TRUE(store_->Nack("learners", b->lease).ok());
  auto again = store_->Claim("learners", "m9", 100, 60'000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->range.first, 5u);
  EXPECT_EQ(again->range.last, 8u);
  EXPECT_EQ(again->lease.delivery, 2u);
  EXPECT_EQ(store_->Ack("learners", b->lease).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store_->Ack("learners", again->lease).ok());
  EXPECT_TRUE(store_->Claim("learners", "m1", 4, 60'000).status().IsWouldBlock());
  stats = store_->GetGroupStats("learners");
  EXPECT_EQ(stats->committed_seq, 10u);
  EXPECT_EQ(stats->redeliveries_total, 1u);
}

TEST_F(GroupTest, DeleteRefusesUnacknowledgedBatchesUnlessForcedAndFreesRetention) {
  AppendN(10);
  ASSERT_TRUE(store_->CreateGroup("learners", "fridges").ok());
  auto held = store_->Claim("learners", "m1", 4, 60'000);
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE(store_->SetRetention("fridges", {0, 2}).ok());
  auto report = store_->ApplyRetention("fridges");
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->deleted_through_seq, 0u);  // the claim holds seq 1.. back
  ASSERT_EQ(report->held_back.size(), 1u);

  Status refused = store_->DeleteGroup("learners");
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("claimed by 'm1'"), std::string_view::npos)
      << refused.ToString();
  EXPECT_TRUE(store_->GetGroupStats("learners").ok());  // refused = untouched

  ASSERT_TRUE(store_->DeleteGroup("learners", /*force=*/true).ok());
  EXPECT_TRUE(store_->DeleteGroup("learners", true).IsNotFound());
  EXPECT_TRUE(store_->GetGroupStats("learners").status().IsNotFound());
  EXPECT_TRUE(store_->Ack("learners", held->lease).IsNotFound());  // the old holder is told
  auto names = store_->ListGroups();
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
  report = store_->ApplyRetention("fridges");
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->deleted_through_seq, 8u);  // nothing holds it back any more
  EXPECT_TRUE(report->held_back.empty());

  // Gone on disk too: after a reopen the name is free and a new group starts afresh.
  store_.reset();
  store_ = OpenStore(dir_.Sub("store"));
  ASSERT_TRUE(store_);
  EXPECT_TRUE(store_->GetGroupStats("learners").status().IsNotFound());
  ASSERT_TRUE(store_->CreateGroup("learners", "fridges").ok());
  auto fresh = store_->Claim("learners", "m2", 100, 60'000);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->range.first, 9u);
  EXPECT_EQ(fresh->lease.batch_id, 1u);
  // A group whose batches are all acknowledged needs no force.
  ASSERT_TRUE(store_->Ack("learners", fresh->lease).ok());
  EXPECT_TRUE(store_->DeleteGroup("learners").ok());
}

TEST_F(GroupTest, LeaseExpiryRedeliversAndDeadLettersAfterMaxDeliveries) {
  options_.max_deliveries = 3;
  store_.reset();
  store_ = OpenStore(dir_.Sub("store"), Durability::kAsync, options_);
  AppendN(5);
  ASSERT_TRUE(store_->CreateGroup("g", "fridges").ok());
  auto first = store_->Claim("g", "slow", 5, 20);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(store_->Claim("g", "other", 5, 20).status().IsWouldBlock());  // lease running
  uint32_t deliveries = 1;
  for (; deliveries < 3; ++deliveries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    auto re = store_->Claim("g", "other", 5, 20);
    ASSERT_TRUE(re.ok()) << re.status().ToString();
    EXPECT_EQ(re->range.first, 1u);
    EXPECT_EQ(re->lease.delivery, deliveries + 1);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  // Third delivery expired: the batch goes to the dead-letter list, nothing else to hand out.
  EXPECT_TRUE(store_->Claim("g", "other", 5, 20).status().IsWouldBlock());
  auto dead = store_->ListDeadLetterBatches("g");
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].range.last, 5u);
  EXPECT_EQ((*dead)[0].deliveries, 3u);
  EXPECT_EQ((*dead)[0].last_member, "other");
  auto stats = store_->GetGroupStats("g");
  EXPECT_EQ(stats->dead_letter_batches, 1u);
  EXPECT_EQ(stats->committed_seq, 0u);  // dead letters still hold retention back

  // A late ack from the first holder is refused: the batch moved on.
  EXPECT_EQ(store_->Ack("g", first->lease).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store_->ResolveDeadLetterBatch("g", (*dead)[0].batch_id).ok());
  EXPECT_EQ(store_->GetGroupStats("g")->committed_seq, 5u);
  EXPECT_TRUE(store_->ResolveDeadLetterBatch("g", (*dead)[0].batch_id).IsNotFound());
}

TEST_F(GroupTest, AckAfterExpiryAcceptedWhenNotReclaimed) {
  AppendN(3);
  ASSERT_TRUE(store_->CreateGroup("g", "fridges", GroupStart::kEarliest).ok());
  auto claim = store_->Claim("g", "m", 10, 1);
  ASSERT_TRUE(claim.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(store_->Ack("g", claim->lease).ok());
  ASSERT_TRUE(store_->CreateGroup("late", "fridges", GroupStart::kLatest).ok());
  EXPECT_TRUE(store_->Claim("late", "m", 10, 1000).status().IsWouldBlock());
  AppendN(1);
  auto late = store_->Claim("late", "m", 10, 1000);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->range.first, 4u);
  EXPECT_TRUE(store_->Claim("nope", "m", 1, 1).status().IsNotFound());
  EXPECT_TRUE(store_->Claim("g", "", 1, 1).status().IsInvalidArgument());
  EXPECT_TRUE(store_->Claim("g", "m", 0, 1).status().IsInvalidArgument());
}

// A renewed lease outlives its first expiry (no redelivery while the holder keeps renewing), the
// new expiry survives a reopen, and only the current holder of a batch still held can renew.
TEST_F(GroupTest, RenewedLeaseIsNotRedeliveredAndOnlyTheHolderCanRenew) {
  AppendN(4);
  ASSERT_TRUE(store_->CreateGroup("g", "fridges").ok());
  auto claim = store_->Claim("g", "worker", 4, 100);
  ASSERT_TRUE(claim.ok());
  auto renewed = store_->RenewLease("g", claim->lease, 60'000);
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_GE(*renewed, claim->lease_expires_ms + 59'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // past the first expiry
  EXPECT_TRUE(store_->Claim("g", "other", 4, 100).status().IsWouldBlock());
  store_.reset();
  store_ = OpenStore(dir_.Sub("store"), Durability::kAsync, options_);
  ASSERT_TRUE(store_);
  EXPECT_TRUE(store_->Claim("g", "other", 4, 100).status().IsWouldBlock());
  EXPECT_EQ(store_->GetGroupStats("g")->leased_batches, 1u);

  // Renewing after expiry is accepted while nobody re-claimed the batch ...
  ASSERT_TRUE(store_->RenewLease("g", claim->lease, 1).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(store_->RenewLease("g", claim->lease, 1).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // ... and refused once it was: the new delivery owns it.
  auto taken = store_->Claim("g", "other", 4, 60'000);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken->lease.delivery, 2u);
  EXPECT_EQ(store_->RenewLease("g", claim->lease, 60'000).status().code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store_->RenewLease("g", taken->lease, 60'000).ok());
  ASSERT_TRUE(store_->Ack("g", taken->lease).ok());
  EXPECT_EQ(store_->RenewLease("g", taken->lease, 60'000).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_->RenewLease("g", taken->lease, 0).status().IsInvalidArgument());
  EXPECT_TRUE(store_->RenewLease("nope", taken->lease, 1000).status().IsNotFound());
}

// Appenders and members at once: when every member acks, every record is delivered to exactly
// one member.
TEST_F(GroupTest, ConcurrentAppendersAndMembersDeliverExactlyOnce) {
  store_.reset();
  store_ = OpenStore(dir_.Sub("store"), Durability::kGroup, options_);
  ASSERT_TRUE(store_->CreateGroup("learners", "fridges").ok());
  constexpr int kAppenders = 3, kBatchesEach = 40, kBatchSize = 7, kMembers = 4;
  constexpr uint64_t kTotal = uint64_t(kAppenders) * kBatchesEach * kBatchSize;
  std::atomic<int> appenders_done{0};
  std::mutex mu;
  std::vector<int> delivered(kTotal + 1, 0);
  std::vector<std::thread> threads;
  for (int a = 0; a < kAppenders; ++a) {
    threads.emplace_back([&, a] {
      for (int b = 0; b < kBatchesEach; ++b) {
        std::vector<Record> batch;
        for (int i = 0; i < kBatchSize; ++i)
          batch.push_back(FridgeRecord("t" + std::to_string(a), b));
        EXPECT_TRUE(store_->Append("fridges", batch).ok());
      }
      appenders_done++;
    });
  }
  for (int m = 0; m < kMembers; ++m) {
    threads.emplace_back([&, m] {
      std::string member = "m" + std::to_string(m);
      while (true) {
        auto claim = store_->Claim("learners", member, 1 + m * 5, 60'000);
        if (!claim.ok()) {
          ASSERT_TRUE(claim.status().IsWouldBlock()) << claim.status().ToString();
          if (appenders_done == kAppenders) {
            // Everything appended is durable; one more claim decides.
            auto last = store_->Claim("learners", member, 1 + m * 5, 60'000);
            if (!last.ok()) break;
            claim = std::move(last);
          } else {
            std::this_thread::yield();
            continue;
          }
        }
        auto rows = ReadAll(*store_, "fridges", {claim->range.first, claim->range.last});
        {
          std::lock_guard lock(mu);
          for (const auto& r : rows) delivered[r.seq]++;
        }
        ASSERT_TRUE(store_->Ack("learners", claim->lease).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  uint64_t count = 0;
  for (uint64_t seq = 1; seq <= kTotal; ++seq) {
    EXPECT_EQ(delivered[seq], 1) << "seq " << seq;
    count += delivered[seq];
  }
  EXPECT_EQ(count, kTotal);
  auto stats = store_->GetGroupStats("learners");
  EXPECT_EQ(stats->committed_seq, kTotal);
  EXPECT_EQ(stats->redeliveries_total, 0u);
}

}  // namespace
}  // namespace nemesyst::testing
