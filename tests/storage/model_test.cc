// Model registry: versions, metadata round trip, aliases, best-by-metric, retire, corruption of
// stored bytes (written through RocksDB directly), and the atomic ack + model commit.
#include <gtest/gtest.h>

#include "storage/model_format.h"
#include "tests/storage/store_fixture.h"

namespace nemesyst::testing {
namespace {

ModelMetadata Meta(double val_loss, double accuracy) {
  ModelMetadata m;
  m.kind = "lstm";
  m.hyper_parameters = {{"hidden", "64"}, {"learning_rate", "0.001"}};
  m.metrics = {{"val_loss", val_loss}, {"accuracy", accuracy}};
  m.epoch_metrics = {{1, {{"train_loss", 0.9}}}, {2, {{"train_loss", 0.5}}}};
  m.lineage.stream = "fridges";
  m.lineage.seq_ranges = {{1, 100}, {201, 300}};
  m.lineage.pipeline_spec = "[window]\nsteps = 24\n";
  m.lineage.node_id = "hub";
  m.lineage.code_version = "0.1.0";
  return m;
}

std::string Blob(size_t n, char seed) {
  std::string b(n, '\0');
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<char>(seed + i * 31 + (i >> 7));
  return b;
}

class ModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.model_chunk_bytes = 1000;  // several chunks for small blobs
    Reopen();
  }
  void Reopen() {
    store_.reset();
    store_ = OpenStore(dir_.Sub("store"), Durability::kAsync, options_);
    ASSERT_TRUE(store_);
  }
  TempDir dir_;
  StoreOptions options_;
  std::unique_ptr<Store> store_;
};

TEST_F(ModelTest, VersionsMetadataAndBlobsRoundTrip) {
  std::string b1 = Blob(3500, 1), b2 = Blob(0, 0), b3 = Blob(1000, 7);
  auto v1 = store_->PutModel("fridge-lstm", b1, Meta(0.30, 0.80));
  auto v2 = store_->PutModel("fridge-lstm", b2, Meta(0.20, 0.85));
  ASSERT_TRUE(v1.ok() && v2.ok()) << v1.status().ToString();
  EXPECT_EQ(*v1, 1u);
  EXPECT_EQ(*v2, 2u);
  Reopen();
  auto v3 = store_->PutModel("fridge-lstm", b3, Meta(0.25, 0.90));
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ(*v3, 3u);
  EXPECT_EQ(*store_->PutModel("other", "x", {}), 1u);

  EXPECT_EQ(*store_->ReadModelBlob("fridge-lstm", 1), b1);
  EXPECT_EQ(*store_->ReadModelBlob("fridge-lstm", 2), b2);
  EXPECT_EQ(*store_->ReadModelBlob("fridge-lstm", 3), b3);
  auto info = store_->GetModelInfo("fridge-lstm", 1);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->blob_bytes, 3500u);
  EXPECT_EQ(info->metadata.kind, "lstm");
  EXPECT_EQ(info->metadata.hyper_parameters.at("hidden"), "64");
  EXPECT_EQ(info->metadata.metrics.at("val_loss"), 0.30);
  ASSERT_EQ(info->metadata.epoch_metrics.size(), 2u);
  EXPECT_EQ(info->metadata.epoch_metrics[1].metrics.at("train_loss"), 0.5);
  ASSERT_EQ(info->metadata.lineage.seq_ranges.size(), 2u);
  EXPECT_EQ(info->metadata.lineage.seq_ranges[1].first, 201u);
  EXPECT_EQ(info->metadata.lineage.pipeline_spec, "[window]\nsteps = 24\n");
  EXPECT_GT(info->metadata.lineage.created_us, 0);
  EXPECT_TRUE(store_->GetModelInfo("fridge-lstm", 4).status().IsNotFound());
  EXPECT_TRUE(store_->ReadModelBlob("nope", 1).status().IsNotFound());
  EXPECT_EQ(*store_->ListModelNames(), (std::vector<std::string>{"fridge-lstm", "other"}));
}

