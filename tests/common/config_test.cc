#include "nemesyst/config.h"

#include <gtest/gtest.h>

#include "tests/testing/temp_dir.h"

namespace nemesyst {
namespace {

using testing::TempDir;
using testing::WriteFile;

TEST(ConfigTest, DefaultsComeFromTheKeyTable) {
  Config config;
  EXPECT_EQ(config.GetString("store.path"), "./nemesyst-data");
  EXPECT_EQ(config.GetEntry("store.path").source, ConfigSource::kDefault);
  EXPECT_EQ(config.GetInt("kernels.threads"), 1);
}

TEST(ConfigTest, EnvironmentVariableNames) {
  EXPECT_EQ(EnvironmentVariableFor("store.path"), "NEMESYST_STORE_PATH");
  EXPECT_EQ(EnvironmentVariableFor("kernels.threads"), "NEMESYST_KERNELS_THREADS");
}

TEST(ConfigTest, PrecedenceDefaultsFileEnvironmentFlags) {
  TempDir dir;
  const std::string file = dir.Sub("nemesyst.toml");
  WriteFile(file,
            "[store]\npath = \"/from/file\"\ndurability = \"sync\"\n"
            "[log]\nlevel = \"debug\"\n[kernels]\nthreads = 2\n");
  Config config;
  ASSERT_TRUE(config.ApplyFile(file).ok());
  const char* envp[] = {"NEMESYST_STORE_PATH=/from/env", "NEMESYST_LOG_LEVEL=warn",
                        "NEMESYST_UNRELATED_SCRIPT_VAR=1", "PATH=/usr/bin", nullptr};
  ASSERT_TRUE(config.ApplyEnvironment(envp).ok());
  ASSERT_TRUE(config.ApplyFlag("log.level", "error", "--log-level").ok());

  // flag beats environment beats file beats default
  EXPECT_EQ(config.GetString("log.level"), "error");
  EXPECT_EQ(config.GetEntry("log.level").source, ConfigSource::kFlag);
  EXPECT_EQ(config.GetString("store.path"), "/from/env");
  EXPECT_EQ(config.GetEntry("store.path").origin, "NEMESYST_STORE_PATH");
  EXPECT_EQ(config.GetString("store.durability"), "sync");
  EXPECT_EQ(config.GetEntry("store.durability").origin, file + ":3");
  EXPECT_EQ(config.GetInt("kernels.threads"), 2);
  EXPECT_EQ(config.GetString("node.id"), "local");
  EXPECT_EQ(config.GetEntry("node.id").source, ConfigSource::kDefault);
}

TEST(ConfigTest, MalformedTomlNamesFileLineAndReason) {
  TempDir dir;
  const std::string file = dir.Sub("bad.toml");
  WriteFile(file, "[store]\npath = \"ok\"\ndurability = = \"sync\"\n");
  Config config;
  Status s = config.ApplyFile(file);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(file + ":3:"), std::string::npos) << s.message();
  // Nothing from a bad file is applied.
  EXPECT_EQ(config.GetString("store.path"), "./nemesyst-data");
}

TEST(ConfigTest, UnknownKeyInFileIsAnErrorWithLine) {
  Config config;
  Status s = config.ApplyToml("[store]\npath = \"x\"\npth = \"typo\"\n", "cfg.toml");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cfg.toml:3:"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("store.pth"), std::string::npos) << s.message();
  EXPECT_EQ(config.GetString("store.path"), "./nemesyst-data") << "a bad file applies nothing";
}

TEST(ConfigTest, WrongTypeAndChoiceAreRejected) {
  Config config;
  Status type_error = config.ApplyToml("[kernels]\nthreads = \"two\"\n", "cfg.toml");
  EXPECT_NE(type_error.message().find("cfg.toml:2:"), std::string::npos);
  EXPECT_NE(type_error.message().find("integer"), std::string::npos) << type_error.message();
  Status choice_error = config.ApplyToml("[store]\ndurability = \"sometimes\"\n", "cfg.toml");
  EXPECT_NE(choice_error.message().find("sync, group, async"), std::string::npos)
      << choice_error.message();
  Status not_table = config.ApplyToml("store = 3\n", "cfg.toml");
  EXPECT_FALSE(not_table.ok());
}

TEST(ConfigTest, BadEnvironmentValueNamesTheVariable) {
  Config config;
  const char* envp[] = {"NEMESYST_KERNELS_THREADS=many", nullptr};
  Status s = config.ApplyEnvironment(envp);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("NEMESYST_KERNELS_THREADS"), std::string::npos) << s.message();
}

TEST(ConfigTest, UnknownFlagKeyIsRejected) {
  Config config;
  EXPECT_EQ(config.ApplyFlag("no.such", "1", "--set").code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(config.ApplyFlag("kernels.threads", "1.5", "--set").ok());
}

TEST(ConfigTest, TomlOutputRoundTrips) {
  Config config;
  ASSERT_TRUE(config.ApplyFlag("store.path", "/data/with \"quotes\"", "--store").ok());
  Config reparsed;
  Status s = reparsed.ApplyToml(config.ToToml(), "shown.toml");
  ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << config.ToToml();
  EXPECT_EQ(reparsed.GetString("store.path"), "/data/with \"quotes\"");
}

// Found by tests/fuzz/config_fuzzer: a flag or environment value that is not UTF-8 threw from the
// JSON quoting of the error message (std::terminate in any command given such a value).
TEST(ConfigTest, ValuesThatAreNotUtf8AreRefusedWithoutThrowing) {
  Config config;
  Status s = config.ApplyFlag("node.heartbeat_ms",
                              "\xff"
                              "500",
                              "--set");
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  const char* envp[] = {"NEMESYST_LOG_LEVEL=\xfe", nullptr};
  s = config.ApplyEnvironment(envp);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("NEMESYST_LOG_LEVEL"), std::string_view::npos);
}

// A path may be any bytes: `config show` (TOML and JSON) shows it, with U+FFFD for what TOML and
// JSON cannot hold, instead of throwing.
TEST(ConfigTest, ShowsStringsThatAreNotUtf8) {
  Config config;
  ASSERT_TRUE(config.ApplyFlag("store.path", "/data/\xff\xfe", "--store").ok());
  const std::string toml = config.ToToml();
  EXPECT_NE(toml.find("/data/\xef\xbf\xbd\xef\xbf\xbd"), std::string::npos) << toml;
  EXPECT_NE(config.ToJson().find("/data/\xef\xbf\xbd"), std::string::npos);
  Config reparsed;
  Status s = reparsed.ApplyToml(toml, "shown.toml");
  EXPECT_TRUE(s.ok()) << s.ToString();
}

// The round trip tests/fuzz/config_fuzzer checks: TOML forbids a raw DEL (U+007F) in a string,
// and the JSON escaping `config show` used leaves it raw, so the shown configuration did not parse.
TEST(ConfigTest, TomlOutputEscapesEveryControlCharacter) {
  Config config;
  const std::string id = std::string(
                             "a\x7f"
                             "b\x01\x1f\t\n\\\"") +
                         "\xc3\xa9";
  ASSERT_TRUE(config.ApplyFlag("node.id", id, "--set").ok());
  Config reparsed;
  Status s = reparsed.ApplyToml(config.ToToml(), "shown.toml");
  ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << config.ToToml();
  EXPECT_EQ(reparsed.GetString("node.id"), id);
}

}  // namespace
}  // namespace nemesyst
