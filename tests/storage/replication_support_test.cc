// What replication needs from a store: histories, stamped journal entries, trimming without reuse,
// checkpoints, a digest of the replicated content, node state, and read-only opens beside a
// process that owns the store.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/storage/store_fixture.h"

namespace nemesyst::testing {
namespace {

void CopyEverything(const Store& from, Store* to) {
  uint64_t position = 0;
  while (true) {
    auto page = from.ReadChanges(position, 16);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    if (page->empty()) break;
    for (const auto& change : *page) {
      ASSERT_TRUE(to->ApplyChange(change.bytes).ok());
      position = change.position;
    }
  }
}

TEST(ReplicationSupportTest, HistoryIsCreatedKeptAndRotated) {
  TempDir dir;
  std::string first_id;
  {
    auto store = OpenStore(dir.Sub("s"));
    const HistoryInfo h = store->History();
    EXPECT_EQ(h.id.size(), 32u);
    EXPECT_TRUE(h.previous_id.empty());
    first_id = h.id;
    ASSERT_TRUE(store->CreateStream("fridges", FridgeSchema()).ok());
    ASSERT_TRUE(store->Append("fridges", FridgeRecord("a", 1)).ok());
  }
  auto store = OpenStore(dir.Sub("s"));
  EXPECT_EQ(store->History().id, first_id) << "a restart keeps the history";
  ASSERT_TRUE(store->StartNewHistory().ok());
  const HistoryInfo next = store->History();
  EXPECT_NE(next.id, first_id);
  EXPECT_EQ(next.previous_id, first_id);
  EXPECT_EQ(next.switch_position, 2u);
  auto other = OpenStore(dir.Sub("other"));
  EXPECT_NE(other->History().id, first_id) << "every new store starts its own history";
  ASSERT_TRUE(other->AdoptHistory(next).ok());
  EXPECT_EQ(other->History().id, next.id);
  EXPECT_FALSE(other->AdoptHistory(HistoryInfo{}).ok());
}

// The same position written by two stores (a store and a copy that went its own way) carries
// different stamps; the stamp travels with the change, so a replica's entry equals its source's.
TEST(ReplicationSupportTest, StampsTellWritesApartAndTravelWithChanges) {
  TempDir dir;
  auto a = OpenStore(dir.Sub("a"));
  auto b = OpenStore(dir.Sub("b"));
  for (Store* s : {a.get(), b.get()}) {
    ASSERT_TRUE(s->CreateStream("fridges", FridgeSchema()).ok());
    ASSERT_TRUE(s->Append("fridges", FridgeRecord("a", 1)).ok());
  }
  auto pa = a->JournalPointAt(2), pb = b->JournalPointAt(2);
  ASSERT_TRUE(pa.ok() && pb.ok());
  EXPECT_NE(pa->stamp, pb->stamp);
  EXPECT_GT(pa->written_us, 0);
  EXPECT_GT(pa->bytes, 0u);
  auto replica = OpenStore(dir.Sub("replica"));
  CopyEverything(*a, replica.get());
  auto pr = replica->JournalPointAt(2);
  ASSERT_TRUE(pr.ok());
  EXPECT_EQ(pr->stamp, pa->stamp);
  auto changes = a->ReadChanges(1, 1);
  auto described = Store::DescribeChange((*changes)[0].bytes);
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(described->position, 2u);
  EXPECT_EQ(described->stamp, pa->stamp);
  std::string damaged = (*changes)[0].bytes;
  damaged[damaged.size() / 2] ^= 1;
  EXPECT_EQ(Store::DescribeChange(damaged).status().code(), StatusCode::kCorruption);
  EXPECT_TRUE(a->JournalPointAt(99).status().IsNotFound());
}

TEST(ReplicationSupportTest, TrimmedPositionsAreGoneAndNeverReused) {
  TempDir dir;
  {
    auto store = OpenStore(dir.Sub("s"));
    ASSERT_TRUE(store->CreateStream("fridges", FridgeSchema()).ok());
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(store->Append("fridges", FridgeRecord("a", i)).ok());
    EXPECT_EQ(store->FirstChangePosition(), 1u);
    auto points = store->ReadJournalPoints(2, 10);
    ASSERT_TRUE(points.ok());
    ASSERT_EQ(points->size(), 3u);
    EXPECT_EQ((*points)[0].position, 3u);
    EXPECT_GT((*points)[0].bytes, 0u);
    ASSERT_TRUE(store->TrimJournal(3).ok());
    EXPECT_EQ(store->FirstChangePosition(), 4u);
    EXPECT_TRUE(store->JournalPointAt(3).status().IsNotFound());
    auto rest = store->ReadChanges(0, 10);
    ASSERT_EQ(rest->size(), 2u);
    EXPECT_EQ((*rest)[0].position, 4u);
    ASSERT_TRUE(store->TrimJournal(1000).ok());  // clamped to what is finished: everything
    EXPECT_EQ(store->FirstChangePosition(), 6u);
    EXPECT_TRUE(store->ReadJournalPoints(0, 10)->empty());
    EXPECT_EQ(ReadAll(*store, "fridges").size(), 4u) << "trimming keeps the data";
  }
  auto store = OpenStore(dir.Sub("s"));
  EXPECT_EQ(store->LastChangePosition(), 5u);
  ASSERT_TRUE(store->Append("fridges", FridgeRecord("a", 9)).ok());
  EXPECT_EQ(store->LastChangePosition(), 6u) << "positions continue after the trimmed ones";
}

TEST(ReplicationSupportTest, CheckpointAndDigestOfTheReplicatedContent) {
  TempDir dir;
  auto source = OpenStore(dir.Sub("source"));
  ASSERT_TRUE(source->CreateStream("fridges", FridgeSchema()).ok());
  ASSERT_TRUE(source->Append("fridges", std::vector<Record>(300, FridgeRecord("a", 1))).ok());
  ASSERT_TRUE(source->PutModel("m", std::string(3000, 'w'), {}).ok());
  ASSERT_TRUE(source->SetAlias("m", "production", 1).ok());
  ASSERT_TRUE(source->CreateGroup("learners", "fridges").ok());  // local: not in the digest
  auto position = source->CreateCheckpoint(dir.Sub("copy"));
  ASSERT_TRUE(position.ok()) << position.status().ToString();
  EXPECT_EQ(*position, 4u);
  auto copy = OpenStore(dir.Sub("copy"));
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->LastChangePosition(), 4u);
  EXPECT_EQ(copy->History().id, source->History().id) << "a copy carries its history";
  const std::string digest = source->ReplicatedDigest().value();
  EXPECT_EQ(digest.size(), 64u);
  EXPECT_EQ(copy->ReplicatedDigest().value(), digest);
  EXPECT_TRUE(source->CreateCheckpoint(dir.Sub("copy")).status().code() != StatusCode::kOk)
      << "the directory exists";