TEST_F(ModelTest, AliasesBestByMetricAndRetire) {
  for (auto [loss, acc] : {std::pair{0.3, 0.8}, {0.2, 0.85}, {0.25, 0.9}, {0.2, 0.7}}) {
    ASSERT_TRUE(store_->PutModel("m", "blob", Meta(loss, acc)).ok());
  }
  EXPECT_EQ(*store_->BestModelVersion("m", "val_loss", MetricOrder::kLowerIsBetter), 4u);  // tie
  EXPECT_EQ(*store_->BestModelVersion("m", "accuracy", MetricOrder::kHigherIsBetter), 3u);
  EXPECT_TRUE(
      store_->BestModelVersion("m", "f1", MetricOrder::kHigherIsBetter).status().IsNotFound());

  ASSERT_TRUE(store_->SetAlias("m", "production", 2).ok());
  ASSERT_TRUE(store_->SetAlias("m", "candidate", 3).ok());
  EXPECT_EQ(*store_->ResolveAlias("m", "production"), 2u);
  ASSERT_TRUE(store_->SetAlias("m", "production", 3).ok());  // moved
  EXPECT_EQ(*store_->ResolveAlias("m", "production"), 3u);
  EXPECT_EQ(store_->GetModelInfo("m", 3)->aliases,
            (std::vector<std::string>{"candidate", "production"}));
  EXPECT_TRUE(store_->SetAlias("m", "x", 9).IsNotFound());
  EXPECT_TRUE(store_->ResolveAlias("m", "staging").status().IsNotFound());

  EXPECT_EQ(store_->RetireModel("m", 3).code(), StatusCode::kFailedPrecondition);  // aliased
  ASSERT_TRUE(store_->RetireModel("m", 4).ok());
  EXPECT_EQ(*store_->BestModelVersion("m", "val_loss", MetricOrder::kLowerIsBetter), 2u);
  EXPECT_EQ(store_->SetAlias("m", "candidate", 4).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->ListModelVersions("m")->size(), 3u);
  EXPECT_EQ(store_->ListModelVersions("m", true)->size(), 4u);
  EXPECT_TRUE(store_->GetModelInfo("m", 4)->retired);
  ASSERT_TRUE(store_->RemoveAlias("m", "candidate").ok());
  EXPECT_TRUE(store_->RemoveAlias("m", "candidate").IsNotFound());
  // Versions are never reused after retire.
  EXPECT_EQ(*store_->PutModel("m", "blob", {}), 5u);
}

TEST_F(ModelTest, CorruptOrTruncatedBlobIsNeverHandedOut) {
  std::string blob = Blob(3500, 3);
  ASSERT_TRUE(store_->PutModel("m", blob, Meta(0.1, 0.9)).ok());
  ASSERT_TRUE(store_->PutModel("m", blob, Meta(0.1, 0.9)).ok());
  ASSERT_TRUE(store_->PutModel("m", blob, Meta(0.1, 0.9)).ok());
  store_.reset();
  {
    RawDb raw(dir_.Sub("store"));
    // v1: flip one byte in chunk 2.
    std::string key = storage::ModelChunkKey("m", 1, 2), value;
    ASSERT_TRUE(raw.db()->Get(rocksdb::ReadOptions(), raw.models(), key, &value).ok());
    value[100] ^= 1;
    ASSERT_TRUE(raw.db()->Put(rocksdb::WriteOptions(), raw.models(), key, value).ok());
    // v2: drop the last chunk (truncated blob).
    ASSERT_TRUE(
        raw.db()
            ->Delete(rocksdb::WriteOptions(), raw.models(), storage::ModelChunkKey("m", 2, 3))
            .ok());
    // v3: corrupt the header JSON.
    key = storage::ModelHeaderKey("m", 3);
    ASSERT_TRUE(raw.db()->Get(rocksdb::ReadOptions(), raw.models(), key, &value).ok());
    value[value.size() - 3] ^= 0x20;
    ASSERT_TRUE(raw.db()->Put(rocksdb::WriteOptions(), raw.models(), key, value).ok());
  }
  Reopen();
  auto r1 = store_->ReadModelBlob("m", 1);
  EXPECT_TRUE(r1.status().IsCorruption()) << r1.status().ToString();
  EXPECT_NE(r1.status().message().find("chunk 2"), std::string_view::npos);
  auto r2 = store_->ReadModelBlob("m", 2);
  EXPECT_TRUE(r2.status().IsCorruption()) << r2.status().ToString();
  auto r3 = store_->ReadModelBlob("m", 3);
  EXPECT_TRUE(r3.status().IsCorruption()) << r3.status().ToString();
  EXPECT_TRUE(store_->GetModelInfo("m", 3).status().IsCorruption());
  // The store still works: a new version is fine.
  auto v4 = store_->PutModel("m", blob, {});
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(*store_->ReadModelBlob("m", *v4), blob);
}

