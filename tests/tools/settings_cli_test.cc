// The documented settings reach the jobs they govern, through the real binary: kernels.backend
// and kernels.threads change what `train`, `predict` and `demo` run (and are recorded with every
// model version), node.id reaches the lineage, kernels.max_isa caps the hand-written backends, and
// a backend that cannot run here is a clear error before anything is written — never a silent
// fallback.
#include <gtest/gtest.h>

#include <chrono>

#include <nlohmann/json.hpp>

#include "nemesyst/refrigeration/demo_specs.h"
#include "tests/testing/run_command.h"
#include "tests/testing/small_fleet.h"

namespace nemesyst {
namespace {

using testing::CommandResult;
using testing::RunCli;

class SettingsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteFile(fleet_.dir.Sub("p.toml"), refrigeration::DemoPipelineToml(fleet_.pipeline));
    testing::WriteFile(fleet_.dir.Sub("m.json"),
                       refrigeration::DemoRegressorSpec("rnn", fleet_.pipeline.window_length, 4));
  }
  // `nemesyst --store <fleet> <settings...> train ... --name <name> --json`.
  CommandResult Train(const std::string& name, std::vector<std::string> settings) {
    std::vector<std::string> args = {"--store", fleet_.StorePath()};
    args.insert(args.end(), settings.begin(), settings.end());
    for (const char* a : {"train", "--pipeline"}) args.push_back(a);
    args.push_back(fleet_.dir.Sub("p.toml"));
    args.push_back("--model");
    args.push_back(fleet_.dir.Sub("m.json"));
    for (const std::string& a :
         {std::string("--name"), name, std::string("--epochs"), std::string("1"),
          std::string("--fit-hours"), std::string("6"), std::string("--records-per-claim"),
          std::string("2000"), std::string("--json")}) {
      args.push_back(a);
    }
    return RunCli(args);
  }
  nlohmann::json Show(const std::string& ref) {
    auto r = RunCli({"--store", fleet_.StorePath(), "model", "show", ref, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  testing::SmallFleet fleet_{4, 3, 0.5, /*open_store=*/false};
};

TEST_F(SettingsCliTest, BackendThreadsAndNodeIdReachTrainAndAreRecorded) {
  auto r = Train("rnn_ref", {"--set", "kernels.backend=ref", "--set", "kernels.threads=2", "--set",
                             "node.id=store-7"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json m = Show("rnn_ref:candidate");
  EXPECT_EQ(m["metadata"]["kind"], "rnn") << "the kind comes from the parsed spec";
  EXPECT_EQ(m["metadata"]["hyper_parameters"]["backend"], "ref");
  EXPECT_EQ(m["metadata"]["hyper_parameters"]["kernel_threads"], "2");
  EXPECT_EQ(m["metadata"]["lineage"]["node_id"], "store-7");

  // The same through the environment, which the documented precedence puts below flags.
  r = RunCli({"--store", fleet_.StorePath(), "kernels", "info", "--json"}, "",
             {"NEMESYST_KERNELS_BACKEND=ref"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = nlohmann::json::parse(r.out);
  EXPECT_EQ(info["configured_backend"], "ref");
  for (const auto& op : info["operations"]) EXPECT_EQ(op["chosen"], "ref") << op.dump();
}

TEST_F(SettingsCliTest, UnavailableBackendIsAClearErrorAndWritesNothing) {
  // kernels.max_isa=avx2 makes avx512 unavailable on every machine (as on a CPU without it).
  auto r = Train("lstm_512", {"--set", "kernels.max_isa=avx2", "--set", "kernels.backend=avx512"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("avx512 backend"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("kernels.max_isa"), std::string::npos) << r.err;
  auto groups = RunCli({"--store", fleet_.StorePath(), "group", "list"});
  EXPECT_EQ(groups.out.find("train.lstm_512"), std::string::npos) << groups.out;
  auto models = RunCli({"--store", fleet_.StorePath(), "model", "list", "--all", "--json"});
  EXPECT_EQ(nlohmann::json::parse(models.out).size(), 0u) << models.out;
  // With no ISA at all the hand-written backends are out; auto then picks oneDNN or ref.
  auto info = RunCli({"--store", fleet_.StorePath(), "--set", "kernels.max_isa=none", "kernels",
                      "info", "--json"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const nlohmann::json limited = nlohmann::json::parse(info.out);
  for (const auto& op : limited["operations"]) {
    EXPECT_TRUE(op["chosen"] == "onednn" || op["chosen"] == "ref") << op.dump();
  }
  // predict refuses it the same way.
  ASSERT_EQ(Train("lstm_ok", {}).exit_code, 0);
  auto p =
      RunCli({"--store", fleet_.StorePath(), "--set", "kernels.max_isa=none", "--set",
              "kernels.backend=avx2", "predict", "--model", "lstm_ok", "--input-stream", "fleet"});
  EXPECT_EQ(p.exit_code, 1);
  EXPECT_NE(p.err.find("avx2 backend"), std::string::npos) << p.err;
  // Out-of-range and unknown values are refused naming the key.
  auto bad = RunCli({"--store", fleet_.StorePath(), "--set", "kernels.threads=0", "predict",
                     "--model", "lstm_ok", "--input-stream", "fleet"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("kernels.threads"), std::string::npos) << bad.err;
  auto unknown =
      RunCli({"--store", fleet_.StorePath(), "--set", "kernels.backend=gpu", "kernels", "info"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("kernels.backend"), std::string::npos) << unknown.err;
}

TEST_F(SettingsCliTest, BackendAndNodeIdReachTheDemo) {
  const std::string dir = fleet_.dir.Sub("demo");
  auto r = RunCli({"--set", "kernels.backend=ref",
                   "--set", "node.id=hub-1",
                   "demo",  "--dir",
                   dir,     "--stores",
                   "5",     "--cases",
                   "4",     "--days",
                   "2",     "--test-stores",
                   "1",     "--validation-stores",
                   "1",     "--epochs",
                   "1",     "--gan-epochs",
                   "1",     "--hidden",
                   "8"});
  // A fleet this small may miss a target (exit 1), but every model is trained and registered.
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  auto show = RunCli({"--store", dir + "/store", "model", "show", "lstm:candidate", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err << r.err;
  auto m = nlohmann::json::parse(show.out);
  EXPECT_EQ(m["metadata"]["hyper_parameters"]["backend"], "ref");
  EXPECT_EQ(m["metadata"]["lineage"]["node_id"], "hub-1");
}

// A small spec that asks for gigabytes (one LSTM layer of hidden 8000: 256 M weights) is refused
// at once with the estimate, writing nothing — it used to grow to 5.9 GB with no output.
TEST_F(SettingsCliTest, TrainingOverTheMemoryBudgetIsRefusedWithTheEstimate) {
  testing::WriteFile(fleet_.dir.Sub("huge.json"),
                     R"({"kind": "regressor", "input": {"features": 3, "steps": 0},
                         "recurrent": {"cell": "lstm", "hidden": [8000]}, "output": {"width": 1}})");
  std::vector<std::string> args = {"--store",
                                   fleet_.StorePath(),
                                   "--set",
                                   "kernels.memory_budget_mb=2000",
                                   "train",
                                   "--pipeline",
                                   fleet_.dir.Sub("p.toml"),
                                   "--model",
                                   fleet_.dir.Sub("huge.json"),
                                   "--name",
                                   "huge",
                                   "--epochs",
                                   "1"};
  const auto start = std::chrono::steady_clock::now();
  auto r = RunCli(args);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("training needs about"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("but the memory budget is 2.00 GB"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(resource_exhausted)"), std::string::npos) << r.err;
  auto list = RunCli({"--store", fleet_.StorePath(), "model", "list", "--json"});
  EXPECT_EQ(list.out.find("huge"), std::string::npos) << "nothing was registered";
  auto groups = RunCli({"--store", fleet_.StorePath(), "group", "stat", "--json"});
  EXPECT_EQ(groups.out.find("train.huge"), std::string::npos) << "no group was left behind";
  // A small model with a fit sample that cannot fit is refused too, naming the sample.
  auto sample =
      RunCli({"--store", fleet_.StorePath(), "--set", "kernels.memory_budget_mb=500", "train",
              "--pipeline", fleet_.dir.Sub("p.toml"), "--model", fleet_.dir.Sub("m.json"), "--name",
              "sample", "--fit-records", "100000000"});
  EXPECT_EQ(sample.exit_code, 1) << sample.err;
  EXPECT_NE(sample.err.find("for the fit sample"), std::string::npos) << sample.err;
  // The small spec trains under a budget that fits it.
  r = Train("small", {"--set", "kernels.memory_budget_mb=500"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // predict over a stream stops once the selected readings would pass the budget (1 MB here:
  // the fleet's ~8 600 readings take about 2 MB), and runs under one that holds them.
  auto predict = RunCli({"--store", fleet_.StorePath(), "--set", "kernels.memory_budget_mb=1",
                         "predict", "--model", "small:candidate", "--input-stream", "fleet"});
  EXPECT_EQ(predict.exit_code, 1) << predict.err;
  EXPECT_NE(predict.err.find("narrow them with --from/--to or --device"), std::string::npos)
      << predict.err;
  predict = RunCli({"--store", fleet_.StorePath(), "--set", "kernels.memory_budget_mb=500",
                    "predict", "--model", "small:candidate", "--input-stream", "fleet"});
  EXPECT_EQ(predict.exit_code, 0) << predict.err;
}

}  // namespace
}  // namespace nemesyst
