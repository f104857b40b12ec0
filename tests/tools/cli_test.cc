// The CLI's contract with scripts: exit codes, --help/--version, config show.
#include <gtest/gtest.h>

#include "tests/testing/run_command.h"
#include "tests/testing/temp_dir.h"

namespace nemesyst {
namespace {

using testing::RunCli;

TEST(CliTest, HelpAndVersionExitZero) {
  auto help = RunCli({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("config"), std::string::npos);
  auto version = RunCli({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out.find("nemesyst 0."), std::string::npos) << version.out;
  EXPECT_EQ(RunCli({"config", "show", "--help"}).exit_code, 0);
}

TEST(CliTest, UsageErrorsExitTwoWithMessageOnStderr) {
  auto r = RunCli({"--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no-such-flag"), std::string::npos) << r.err;
  EXPECT_EQ(RunCli({}).exit_code, 2) << "a subcommand is required";
  EXPECT_EQ(RunCli({"no-such-command"}).exit_code, 2);
  EXPECT_EQ(RunCli({"config"}).exit_code, 2);
}

TEST(CliTest, ConfigShowMergesFileEnvironmentAndFlags) {
  testing::TempDir dir;
  testing::WriteFile(dir.Sub("n.toml"), "[store]\npath = \"/file\"\n[kernels]\nthreads = 3\n");
  auto r =
      RunCli({"--config", dir.Sub("n.toml"), "config", "show", "--json", "--set", "node.id=hub-1"},
             "", {"NEMESYST_KERNELS_THREADS=4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"/file\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"value\": 4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"hub-1\""), std::string::npos) << r.out;

  auto text = RunCli({"config", "show", "--store", "/flag"}, "", {"NEMESYST_STORE_PATH=/env"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("path = \"/flag\"  # flag (--store)"), std::string::npos) << text.out;
}

TEST(CliTest, MalformedConfigFileIsARuntimeErrorNamingFileAndLine) {
  testing::TempDir dir;
  const std::string file = dir.Sub("broken.toml");
  testing::WriteFile(file, "[store]\npath = \"unterminated\n");
  auto r = RunCli({"--config", file, "config", "show"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(file + ":2:"), std::string::npos) << r.err;
  auto missing = RunCli({"--config", dir.Sub("absent.toml"), "config", "show"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("absent.toml"), std::string::npos);
}

}  // namespace
}  // namespace nemesyst