TEST_F(ModelTest, CommitModelAcksAtomically) {
  ASSERT_TRUE(store_->CreateStream("fridges", FridgeSchema()).ok());
  ASSERT_TRUE(store_->Append("fridges", std::vector<Record>(10, FridgeRecord("d", 1))).ok());
  ASSERT_TRUE(store_->CreateGroup("learners", "fridges").ok());
  auto a = store_->Claim("learners", "m", 5, 60'000);
  auto b = store_->Claim("learners", "m", 5, 60'000);
  ASSERT_TRUE(a.ok() && b.ok());

  // One bad ack (unknown batch) refuses the whole commit: no model, batches still leased.
  std::vector<GroupAck> acks = {{"learners", a->lease}, {"learners", {999, 1}}};
  auto failed = store_->CommitModel("m", "blob", Meta(0.1, 0.9), acks);
  EXPECT_EQ(failed.status().code(), StatusCode::kFailedPrecondition) << failed.status().ToString();
  EXPECT_TRUE(store_->ListModelVersions("m").status().IsNotFound());
  EXPECT_EQ(store_->GetGroupStats("learners")->leased_batches, 2u);

  acks = {{"learners", a->lease}, {"learners", b->lease}};
  auto v = store_->CommitModel("m", "blob", Meta(0.1, 0.9), acks);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 1u);
  Reopen();
  auto stats = store_->GetGroupStats("learners");
  EXPECT_EQ(stats->committed_seq, 10u);
  EXPECT_EQ(stats->acked_batches_total, 2u);
  EXPECT_EQ(*store_->ReadModelBlob("m", 1), "blob");
  // Acking again (e.g. a retried commit) fails and creates no version.
  EXPECT_FALSE(store_->CommitModel("m", "blob", {}, acks).ok());
  EXPECT_EQ(store_->ListModelVersions("m")->size(), 1u);
}

TEST_F(ModelTest, BadNamesAndMetadataJson) {
  EXPECT_TRUE(store_->PutModel("", "x", {}).status().IsInvalidArgument());
  EXPECT_TRUE(store_->PutModel("a b", "x", {}).status().IsInvalidArgument());
  auto bad = storage::MetadataFromJson(nlohmann::json::parse(R"({"metrics": {"loss": "low"}})"));
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("metrics.loss"), std::string_view::npos);
  bad = storage::MetadataFromJson(
      nlohmann::json::parse(R"({"lineage": {"seq_ranges": [[1, 2], [3]]}})"));
  EXPECT_NE(bad.status().message().find("lineage.seq_ranges[1]"), std::string_view::npos);
  auto good = storage::MetadataFromJson(storage::MetadataToJson(Meta(0.5, 0.5)));
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->lineage.seq_ranges[0].last, 100u);
}

}  // namespace
}  // namespace nemesyst::testing
