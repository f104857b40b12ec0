// Pipelines reading a store stream through a consumer group: several learners get disjoint
// windows whose union is what the in-memory path produces; acks can be deferred to CommitModel.
#include <gtest/gtest.h>

#include <set>

#include "nemesyst/store.h"
#include "nemesyst/stream.h"
#include "tests/testing/temp_dir.h"

namespace nemesyst {
namespace {

constexpr const char* kSpec = R"(
stream = "fleet"
[[steps]]
op = "derive"
name = "air_slope"
kind = "rolling_mean"
field = "air_off_c"
k = 3
[[steps]]
op = "derive"
name = "since_defrost"
kind = "since_defrost"
max_s = 7200
[[steps]]
op = "select"
fields = ["air_off_c", "product_c", "cooling", "air_slope", "since_defrost"]
[[steps]]
op = "normalise"
[window]
length = 10
stride = 3
[label]
field = "safe_off_s"
[split]
by = "store"
train = 0.5
validation = 0.25
test = 0.25
seed = 4
)";

using WindowKey = std::pair<std::string, int64_t>;

TEST(GroupProviderTest, LearnersGetDisjointWindowsMatchingTheDatasetPath) {
  testing::TempDir dir;
  std::unique_ptr<Store> store;
  StoreOptions store_options;
  store_options.durability = Durability::kAsync;
  ASSERT_TRUE(Store::Open(store_options, dir.Sub("db"), &store).ok());
  SimulatorOptions sim_options;
  sim_options.stores = 4;
  sim_options.cases_per_store = 2;
  sim_options.days = 0.25;
  sim_options.gap_rate = 0.01;  // gaps, so windows must respect them in both paths
  auto sim = FleetSimulator::Create(sim_options);
  ASSERT_TRUE(sim.ok());
  ASSERT_TRUE(WriteFleetToStore(**sim, *store, "fleet", 1000, nullptr).ok());

  auto pipeline = Pipeline::CreateForStream(kSpec, *store);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
  auto records = ReadRecords(*store, "fleet");
  ASSERT_TRUE(records.ok());
  ASSERT_TRUE((*pipeline)->Fit(*records).ok());
  auto data = (*pipeline)->Apply(*records);
  ASSERT_TRUE(data.ok());
  std::set<WindowKey> expected;
  for (const auto& w : (*data)->windows) {
    if (w.split == static_cast<uint8_t>(DataSplit::kTrain)) {
      expected.emplace((*data)->devices[w.device], (*data)->EndUs(w));
    }
  }
  ASSERT_GT(expected.size(), 100u);

  // Two learners, alternating, small claims.
  std::vector<std::unique_ptr<GroupBatchProvider>> learners;
  for (const char* member : {"learner-a", "learner-b"}) {
    GroupProviderOptions options;
    options.group = "train";
    options.member = member;
    options.records_per_claim = 300;
    options.auto_ack = std::string(member) == "learner-a";
    auto provider = MakeGroupProvider(store.get(), pipeline->get(), options);
    ASSERT_TRUE(provider.ok()) << provider.status().ToString();
    learners.push_back(std::move(provider).value());
  }
  std::set<WindowKey> seen[2];
  bool done[2] = {false, false};
  size_t total = 0;
  while (!done[0] || !done[1]) {
    for (int l = 0; l < 2; ++l) {
      if (done[l]) continue;
      Batch batch;
      auto more = learners[l]->Next(32, &batch);
      ASSERT_TRUE(more.ok()) << more.status().ToString();
      if (!*more) {
        done[l] = true;
        continue;
      }
      ASSERT_EQ(batch.steps, 10);
      ASSERT_EQ(batch.features, 5);
      for (int i = 0; i < batch.batch; ++i) {
        seen[l].emplace(batch.device[i], batch.end_us[i]);
        ++total;
      }
    }
  }
  EXPECT_GT(seen[0].size(), 0u);
  EXPECT_GT(seen[1].size(), 0u);
  std::set<WindowKey> all = seen[0];
  all.insert(seen[1].begin(), seen[1].end());
  EXPECT_EQ(total, all.size());  // no window handed out twice
  EXPECT_EQ(all, expected);      // and the same windows as the in-memory path
  // learner-b kept its leases: acknowledge them atomically with a model.
  std::vector<GroupAck> acks = learners[1]->TakePendingAcks();
  EXPECT_FALSE(acks.empty());
  EXPECT_TRUE(learners[0]->TakePendingAcks().empty());
  ModelMetadata metadata;
  metadata.kind = "lstm";
  metadata.lineage.pipeline_spec = (*pipeline)->Serialize();
  metadata.lineage.seq_ranges = learners[1]->ConsumedRanges();
  ASSERT_TRUE(store->CommitModel("m", "blob", metadata, acks).ok());
  auto stats = store->GetGroupStats("train");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->leased_batches, 0u);
  EXPECT_EQ(stats->backlog_records, 0u);
}

}  // namespace
}  // namespace nemesyst
