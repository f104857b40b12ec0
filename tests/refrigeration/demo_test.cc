// The demo end to end on a smaller fleet: it meets its targets, writes its report, and the same
// seed gives the same numbers.
#include "nemesyst/refrigeration/demo.h"
#include "nemesyst/refrigeration/service_profile.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "nemesyst/pipeline.h"
#include "nemesyst/refrigeration/demo_specs.h"
#include "nemesyst/refrigeration/fleet.h"
#include "tests/refrigeration/small_demo_options.h"
#include "tests/testing/temp_dir.h"

namespace nemesyst::refrigeration {
namespace {

DemoOptions Small(const std::string& dir) { return testing::SmallDemoOptions(dir); }

TEST(DemoTest, SmallFleetMeetsTheTargetsAndIsReproducible) {
  testing::TempDir dir;
  auto first = RunDemo(Small(dir.Sub("a")));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  for (const TargetCheck& t : first->report.targets) {
    EXPECT_TRUE(t.passed) << t.name << ": " << t.detail;
  }
  EXPECT_TRUE(first->passed);
  for (const char* f :
       {"report.md", "summary.json", "predicted_vs_true.svg", "error_by_case_type.svg",
        "training_loss.svg", "dispatch_replay.svg", "grid_service.svg"}) {
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(first->report_dir) / f)) << f;
  }
  for (const char* f : {"pipeline.toml", "lstm.json", "rnn.json", "gan.json", "fleet.json"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "a" / "specs" / f)) << f;
  }
  ASSERT_EQ(first->report.models.size(), 3u);
  ASSERT_EQ(first->report.baselines.size(), 3u);
  // Grid services: the held-out stores and the unseen fleet, every built-in profile; the
  // production model's calibrated bound measured on the held-out windows.
  ASSERT_EQ(first->report.grid.size(), 2u);
  for (const GridServiceSection& g : first->report.grid) {
    EXPECT_EQ(g.rows.size(), BuiltInProfiles().size()) << g.where;
    EXPECT_GT(g.events, 0) << g.where;
  }
  EXPECT_GT(first->report.grid.back().rows[0].offered, 0) << "the unseen fleet offers DC at 03:00";
  EXPECT_GT(first->report.lower_coverage.windows, 0u);
  EXPECT_EQ(first->report.lower_coverage.risk, 0.05);
  // The report says how many stores the rate rests on (it varies by several points when few).
  const DemoOptions small = Small(dir.Sub("a"));
  EXPECT_EQ(first->report.lower_coverage.calibration_stores, small.validation_stores);
  EXPECT_EQ(first->report.lower_coverage.test_stores, small.test_stores);
  const std::string md =
      testing::ReadFile((std::filesystem::path(first->report_dir) / "report.md").string());
  EXPECT_NE(md.find("fitted on " + std::to_string(small.validation_stores) + " validation store"),
            std::string::npos);

  auto second = RunDemo(Small(dir.Sub("b")));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(first->report.models[i].overall.mae_s, second->report.models[i].overall.mae_s)
        << first->report.models[i].name;
    EXPECT_EQ(first->report.baselines[i].overall.mae_s, second->report.baselines[i].overall.mae_s);
  }
  EXPECT_EQ(first->report.dispatch.delivered_kw, second->report.dispatch.delivered_kw);
  EXPECT_EQ(first->report.dispatch.cases_chosen, second->report.dispatch.cases_chosen);
  EXPECT_EQ(first->report.grid.back().rows[0].minutes_within,
            second->report.grid.back().rows[0].minutes_within);
  EXPECT_EQ(first->report.grid_trace.delivered_kw, second->report.grid_trace.delivered_kw);

  // A non-empty directory is refused unless forced.
  auto again = RunDemo(Small(dir.Sub("a")));
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
}

TEST(DemoTest, BadFleetSizesAreErrorsThatSayWhy) {
  testing::TempDir dir;
  DemoOptions split = Small(dir.Sub("split"));
  split.test_stores = 2;  // 3 + 1 + 2 ≠ 5
  auto a = RunDemo(split);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("must equal stores"), std::string::npos)
      << a.status().ToString();
  DemoOptions grid = Small(dir.Sub("grid"));
  grid.grid_stores = -1;
  auto b = RunDemo(grid);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("grid_stores"), std::string::npos) << b.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "grid" / "specs")) << "nothing written";
}

}  // namespace
}  // namespace nemesyst::refrigeration

namespace nemesyst::refrigeration {
namespace {

// Three stores split into thirds: the fractions are written exactly, so they sum to 1 (written
// to six digits they summed to 0.999999 and the pipeline was refused).
TEST(DemoSpecsTest, ASplitIntoThirdsIsAValidPipeline) {
  DemoPipelineOptions po;
  po.train = 1.0 / 3;
  po.validation = 1.0 / 3;
  po.test = 1.0 - po.train - po.validation;
  std::vector<std::string> fields;
  for (const FieldSpec& f : SimulatorSchema(true).fields) fields.push_back(f.name);
  auto pipeline = Pipeline::Create(DemoPipelineToml(po), fields);
  EXPECT_TRUE(pipeline.ok()) << pipeline.status().ToString();
}

}  // namespace
}  // namespace nemesyst::refrigeration
