// The train job end to end on a small simulated fleet, on a real store on disk.
#include "nodes/train_job.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "nodes/demo_specs.h"
#include "nodes/fleet_ingest.h"
#include "tests/testing/temp_dir.h"

namespace nemesyst::nodes {
namespace {

struct SmallFleet {
  testing::TempDir dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<FleetSimulator> sim;
  DemoPipelineOptions pipeline;

  SmallFleet() {
    SimulatorOptions o;
    o.seed = 11;
    o.stores = 4;
    o.cases_per_store = 3;
    o.days = 0.5;
    sim = std::move(FleetSimulator::Create(o)).value();
    EXPECT_TRUE(
        Store::Open(StoreOptions{.durability = Durability::kAsync}, dir.Sub("store"), &store).ok());
    auto ingested = IngestSimulatedFleet(*store, "fleet", *sim);
    EXPECT_TRUE(ingested.ok()) << ingested.status().ToString();
    pipeline.train = 0.5;
    pipeline.validation = 0.25;
    pipeline.test = 0.25;
    pipeline.split_seed = ChooseStoreSplitSeed(pipeline, 4, 2, 1, 1).value();
  }

  TrainJobOptions Options(const std::string& name, int learners) const {
    TrainJobOptions t;
    t.pipeline_text = DemoPipelineToml(pipeline);
    t.model_spec_json = DemoRegressorSpec("lstm", pipeline.window_length, 8);
    t.model_name = name;
    t.learners = learners;
    t.learner.epochs = 2;
    t.learner.batch_size = 32;
    t.records_per_claim = 1000;
    t.fit_records = 5000;
    return t;
  }
};

TEST(TrainJobTest, ParallelLearnersRegisterVersionsWithLineageOnDisjointData) {
  SmallFleet f;
  auto r = RunTrainJob(*f.store, f.Options("lstm", 2));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->learners.size(), 2u);
  std::set<uint64_t> seen;
  for (const LearnerVersion& v : r->learners) {
    ASSERT_GT(v.version, 0u);
    EXPECT_GT(v.windows, 0u);
    EXPECT_TRUE(std::isfinite(v.val_mae_s));
    for (const SeqRange& range : v.ranges) {
      for (uint64_t s = range.first; s <= range.last; ++s) {
        EXPECT_TRUE(seen.insert(s).second) << "seq " << s << " given to two learners";
      }
    }
    auto info = f.store->GetModelInfo("lstm", v.version);
    ASSERT_TRUE(info.ok());
    const auto& m = info->metadata;
    EXPECT_EQ(m.kind, "lstm");
    EXPECT_EQ(m.lineage.stream, "fleet");
    EXPECT_FALSE(m.lineage.seq_ranges.empty());
    EXPECT_NE(m.lineage.pipeline_spec.find("\"stats\""), std::string::npos)
        << "the resolved pipeline carries its normalisation statistics";
    EXPECT_EQ(m.epoch_metrics.size(), 2u);
    EXPECT_EQ(m.hyper_parameters.at("epochs"), "2");
    EXPECT_TRUE(m.metrics.count("val_mae_s"));
  }
  auto candidate = f.store->ResolveAlias("lstm", "candidate");
  ASSERT_TRUE(candidate.ok());
  EXPECT_EQ(*candidate, r->candidate);
}

}  // namespace
}  // namespace nemesyst::nodes
