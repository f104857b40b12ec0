// `nemesyst kernels info`: the backend the dispatcher picks per operation, for humans and scripts.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "tests/testing/run_command.h"

namespace nemesyst {
namespace {

using testing::RunCli;

nlohmann::json ParseInfo(const std::vector<std::string>& extra_args,
                         const std::vector<std::string>& env = {}) {
  std::vector<std::string> args = {"kernels", "info", "--json"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  auto r = RunCli(args, "", env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
}

TEST(KernelCliTest, InfoListsEveryOperationWithAnAvailableChoice) {
  nlohmann::json info = ParseInfo({});
  ASSERT_TRUE(info.is_object());
  EXPECT_EQ(info["configured_backend"], "auto");
  ASSERT_TRUE(info["operations"].is_array());
  std::set<std::string> operations;
  for (const auto& op : info["operations"]) {
    operations.insert(op["operation"].get<std::string>());
    const std::string chosen = op["chosen"];
    // Whatever auto picked must be reported available, and ref is always there.
    EXPECT_EQ(op["backends"][chosen], "available") << op.dump();
    if (op["operation"] != "lstm_fp16_weights") {
      EXPECT_EQ(op["backends"]["ref"], "available") << op.dump();
    }
  }
  EXPECT_TRUE(operations.count("lstm") && operations.count("rnn") && operations.count("dense"));
}

TEST(KernelCliTest, ForcedBackendFromEnvironmentIsHonoured) {
  nlohmann::json info = ParseInfo({}, {"NEMESYST_KERNELS_BACKEND=ref"});
  EXPECT_EQ(info["configured_backend"], "ref");
  for (const auto& op : info["operations"]) {
    if (op["operation"] == "lstm") {
      EXPECT_EQ(op["chosen"], "ref") << op.dump();
    }
  }
}

TEST(KernelCliTest, UnknownBackendIsAConfigurationError) {
  auto r = RunCli({"kernels", "info", "--set", "kernels.backend=cuda"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("kernels.backend"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace nemesyst
