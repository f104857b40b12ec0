// The train job end to end on a small simulated fleet, on a real store on disk.
#include "nemesyst/train_job.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "tests/testing/small_fleet.h"

namespace nemesyst {
namespace {

using testing::SmallFleet;

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
}  // namespace nemesyst

namespace nemesyst {
namespace {

TEST(TrainJobTest, ClaimAsYouGoLearnersAlsoGetDisjointData) {
  testing::SmallFleet f;
  TrainJobOptions o = f.Options("rnn", 3);
  o.deterministic_claims = false;
  o.model_spec_json = refrigeration::DemoRegressorSpec("rnn", f.pipeline.window_length, 8);
  auto r = RunTrainJob(*f.store, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::set<uint64_t> seen;
  size_t registered = 0;
  for (const LearnerVersion& v : r->learners) {
    registered += v.version > 0;
    for (const SeqRange& range : v.ranges) {
      for (uint64_t s = range.first; s <= range.last; ++s) EXPECT_TRUE(seen.insert(s).second);
    }
  }
  EXPECT_GE(registered, 1u);
  auto stats = f.store->GetGroupStats("train.rnn");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->leased_batches, 0u) << "every claim was acknowledged with a model";
  EXPECT_EQ(stats->backlog_records, 0u);
}

TEST(TrainJobTest, SameSeedSameWeightsAndContinuingRecordsTheParent) {
  testing::SmallFleet f;
  auto a = RunTrainJob(*f.store, f.Options("a", 2));
  auto b = RunTrainJob(*f.store, f.Options("b", 2));
  ASSERT_TRUE(a.ok() && b.ok());
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(a->learners[i].val_mae_s, b->learners[i].val_mae_s) << "learner " << i;
    EXPECT_EQ(a->learners[i].ranges.size(), b->learners[i].ranges.size());
  }
  TrainJobOptions more = f.Options("a", 1);
  more.parent = "a:candidate";
  more.group = "train.a.more";  // the first group has nothing new left
  auto c = RunTrainJob(*f.store, more);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto info = f.store->GetModelInfo("a", c->candidate);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->metadata.lineage.parent_version, a->candidate);
}

TEST(TrainJobTest, ClearErrors) {
  testing::SmallFleet f;
  TrainJobOptions o = f.Options("x", 1);
  o.stream = "other";
  auto mismatch = RunTrainJob(*f.store, o);
  EXPECT_TRUE(mismatch.status().IsInvalidArgument());
  EXPECT_NE(mismatch.status().message().find("reads stream 'fleet'"), std::string_view::npos)
      << mismatch.status().ToString();
  o = f.Options("x", 1);
  o.parent = "nope:production";
  EXPECT_TRUE(RunTrainJob(*f.store, o).status().IsNotFound());
  o = f.Options("x", 1);
  o.model_spec_json = refrigeration::DemoRegressorSpec("lstm", 7, 8);  // window length differs
  auto shape = RunTrainJob(*f.store, o);
  EXPECT_TRUE(shape.status().IsInvalidArgument());
  EXPECT_NE(shape.status().message().find("pipeline makes"), std::string_view::npos);
  auto versions = f.store->ListModelVersions("x");
  EXPECT_TRUE(!versions.ok() || versions->empty()) << "a failed run registers nothing";
}

TEST(TrainJobTest, AFailedRunRemovesTheGroupItCreatedButNotOneThatExisted) {
  testing::SmallFleet f;
  TrainJobOptions o = f.Options("x", 2);
  o.should_stop = [] { return true; };  // stopped before the last epoch: nothing registered
  auto stopped = RunTrainJob(*f.store, o);
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.status().code(), StatusCode::kAborted) << stopped.status().ToString();
  EXPECT_TRUE(f.store->GetGroupStats("train.x").status().IsNotFound())
      << "a group left behind would hold back retention forever";
  o = f.Options("x", 1);
  o.model_spec_json = refrigeration::DemoRegressorSpec("lstm", 7, 8);  // fails in the learners
  ASSERT_FALSE(RunTrainJob(*f.store, o).ok());
  EXPECT_TRUE(f.store->GetGroupStats("train.x").status().IsNotFound());

  ASSERT_TRUE(f.store->CreateGroup("mine", "fleet").ok());
  o = f.Options("x", 1);
  o.group = "mine";
  o.should_stop = [] { return true; };
  ASSERT_FALSE(RunTrainJob(*f.store, o).ok());
  auto kept = f.store->GetGroupStats("mine");
  ASSERT_TRUE(kept.ok()) << "the job did not create it, so it does not delete it";
  EXPECT_EQ(kept->leased_batches, 0u) << "the stopped learner gave its claims back";

  o = f.Options("x", 1);  // and a run that registers keeps its group
  auto ok = RunTrainJob(*f.store, o);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(f.store->GetGroupStats("train.x").ok());
}

}  // namespace
}  // namespace nemesyst
