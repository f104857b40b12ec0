// Killing `nemesyst train` (a real child process, SIGKILL) half-way leaves no half-registered
// model, and the consumer group hands the killed run's batches to the next run.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "tests/testing/child_process.h"
#include "tests/testing/run_command.h"
#include "tests/testing/small_fleet.h"

namespace nemesyst {
namespace {

TEST(TrainKillTest, SigkillMidTrainingRegistersNothingAndTheGroupResumes) {
  testing::SmallFleet fleet(4, 3, 0.5, /*open_store=*/false);
  const std::string pipeline = fleet.dir.Sub("pipeline.toml");
  const std::string model = fleet.dir.Sub("lstm.json");
  testing::WriteFile(pipeline, refrigeration::DemoPipelineToml(fleet.pipeline));
  testing::WriteFile(model,
                     refrigeration::DemoRegressorSpec("lstm", fleet.pipeline.window_length, 8));
  const std::vector<std::string> args = {NEMESYST_CLI_PATH,
                                         "--store",
                                         fleet.StorePath(),
                                         "train",
                                         "--pipeline",
                                         pipeline,
                                         "--model",
                                         model,
                                         "--name",
                                         "lstm",
                                         "--learners",
                                         "2",
                                         "--records-per-claim",
                                         "1000",
                                         "--lease-ms",
                                         "8000",
                                         "--fit-hours",
                                         "6"};
  {
    std::vector<std::string> forever = args;
    forever.insert(forever.end(), {"--epochs", "100000"});
    testing::ChildProcess child(forever);
    ASSERT_TRUE(child.WaitForStderr("epoch done", 60000)) << child.err();
    ASSERT_TRUE(child.Kill()) << "the child was still training when killed";
  }
  uint64_t last_seq = 0;
  {
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(StoreOptions{}, fleet.StorePath(), &store).ok());
    auto versions = store->ListModelVersions("lstm");
    EXPECT_TRUE(!versions.ok() || versions->empty()) << "no version may survive the kill";
    auto stats = store->GetGroupStats("train.lstm");
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_EQ(stats->committed_seq, 0u) << "nothing acknowledged without a model";
    EXPECT_GT(stats->leased_batches + stats->pending_batches, 0u);
    last_seq = store->GetStreamInfo("fleet")->last_seq;
  }
  // The killed run's leases expire. They must outlast its claim phase (seconds under ASan): a
  // lease that expires while its holder still claims is redelivered to that same holder.
  std::this_thread::sleep_for(std::chrono::milliseconds(8200));
  // The resumed run keeps its claims for as long as it trains: only the killed run needed a short
  // lease (so that its batches come back quickly). There is no lease renewal, so a run whose
  // leases expire mid-training has its own batches redelivered.
  std::vector<std::string> rerun(args.begin() + 1, args.end());
  for (size_t i = 0; i + 1 < rerun.size(); ++i) {
    if (rerun[i] == "--lease-ms") rerun[i + 1] = "600000";
  }
  rerun.insert(rerun.end(), {"--epochs", "1", "--json"});
  auto r = testing::RunCli(rerun);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(StoreOptions{}, fleet.StorePath(), &store).ok());
  auto versions = store->ListModelVersions("lstm");
  ASSERT_TRUE(versions.ok());
  ASSERT_FALSE(versions->empty());
  std::set<uint64_t> trained_on;
  for (const ModelInfo& v : *versions) {
    for (const SeqRange& range : v.metadata.lineage.seq_ranges) {
      for (uint64_t s = range.first; s <= range.last; ++s) {
        EXPECT_TRUE(trained_on.insert(s).second) << "seq " << s << " in two versions";
      }
    }
  }
  EXPECT_EQ(trained_on.size(), last_seq) << "the resumed group covered the whole stream";
  auto stats = store->GetGroupStats("train.lstm");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->committed_seq, last_seq);
  EXPECT_EQ(stats->leased_batches, 0u);
}

}  // namespace
}  // namespace nemesyst