  auto replica = OpenStore(dir.Sub("replica"));
  EXPECT_NE(replica->ReplicatedDigest().value(), digest);
  CopyEverything(*source, replica.get());
  EXPECT_EQ(replica->ReplicatedDigest().value(), digest);
  ASSERT_TRUE(source->Append("fridges", FridgeRecord("b", 2)).ok());
  EXPECT_NE(source->ReplicatedDigest().value(), digest);
}

TEST(ReplicationSupportTest, NodeStateIsKeptAndNotJournaled) {
  TempDir dir;
  {
    auto store = OpenStore(dir.Sub("s"));
    EXPECT_TRUE(store->GetNodeState("epoch").status().IsNotFound());
    ASSERT_TRUE(store->PutNodeState("epoch", std::string("\x00\x07", 2)).ok());
    EXPECT_EQ(store->LastChangePosition(), 0u);
    EXPECT_FALSE(store->PutNodeState("bad key!", "x").ok());
  }
  auto store = OpenStore(dir.Sub("s"));
  EXPECT_EQ(store->GetNodeState("epoch").value(), std::string("\x00\x07", 2));
}

// A store owned by another Store (a running node) is refused for writing with a message naming
// the owner, and read-only opens see its data, refuse writes, and never create anything.
TEST(ReplicationSupportTest, ReadOnlyOpensBesideTheOwnerAndWriteOpensAreRefusedClearly) {
  TempDir dir;
  StoreOptions owner_options;
  owner_options.owner_note = "node 'store-1' (role store, pid 42)";
  auto owner = OpenStore(dir.Sub("s"), Durability::kGroup, owner_options);
  ASSERT_TRUE(owner->CreateStream("fridges", FridgeSchema()).ok());
  ASSERT_TRUE(owner->Append("fridges", FridgeRecord("a", 1)).ok());

  std::unique_ptr<Store> second;
  Status s = Store::Open(StoreOptions{}, dir.Sub("s"), &second);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("node 'store-1' (role store, pid 42)"), std::string::npos)
      << s.ToString();

  StoreOptions ro;
  ro.read_only = true;
  std::unique_ptr<Store> reader;
  s = Store::Open(ro, dir.Sub("s"), &reader);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ReadAll(*reader, "fridges").size(), 1u);
  EXPECT_EQ(reader->History().id, owner->History().id);
  EXPECT_EQ(reader->Append("fridges", FridgeRecord("b", 2)).status().code(),
            StatusCode::kFailedPrecondition);
  reader.reset();
  owner.reset();
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(dir.Sub("s")) / "OWNER"));

  s = Store::Open(ro, dir.Sub("missing"), &reader);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("missing")));
}

}  // namespace
}  // namespace nemesyst::testing
