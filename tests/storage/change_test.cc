// The change journal: what one store writes can be read out after a position and applied on
// another store, idempotently, giving the same records, models and aliases.
#include <gtest/gtest.h>

#include "storage/change_format.h"
#include "storage/model_format.h"
#include "tests/storage/store_fixture.h"

namespace nemesyst::testing {
namespace {

TEST(ChangeTest, ReplicateLogAndRegistryIdempotently) {
  TempDir dir;
  auto source = OpenStore(dir.Sub("source"));
  auto replica = OpenStore(dir.Sub("replica"));
  ASSERT_TRUE(source && replica);
  ASSERT_TRUE(source->CreateStream("fridges", FridgeSchema()).ok());
  ASSERT_TRUE(source->Append("fridges", std::vector<Record>(5, FridgeRecord("a", 1))).ok());
  ASSERT_TRUE(source->PutModel("m", std::string(5000, 'w'), {}).ok());
  ASSERT_TRUE(source->SetAlias("m", "production", 1).ok());
  ASSERT_TRUE(source->Append("fridges", FridgeRecord("b", 2)).ok());
  EXPECT_EQ(source->LastChangePosition(), 5u);

  // An append cannot be applied before its stream's definition.
  auto changes = source->ReadChanges(1, 1);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ(replica->ApplyChange((*changes)[0].bytes).code(), StatusCode::kFailedPrecondition);

  // Ship in two pages, then everything again (idempotent).
  uint64_t position = 0;
  for (int pass = 0; pass < 2; ++pass) {
    position = 0;
    while (true) {
      auto page = source->ReadChanges(position, 2);
      ASSERT_TRUE(page.ok());
      if (page->empty()) break;
      for (const auto& change : *page) {
        Status s = replica->ApplyChange(change.bytes);
        ASSERT_TRUE(s.ok()) << s.ToString();
        position = change.position;
      }
    }
  }
  EXPECT_EQ(position, 5u);
  EXPECT_EQ(replica->LastChangePosition(), 5u);
  auto rows = ReadAll(*replica, "fridges");
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[5].record.device_id, "b");
  EXPECT_EQ(*replica->ReadModelBlob("m", 1), std::string(5000, 'w'));
  EXPECT_EQ(*replica->ResolveAlias("m", "production"), 1u);

  // Changes after a position only; and the replica's counters continue after what it applied.
  ASSERT_TRUE(source->RemoveAlias("m", "production").ok());
  auto tail = source->ReadChanges(5, 100);
  ASSERT_EQ(tail->size(), 1u);
  // A byte budget stops the read after the change that reaches it (the first always comes).
  auto all = source->ReadChanges(0, 100);
  ASSERT_EQ(all->size(), 6u);
  EXPECT_EQ(source->ReadChanges(0, 100, 1)->size(), 1u);
  const size_t two = (*all)[0].bytes.size() + (*all)[1].bytes.size();
  EXPECT_EQ(source->ReadChanges(0, 100, two)->size(), 2u);
  EXPECT_EQ(source->ReadChanges(0, 100, two + 1)->size(), 3u);
  ASSERT_TRUE(replica->ApplyChange((*tail)[0].bytes).ok());
  EXPECT_TRUE(replica->ResolveAlias("m", "production").status().IsNotFound());
  replica.reset();
  replica = OpenStore(dir.Sub("replica"));
  EXPECT_EQ(replica->GetStreamInfo("fridges")->next_seq, 7u);
  EXPECT_EQ(replica->LastChangePosition(), 6u);

  std::string corrupt = (*tail)[0].bytes;
  corrupt[corrupt.size() / 2] ^= 1;
  EXPECT_TRUE(replica->ApplyChange(corrupt).IsCorruption());
}

// A replicated model version is installed only if its content matches the SHA-256 the writing
// registry recorded: a chunk replaced by other bytes (with a valid CRC of its own) is refused.
TEST(ChangeTest, AReplicatedModelWhoseContentDoesNotMatchItsDigestIsNotInstalled) {
  TempDir dir;
  auto source = OpenStore(dir.Sub("source"));
  auto replica = OpenStore(dir.Sub("replica"));
  ASSERT_TRUE(source && replica);
  ASSERT_TRUE(source->PutModel("m", std::string(5000, 'w'), {}).ok());
  auto changes = source->ReadChanges(0, 10);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 1u);
  storage::DecodedChange change;
  ASSERT_TRUE(storage::DecodeChange((*changes)[0].bytes, &change).ok());
  bool tampered = false;
  for (storage::ChangeOp& op : change.ops) {
    std::string_view data;
    if (op.key.starts_with(storage::ModelChunkPrefix("m", 1)) &&
        storage::DecodeChunk(op.value, &data).ok()) {
      std::string other(data);
      other[0] = 'X';
      op.value = storage::EncodeChunk(other);  // a chunk that checks out on its own
      tampered = true;
      break;
    }
  }
  ASSERT_TRUE(tampered);
  Status s = replica->ApplyChange(storage::EncodeChange(change));
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("SHA-256"), std::string_view::npos) << s.ToString();
  EXPECT_TRUE(replica->ReadModelBlob("m", 1).status().IsNotFound());
  EXPECT_EQ(replica->LastChangePosition(), 0u);
  // The untouched change installs.
  ASSERT_TRUE(replica->ApplyChange((*changes)[0].bytes).ok());
  EXPECT_EQ(replica->ReadModelBlob("m", 1).value(), std::string(5000, 'w'));
}

}  // namespace
}  // namespace nemesyst::testing
