// The job subcommands as a user runs them: train -> predict -> dispatch --replay -> grid-replay
// through the real binary, and clear errors (exit 1) for bad model names, missing aliases and bad
// inputs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/testing/run_command.h"
#include "tests/testing/small_fleet.h"
#include "tests/testing/temp_dir.h"

namespace nemesyst {
namespace {

using testing::RunCli;

TEST(JobCliTest, HelpAndUsageErrors) {
  for (const char* cmd : {"train", "predict", "dispatch", "demo", "grid-replay"}) {
    auto r = RunCli({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("--"), std::string::npos) << cmd;
  }
  EXPECT_EQ(RunCli({"train", "--pipeline", "p.toml"}).exit_code, 2) << "--name is required";
  EXPECT_EQ(RunCli({"predict"}).exit_code, 2) << "--model is required";
  EXPECT_EQ(RunCli({"dispatch", "--shed-kw", "x", "--predictions", "p"}).exit_code, 2);
  EXPECT_EQ(RunCli({"demo", "--stores", "1"}).exit_code, 2) << "range checked";
  EXPECT_EQ(RunCli({"grid-replay"}).exit_code, 2) << "--model is required";
}

TEST(JobCliTest, TrainPredictDispatchReplay) {
  testing::SmallFleet fleet(4, 3, 0.5, /*open_store=*/false);
  const std::string store = fleet.StorePath();
  testing::WriteFile(fleet.dir.Sub("p.toml"), refrigeration::DemoPipelineToml(fleet.pipeline));
  testing::WriteFile(fleet.dir.Sub("m.json"),
                     refrigeration::DemoRegressorSpec("lstm", fleet.pipeline.window_length, 8));
  auto train = RunCli({"--store", store, "train", "--pipeline", fleet.dir.Sub("p.toml"), "--model",
                       fleet.dir.Sub("m.json"), "--name", "lstm", "--learners", "2", "--epochs",
                       "2", "--records-per-claim", "1000", "--fit-hours", "6", "--json"});
  ASSERT_EQ(train.exit_code, 0) << train.err;
  auto j = nlohmann::json::parse(train.out);
  EXPECT_EQ(j["versions"].size(), 2u);
  EXPECT_GE(j["candidate"].get<int>(), 1);

  const std::string preds = fleet.dir.Sub("preds.csv");
  auto predict = RunCli({"--store", store, "predict", "--model", "lstm:candidate", "--input-stream",
                         "fleet", "-o", preds});
  ASSERT_EQ(predict.exit_code, 0) << predict.err;
  const std::string csv = testing::ReadFile(preds);
  EXPECT_EQ(csv.rfind("device,timestamp_us,prediction_s,label_s,lower_s\n", 0), 0u);
  EXPECT_GT(std::count(csv.begin(), csv.end(), '\n'), 20);

  auto streaming =
      RunCli({"--store", store, "predict", "--model", "lstm", "--input-stream", "fleet", "--stream",
              "--format", "jsonl", "--device", "store-0000/case-00"});
  ASSERT_EQ(streaming.exit_code, 0) << streaming.err;
  EXPECT_NE(streaming.out.find("{\"device\":\"store-0000/case-00\""), std::string::npos);

  const auto& o = fleet.sim->options();
  testing::WriteFile(fleet.dir.Sub("fleet.json"),
                     nlohmann::json{{"seed", o.seed},
                                    {"stores", o.stores},
                                    {"cases_per_store", o.cases_per_store},
                                    {"days", o.days},
                                    {"start_us", o.start_us},
                                    {"interval_s", o.interval_s}}
                         .dump());
  auto dispatch = RunCli({"--store", store, "dispatch", "--predictions", preds, "--shed-kw", "0.3",
                          "--duration-min", "5", "--margin-s", "1200", "--model", "lstm:candidate",
                          "--replay", "--fleet", fleet.dir.Sub("fleet.json"), "--json"});
  ASSERT_EQ(dispatch.exit_code, 0) << dispatch.out << dispatch.err;
  auto d = nlohmann::json::parse(dispatch.out);
  EXPECT_TRUE(d["met"].get<bool>());
  EXPECT_EQ(d["replay"]["violations"], 0);
  EXPECT_GT(d["replay"]["delivered_kw"].get<double>(), 0);

  // Grid services on unseen fleets, planned with the model's calibrated lower bound.
  const std::string events_csv = fleet.dir.Sub("events.csv");
  auto grid = RunCli({"--store", store, "grid-replay", "--model", "lstm:candidate", "--events", "4",
                      "--profiles", "dc,ffr_primary", "--hours", "3,21", "--stores", "2",
                      "--cases-per-store", "6", "--csv", events_csv, "--json"});
  ASSERT_EQ(grid.exit_code, 0) << grid.out << grid.err;
  auto g = nlohmann::json::parse(grid.out);
  EXPECT_EQ(g["events"], 4);
  EXPECT_EQ(g["commissioning_events"], 4);  // the day before: floors and rebound aims
  EXPECT_EQ(g["violations"], 0);
  ASSERT_EQ(g["profiles"].size(), 2u);
  EXPECT_EQ(g["profiles"][0]["profile"], "dc");
  EXPECT_EQ(g["profiles"][1]["events"], 2);
  const std::string rows = testing::ReadFile(events_csv);
  EXPECT_EQ(rows.rfind("profile,fleet_seed,fault_rate,hour,", 0), 0u);
  EXPECT_EQ(std::count(rows.begin(), rows.end(), '\n'), 5);
  EXPECT_NE(rows.find(",error_floor_kw,offer_rebound_aim,rebound_minutes,rebound_switch_offs\n"),
            std::string::npos);
  auto unknown = RunCli(
      {"--store", store, "grid-replay", "--model", "lstm:candidate", "--profiles", "dc,nope"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("static_ffr"), std::string::npos) << unknown.err;
}

TEST(JobCliTest, BadNamesMissingAliasesAndBadInputsExitOne) {
  testing::SmallFleet fleet(3, 2, 0.25, /*open_store=*/false);
  const std::string store = fleet.StorePath();
  auto unknown =
      RunCli({"--store", store, "predict", "--model", "nosuch", "--input-stream", "fleet"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no model named 'nosuch'"), std::string::npos) << unknown.err;
  auto bad_ref =
      RunCli({"--store", store, "predict", "--model", "m@zero", "--input-stream", "fleet"});
  EXPECT_EQ(bad_ref.exit_code, 1);
  EXPECT_NE(bad_ref.err.find("version must be a number"), std::string::npos) << bad_ref.err;
  auto both = RunCli(
      {"--store", store, "predict", "--model", "m", "--input-stream", "fleet", "--input", "x.csv"});
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_NE(both.err.find("exactly one of"), std::string::npos) << both.err;
  auto no_file = RunCli(
      {"--store", store, "dispatch", "--predictions", fleet.dir.Sub("none.csv"), "--shed-kw", "1"});
  EXPECT_EQ(no_file.exit_code, 1);
  EXPECT_NE(no_file.err.find("none.csv"), std::string::npos);
  auto parent = RunCli({"--store", store, "train", "--name", "x", "--parent", "x:production"});
  EXPECT_EQ(parent.exit_code, 1);
  EXPECT_NE(parent.err.find("no model named 'x'"), std::string::npos) << parent.err;
}

}  // namespace
}  // namespace nemesyst
