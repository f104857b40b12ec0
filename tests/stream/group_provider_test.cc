// Pipelines reading a store stream through a consumer group: several learners get disjoint
// windows whose union is what the in-memory path produces; acks can be deferred to CommitModel.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "nemesyst/refrigeration/fleet.h"
#include "nemesyst/store.h"
#include "nemesyst/stream.h"
#include "tests/testing/temp_dir.h"

namespace nemesyst {
namespace {

// The case study's simulator makes realistic streams (with feed gaps) to window.
using namespace nemesyst::refrigeration;

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
  ASSERT_TRUE(IngestSimulatedFleet(*store, "fleet", **sim, {.batch_records = 1000}).ok());

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

// A store holding a small simulated fleet (2 stores × 2 cases, 2.4 h) and kSpec fitted on it.
void OpenSmallFleet(const testing::TempDir& dir, std::unique_ptr<Store>* store,
                    std::unique_ptr<Pipeline>* pipeline) {
  StoreOptions store_options;
  store_options.durability = Durability::kAsync;
  ASSERT_TRUE(Store::Open(store_options, dir.Sub("db"), store).ok());
  SimulatorOptions sim_options;
  sim_options.stores = 2;
  sim_options.cases_per_store = 2;
  sim_options.days = 0.1;
  auto sim = FleetSimulator::Create(sim_options);
  ASSERT_TRUE(sim.ok());
  ASSERT_TRUE(IngestSimulatedFleet(**store, "fleet", **sim, {.batch_records = 1000}).ok());
  auto created = Pipeline::CreateForStream(kSpec, **store);
  ASSERT_TRUE(created.ok());
  auto records = ReadRecords(**store, "fleet");
  ASSERT_TRUE(records.ok());
  ASSERT_TRUE((*created)->Fit(*records).ok());
  *pipeline = std::move(created).value();
}

// A learner slower than its lease: a pass that reads claims for several lease periods, then
// holds them through "training" (RenewLeases from the progress callback), still owns every
// claim at the end, so the commit acknowledges them all and nothing was redelivered. Without
// renewal its own first claims would come back to it as redeliveries and the commit would fail.
TEST(GroupProviderTest, RenewedLeasesOutlastASlowPassAndTraining) {
  testing::TempDir dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<Pipeline> fitted;
  OpenSmallFleet(dir, &store, &fitted);
  ASSERT_TRUE(store && fitted);

  constexpr int64_t kLeaseMs = 300;
  GroupProviderOptions options;
  options.group = "train";
  options.member = "slow";
  options.records_per_claim = 40;
  options.lease_ms = kLeaseMs;
  options.auto_ack = false;
  auto provider = MakeGroupProvider(store.get(), fitted.get(), options);
  ASSERT_TRUE(provider.ok()) << provider.status().ToString();
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    Batch batch;
    auto more = (*provider)->Next(4, &batch);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
  }
  // "Training" on what was read, reporting progress every 50 ms.
  for (int step = 0; step < 12; ++step) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE((*provider)->RenewLeases().ok());
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_GT(elapsed, std::chrono::milliseconds(4 * kLeaseMs)) << "the test needs a slow pass";

  auto stats = store->GetGroupStats("train");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->redeliveries_total, 0u);
  std::vector<GroupAck> acks = (*provider)->TakePendingAcks();
  ASSERT_GT(acks.size(), 3u);
  ModelMetadata metadata;
  metadata.kind = "lstm";
  metadata.lineage.pipeline_spec = fitted->Serialize();
  metadata.lineage.seq_ranges = (*provider)->ConsumedRanges();
  auto committed = store->CommitModel("m", "blob", metadata, acks);
  EXPECT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(store->GetGroupStats("train")->leased_batches, 0u);
}

// A lease that ran out and went to another member cannot be renewed: RenewLeases says which.
TEST(GroupProviderTest, RenewLeasesReportsALostLease) {
  testing::TempDir dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<Pipeline> fitted;
  OpenSmallFleet(dir, &store, &fitted);
  ASSERT_TRUE(store && fitted);
  GroupProviderOptions options;
  options.group = "train";
  options.member = "stalled";
  options.records_per_claim = 1 << 20;  // one claim: everything
  options.lease_ms = 30;
  options.auto_ack = false;
  auto provider = MakeGroupProvider(store.get(), fitted.get(), options);
  ASSERT_TRUE(provider.ok());
  Batch batch;
  while (true) {
    auto more = (*provider)->Next(1024, &batch);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  auto other = store->Claim("train", "other", 1 << 20, 60'000);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ(other->lease.delivery, 2u);
  const Status renewed = (*provider)->RenewLeases();
  EXPECT_EQ(renewed.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(renewed.ToString().find("redelivered"), std::string::npos) << renewed.ToString();
  GroupProviderOptions bad = options;
  bad.lease_ms = 0;
  EXPECT_TRUE(MakeGroupProvider(store.get(), fitted.get(), bad).status().IsInvalidArgument());
}

}  // namespace
}  // namespace nemesyst
