// `nemesyst simulate` and `nemesyst ingest` run as real processes.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "tests/testing/run_command.h"
#include "tests/testing/temp_dir.h"

namespace nemesyst {
namespace {

using testing::RunCli;
using testing::TempDir;

TEST(StreamCliTest, SimulateIsDeterministicAndIngestsBack) {
  TempDir dir;
  const std::vector<std::string> args = {
      "simulate", "--seed", "5",   "--stores", "2", "--cases-per-store",
      "3",        "--days", "0.1", "--out",    "-"};
  const auto a = RunCli(args), b = RunCli(args);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(a.out.rfind("device,timestamp,air_on_c,air_off_c,", 0), 0u);
  const auto ingest = RunCli({"--store", dir.Sub("db"), "ingest", "-", "--stream", "fleet",
                              "--simulator-schema", "--durability", "async", "--json"},
                             a.out);
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  const size_t lines = static_cast<size_t>(std::count(a.out.begin(), a.out.end(), '\n')) - 1;
  EXPECT_NE(ingest.out.find("\"rows_committed\":" + std::to_string(lines)), std::string::npos)
      << ingest.out;
  // Straight into a stream, and JSON lines out.
  const auto into = RunCli({"--store", dir.Sub("db"), "simulate", "--days", "0.05", "--into-stream",
                            "direct", "--json"});
  EXPECT_EQ(into.exit_code, 0) << into.err;
  EXPECT_NE(into.out.find("\"rows\":"), std::string::npos);
  const auto jsonl = RunCli({"simulate", "--days", "0.01", "--stores", "1", "--format", "jsonl",
                             "--timestamp", "ms", "--out", "-"});
  ASSERT_EQ(jsonl.exit_code, 0);
  EXPECT_EQ(jsonl.out.rfind("{\"device\":\"store-0000/case-00\",\"timestamp\":1767571200000,", 0),
            0u)
      << jsonl.out.substr(0, 200);
}

TEST(StreamCliTest, IngestRejectAndDeadLetterExitCodes) {
  TempDir dir;
  std::string csv =
      "device,timestamp,air_on_c,air_off_c,product_c,ambient_c,cooling,defrost,"
      "power_kw,case_type,safe_off_s\n";
  csv += "a,2026-01-05T00:00:00Z,3,1,2,20,1,0,1.2,0,900\n";
  csv += "a,2026-01-05T00:01:00Z,3,1,2,20,1,0,1.2,7,900\n";  // case_type out of range
  csv += "a,2026-01-05T00:02:00Z,3,1,2,20,1,0,1.2,0,900\n";
  const std::string path = dir.Sub("in.csv");
  testing::WriteFile(path, csv);
  const std::vector<std::string> base = {
      "--store", dir.Sub("db"),        "ingest",       path, "--stream",
      "fleet",   "--simulator-schema", "--batch-rows", "1"};
  auto reject = RunCli(base);
  EXPECT_EQ(reject.exit_code, 1);
  EXPECT_NE(reject.err.find("in.csv:3:10:"), std::string::npos) << reject.err;
  EXPECT_NE(reject.err.find("1 rows were committed before the failing batch"), std::string::npos)
      << reject.err;
  std::vector<std::string> dead = base;
  dead[5] = "fleet2";
  dead.push_back("--on-error=dead-letter");
  auto ok = RunCli(dead);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("ingested 2 rows"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("1 dead-lettered"), std::string::npos) << ok.out;
  EXPECT_EQ(RunCli({"ingest", path}).exit_code, 2);  // --stream is required
  EXPECT_EQ(RunCli({"simulate", "--stores", "0", "--out", "-"}).exit_code, 1);
}

TEST(StreamCliTest, DirectoriesAreRefusedByNameAndDryRunSaysSo) {
  TempDir dir;
  const std::string store = dir.Sub("db");
  ASSERT_EQ(RunCli({"--store", store, "log", "create", "s", "--field", "t:float32"}).exit_code, 0);
  const std::string folder = dir.Sub("folder");
  std::filesystem::create_directories(folder);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--store", store, "ingest", "--stream", "s", folder},
           {"--store", store, "log", "append", "s", "-f", folder},
           {"--store", store, "model", "import", "m", "--blob", folder},
           {"--config", folder, "--store", store, "log", "stat"}}) {
    const auto r = RunCli(args);
    EXPECT_EQ(r.exit_code, 1) << args[2] << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("'" + folder + "' is a directory, not a file"), std::string::npos)
        << r.err;
  }
  auto stat = RunCli({"--store", store, "log", "stat", "s", "--json"});
  EXPECT_NE(stat.out.find("\"last_seq\":0"), std::string::npos) << "nothing was appended";

  testing::WriteFile(dir.Sub("in.csv"), "device,timestamp,t\na,1767571200,1\n");
  const auto dry =
      RunCli({"--store", store, "ingest", "--stream", "s", "--dry-run", dir.Sub("in.csv")});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("would ingest 1 rows"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("nothing was written"), std::string::npos) << dry.out;
  stat = RunCli({"--store", store, "log", "stat", "s", "--json"});
  EXPECT_NE(stat.out.find("\"last_seq\":0"), std::string::npos) << stat.out;
}

TEST(StreamCliTest, ConfigRangesAreCheckedAtLoadWithTheFileAndLine) {
  TempDir dir;
  testing::WriteFile(dir.Sub("c.toml"), "[kernels]\nbackend = \"auto\"\nthreads = 0\n");
  auto r = RunCli({"--config", dir.Sub("c.toml"), "--store", dir.Sub("db"), "config", "show"});
  EXPECT_EQ(r.exit_code, 1);  // refused before any command runs
  EXPECT_NE(r.err.find(dir.Sub("c.toml") + ":3:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'kernels.threads' must be in [1, 256]"), std::string::npos) << r.err;
  r = RunCli({"--set", "store.records_per_chunk=5000", "config", "show"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("'store.records_per_chunk' must be in [1, 4096]"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace nemesyst
