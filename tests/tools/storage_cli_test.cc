// `nemesyst log|group|model`, run as the real binary against a store in a temporary directory.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "nemesyst/model.h"
#include "tests/testing/run_command.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/tmpfs.h"

namespace nemesyst {
namespace {

using testing::CommandResult;
using testing::RunCli;

// A small LSTM regressor's model file over the fridges stream (temperature_c predicted from the
// last 4 power_kw readings), with the metadata `predict` needs unless `with_pipeline` is false.
// Different seeds give different weights (different content).
std::string FridgeModelFile(uint64_t seed, bool with_pipeline = true) {
  auto model = Model::Create(
      R"({"kind": "regressor", "input": {"features": 1, "steps": 4},
          "recurrent": {"cell": "lstm", "hidden": [4]}, "output": {"width": 1}})",
      seed);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  ModelFileMetadata meta;
  if (with_pipeline) {
    meta["pipeline"] = R"({"window": {"length": 4}, "label": {"field": "temperature_c"},
                           "steps": [{"op": "select", "fields": ["power_kw"]}]})";
    meta["input_fields"] = "temperature_c,power_kw";
  }
  return (*model)->Serialize(meta).value();
}

class StorageCliTest : public ::testing::Test {
 protected:
  // Runs `nemesyst --store <dir> args...` with async durability (fast; tests do not cut power).
  CommandResult Run(std::vector<std::string> args, const std::string& stdin_data = "") {
    args.insert(args.begin(), {"--store", dir_.Sub("store"), "--set", "store.durability=async"});
    return RunCli(args, stdin_data);
  }
  nlohmann::json Json(const CommandResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }
  void CreateFridges() {
    auto r = Run({"log", "create", "fridges", "--field", "temperature_c:float32:degC:-50:150",
                  "--field", "power_kw:float64:kW"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  testing::TempDir dir_;
};

TEST_F(StorageCliTest, CreateAppendTailStat) {
  CreateFridges();
  auto r = Run({"log", "append", "fridges", "--json"},
               "{\"device\":\"a\",\"timestamp_us\":1000,\"values\":{\"temperature_c\":3.5,"
               "\"power_kw\":1.25}}\n"
               "{\"device\":\"b\",\"timestamp_us\":2000,\"values\":[4.5,2]}\n");
  auto j = Json(r);
  EXPECT_EQ(j["appended"], 2);
  EXPECT_EQ(j["first_seq"], 1);
  EXPECT_EQ(j["last_seq"], 2);

  testing::WriteFile(dir_.Sub("in.csv"),
                     "timestamp_us,device,power_kw,temperature_c\n3000,a,3,5.5\n4000,c,4,6.5\n");
  r = Run({"log", "append", "fridges", "--file", dir_.Sub("in.csv")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("seq 3..4"), std::string::npos) << r.out;

  r = Run({"log", "tail", "fridges", "-n", "2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto first_line = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')));
  EXPECT_EQ(first_line["seq"], 3);
  EXPECT_EQ(first_line["values"]["temperature_c"], 5.5);
  r = Run({"log", "tail", "fridges", "--device", "a"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("1\ta\t1000\t3.5\t1.25"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\tc\t"), std::string::npos);

  j = Json(Run({"log", "stat", "fridges", "--json"}));
  EXPECT_EQ(j["last_seq"], 4);
  EXPECT_EQ(j["schema"]["fields"][0]["unit"], "degC");
  r = Run({"log", "stat"});
  EXPECT_NE(r.out.find("fridges: seq 1..4"), std::string::npos) << r.out;
  r = Run({"log", "rejects", "fridges", "--json"});  // nothing was refused by ingest
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "") << "commands that succeed are quiet at the default log level";
}

TEST_F(StorageCliTest, BadInputIsARuntimeErrorNamingLineAndFieldAndAppendsNothing) {
  CreateFridges();
  auto r = Run({"log", "append", "fridges"},
               "{\"device\":\"a\",\"timestamp_us\":1,\"values\":[1,2]}\n"
               "{\"device\":\"a\",\"timestamp_us\":2,\"values\":[999,2]}\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("temperature_c"), std::string::npos) << r.err;
  r = Run({"log", "append", "fridges"}, "{\"device\":\"a\",\"timestamp_us\":1}\nnot json\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("<stdin>:1"), std::string::npos) << r.err;
  EXPECT_EQ(Json(Run({"log", "stat", "fridges", "--json"}))["last_seq"], 0);
  r = Run({"log", "append", "nope"}, "");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not_found"), std::string::npos) << r.err;
  EXPECT_EQ(Run({"log", "create", "x", "--field", "t:int8"}).exit_code, 1);
  EXPECT_EQ(Run({"log", "frobnicate"}).exit_code, 2);

  testing::WriteFile(dir_.Sub("schema.toml"),
                     "[[fields]]\nname = \"t\"\ntype = \"float32\"\nmin = 0\n\n"
                     "[[fields]]\nname = \"n\"\ntype = \"int32\"\n");
  r = Run({"log", "create", "from-toml", "--schema", dir_.Sub("schema.toml"), "--json"});
  auto j = Json(r);
  EXPECT_EQ(j["schema"]["fields"][1]["type"], "int32");
}

TEST_F(StorageCliTest, GroupClaimAckStatAndRetain) {
  CreateFridges();
  std::string rows;
  for (int i = 0; i < 10; ++i) {
    rows += "{\"device\":\"a\",\"timestamp_us\":" + std::to_string(i) + ",\"values\":[1,2]}\n";
  }
  ASSERT_EQ(Run({"log", "append", "fridges"}, rows).exit_code, 0);
  ASSERT_EQ(Run({"group", "create", "learners", "--stream", "fridges"}).exit_code, 0);
  auto claim = Json(Run({"group", "claim", "learners", "--member", "m1", "--max", "4", "--json"}));
  EXPECT_EQ(claim["first_seq"], 1);
  EXPECT_EQ(claim["last_seq"], 4);
  auto ack = Run({"group", "ack", "learners", "--batch", std::to_string(claim["batch"].get<int>()),
                  "--delivery", "1"});
  ASSERT_EQ(ack.exit_code, 0) << ack.err;
  EXPECT_EQ(Run({"group", "ack", "learners", "--batch", "1"}).exit_code, 1);  // already acked
  auto stats = Json(Run({"group", "stat", "learners", "--json"}));
  EXPECT_EQ(stats["committed_seq"], 4);
  EXPECT_EQ(stats["backlog_records"], 6);

  auto report = Json(Run({"log", "retain", "fridges", "--max-records", "2", "--json"}));
  EXPECT_EQ(report["wanted_through_seq"], 8);
  EXPECT_EQ(report["deleted_through_seq"], 4);
  EXPECT_EQ(report["held_back"][0]["group"], "learners");
  auto claim2 = Json(Run({"group", "claim", "learners", "--member", "m1", "--json"}));
  EXPECT_EQ(claim2["last_seq"], 10);
  auto none = Json(Run({"group", "claim", "learners", "--member", "m2", "--json"}));
  EXPECT_EQ(none["claimed"], false);
}

TEST_F(StorageCliTest, GroupDeleteRefusesClaimsUnlessForced) {
  CreateFridges();
  ASSERT_EQ(
      Run({"log", "append", "fridges"}, "{\"device\":\"a\",\"timestamp_us\":1,\"values\":[1,2]}\n")
          .exit_code,
      0);
  ASSERT_EQ(Run({"group", "create", "learners", "--stream", "fridges"}).exit_code, 0);
  ASSERT_EQ(Run({"group", "claim", "learners", "--member", "m1"}).exit_code, 0);
  auto refused = Run({"group", "delete", "learners"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("unacknowledged"), std::string::npos) << refused.err;
  auto forced = Run({"group", "delete", "learners", "--force"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_NE(forced.out.find("deleted group learners"), std::string::npos);
  auto again = Run({"group", "delete", "learners"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("no consumer group 'learners'"), std::string::npos) << again.err;
}

TEST_F(StorageCliTest, ReadOnlyModelCommandsWorkAfterTheRegistryIsFlushed) {
  // Each write-open replays the previous one's log into table files; with model chunks in blob
  // files, the read-only (secondary) open then segfaulted in `model list` and `model export`.
  testing::WriteFile(dir_.Sub("w1.bin"), FridgeModelFile(1));
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Run({"model", "import", "m", "--blob", dir_.Sub("w1.bin")}).exit_code, 0);
  }
  auto list = Run({"model", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("m"), std::string::npos);
  auto exported = Run({"model", "export", "m@1", "--out", dir_.Sub("back.bin")});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_EQ(testing::ReadFile(dir_.Sub("back.bin")), testing::ReadFile(dir_.Sub("w1.bin")));
}

TEST_F(StorageCliTest, ReadOnlyCommandsNeverCreateAStore) {
  const std::string missing = dir_.Sub("mistyped/path");
  for (const std::vector<std::string>& command :
       std::vector<std::vector<std::string>>{{"log", "stat"},
                                             {"log", "tail", "s"},
                                             {"log", "rejects"},
                                             {"model", "list"},
                                             {"model", "show", "m@1"},
                                             {"group", "stat"}}) {
    std::vector<std::string> args = {"--store", missing};
    args.insert(args.end(), command.begin(), command.end());
    auto r = RunCli(args);
    EXPECT_EQ(r.exit_code, 1) << command[0] << " " << command[1];
    EXPECT_NE(r.err.find("no store at '" + missing + "'"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("mistyped"))) << "a read created the tree";
}

TEST_F(StorageCliTest, ModelImportListShowAliasExportRetire) {
  const std::string w1 = FridgeModelFile(1), w2 = FridgeModelFile(2);
  testing::WriteFile(dir_.Sub("w1.bin"), w1);
  testing::WriteFile(dir_.Sub("w2.bin"), w2);
  testing::WriteFile(dir_.Sub("meta1.json"),
                     R"({"kind": "lstm", "hyper_parameters": {"hidden": 64},
                         "metrics": {"val_loss": 0.3},
                         "lineage": {"stream": "fridges", "seq_ranges": [[1, 100]]}})");
  testing::WriteFile(dir_.Sub("meta2.json"), R"({"metrics": {"val_loss": 0.2}})");
  auto v1 = Json(Run({"model", "import", "fridge-lstm", "--blob", dir_.Sub("w1.bin"), "--metadata",
                      dir_.Sub("meta1.json"), "--json"}));
  EXPECT_EQ(v1["version"], 1);
  auto v2 = Json(Run({"model", "import", "fridge-lstm", "--blob", dir_.Sub("w2.bin"), "--metadata",
                      dir_.Sub("meta2.json"), "--json"}));
  EXPECT_EQ(v2["version"], 2);
  testing::WriteFile(dir_.Sub("bad.json"), R"({"metrics": {"val_loss": "low"}})");
  auto bad = Run({"model", "import", "fridge-lstm", "--blob", dir_.Sub("w2.bin"), "--metadata",
                  dir_.Sub("bad.json")});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("metrics.val_loss"), std::string::npos) << bad.err;
  // The digest identifies the content (sha256sum's text); the kind comes from the spec when the
  // metadata gives none.
  auto info1 = Json(Run({"model", "show", "fridge-lstm@1", "--json"}));
  auto info2 = Json(Run({"model", "show", "fridge-lstm@2", "--json"}));
  EXPECT_EQ(info1["blob_sha256"].get<std::string>().size(), 64u);
  EXPECT_NE(info1["blob_sha256"], info2["blob_sha256"]);
  EXPECT_EQ(info2["metadata"]["kind"], "lstm");
  auto sha = testing::RunCommand({"/usr/bin/sha256sum", dir_.Sub("w1.bin")});
  EXPECT_EQ(sha.out.substr(0, 64), info1["blob_sha256"].get<std::string>());

  // A bare name is its production alias (else candidate): with neither, it names no version, and
  // the newest (v2) must not silently win.
  auto bare = Run({"model", "show", "fridge-lstm"});
  EXPECT_EQ(bare.exit_code, 1);
  EXPECT_NE(bare.err.find("production"), std::string::npos) << bare.err;
  ASSERT_EQ(Run({"model", "alias", "fridge-lstm", "production", "1"}).exit_code, 0);
  auto show = Json(Run({"model", "show", "fridge-lstm:production", "--json"}));
  EXPECT_EQ(show["version"], 1);
  EXPECT_EQ(show["metadata"]["hyper_parameters"]["hidden"], "64");
  EXPECT_EQ(show["metadata"]["lineage"]["seq_ranges"][0][1], 100);
  EXPECT_EQ(show["metadata"]["lineage"]["node_id"], "local");
  auto best = Json(Run({"model", "show", "fridge-lstm", "--best", "val_loss", "--json"}));
  EXPECT_EQ(best["version"], 2);
  EXPECT_EQ(Json(Run({"model", "show", "fridge-lstm", "--json"}))["version"], 1);  // production
  EXPECT_EQ(Run({"model", "show", "fridge-lstm@2", "--best", "val_loss"}).exit_code, 1);

  auto exported = Run({"model", "export", "fridge-lstm@1", "--out", dir_.Sub("out.bin"),
                       "--metadata", dir_.Sub("out.json")});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_EQ(testing::ReadFile(dir_.Sub("out.bin")), w1);
  EXPECT_NE(testing::ReadFile(dir_.Sub("out.json")).find("\"lstm\""), std::string::npos);

  EXPECT_EQ(Run({"model", "retire", "fridge-lstm@1"}).exit_code, 1);  // aliased
  ASSERT_EQ(Run({"model", "alias", "fridge-lstm", "production", "2"}).exit_code, 0);
  ASSERT_EQ(Run({"model", "retire", "fridge-lstm@1"}).exit_code, 0);
  auto list = Json(Run({"model", "list", "--json"}));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["version"], 2);
  EXPECT_EQ(list[0]["aliases"][0], "production");
  EXPECT_EQ(Json(Run({"model", "list", "--all", "--json"})).size(), 2u);
  auto text = Run({"model", "list", "--all"});
  EXPECT_NE(text.out.find("fridge-lstm@1"), std::string::npos);
  EXPECT_NE(text.out.find("(retired)"), std::string::npos);
}

// `model import` checks the whole file before writing anything: bytes that are not a model file,
// a damaged one, and one without the pipeline `predict` needs are refused, and the registry stays
// empty.
TEST_F(StorageCliTest, ModelImportRefusesWhatPredictCannotLoad) {
  std::string damaged = FridgeModelFile(1);
  damaged[damaged.size() / 2] ^= 0x40;
  const std::pair<std::string, std::string> cases[] = {
      {std::string("\x00\x01weights", 9), "model file"},
      {damaged, "checksum"},
      {FridgeModelFile(1).substr(0, 100), "model file"},
      {FridgeModelFile(1, /*with_pipeline=*/false), "carries no pipeline"},
  };
  for (const auto& [bytes, why] : cases) {
    testing::WriteFile(dir_.Sub("m.bin"), bytes);
    auto r = Run({"model", "import", "m", "--blob", dir_.Sub("m.bin")});
    EXPECT_EQ(r.exit_code, 1) << why;
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
  }
  auto list = Json(Run({"model", "list", "--all", "--json"}));
  EXPECT_TRUE(list.empty()) << list.dump();
}

// store.records_per_chunk reaches the store: out-of-range values are refused naming the key, and
// a store written with one record per key reads back the same as with the default chunks.
TEST_F(StorageCliTest, RecordsPerChunkIsConfigurable) {
  auto r =
      RunCli({"--store", dir_.Sub("store"), "--set", "store.records_per_chunk=0", "log", "stat"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("store.records_per_chunk"), std::string::npos) << r.err;
  r = RunCli(
      {"--store", dir_.Sub("store"), "--set", "store.records_per_chunk=5000", "log", "stat"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("must be in [1, 4096]"), std::string::npos) << r.err;

  CreateFridges();
  // Seqs 1..10 one record per key, then 11..15 in the default chunks; reads span both.
  auto rows = [](int from, int to) {
    std::string csv = "timestamp_us,device,power_kw,temperature_c\n";
    for (int i = from; i <= to; ++i) {
      csv += std::to_string(1000 * i) + ",a," + std::to_string(i) + ",1.5\n";
    }
    return csv;
  };
  testing::WriteFile(dir_.Sub("one.csv"), rows(1, 10));
  testing::WriteFile(dir_.Sub("two.csv"), rows(11, 15));
  r = RunCli({"--store", dir_.Sub("store"), "--set", "store.durability=async", "--set",
              "store.records_per_chunk=1", "log", "append", "fridges", "--file",
              dir_.Sub("one.csv")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run({"log", "append", "fridges", "--file", dir_.Sub("two.csv")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run({"log", "tail", "fridges", "-n", "6"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("10\ta\t10000\t1.5\t10"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("15\ta\t15000\t1.5\t15"), std::string::npos) << r.out;
}

// The real binary on a full disk (a 2 MiB tmpfs; root only): ingest in every durability mode
// exits 1 with what was committed (RocksDB 7.8 used to abort, exit 134, on its own LOG file),
// read-only commands work even with their scratch space on the full disk, `model import` gets a
// clear error, and once there is space the next write goes on after the last committed record.
TEST(StorageCliDiskFull, ClearErrorsReadsWorkAndWritesResume) {
  testing::TempDir work;
  const std::string csv = work.Sub("fleet.csv");
  auto sim =
      RunCli({"simulate", "--stores", "2", "--cases-per-store", "6", "--days", "3", "--out", csv});
  ASSERT_EQ(sim.exit_code, 0) << sim.err;
  testing::WriteFile(work.Sub("m.nmodel"), FridgeModelFile(1));
  for (const char* durability : {"sync", "group", "async"}) {
    SCOPED_TRACE(durability);
    testing::Tmpfs disk(2 << 20);
    if (!disk.mounted()) GTEST_SKIP() << disk.error();
    const std::string store = disk.Sub("store");
    auto ingest = RunCli({"--store", store, "ingest", "--durability", durability, "--stream",
                          "fleet", "--simulator-schema", csv});
    ASSERT_EQ(ingest.exit_code, 1) << ingest.err;
    EXPECT_NE(ingest.err.find("disk is full"), std::string::npos) << ingest.err;
    EXPECT_NE(ingest.err.find("(resource_exhausted)"), std::string::npos) << ingest.err;
    const size_t at = ingest.err.find("last committed seq is ");
    ASSERT_NE(at, std::string::npos) << ingest.err;
    const uint64_t committed = std::stoull(ingest.err.substr(at + 22));
    ASSERT_GT(committed, 0u);

    const std::vector<std::string> on_full_disk = {"TMPDIR=" + disk.Sub("")};
    auto stat = RunCli({"--store", store, "log", "stat", "--json"}, "", on_full_disk);
    ASSERT_EQ(stat.exit_code, 0) << stat.err;
    auto j = nlohmann::json::parse(stat.out, nullptr, false);
    ASSERT_TRUE(j.is_array() && j.size() == 1) << stat.out;
    EXPECT_EQ(j[0]["last_seq"], committed);
    auto tail = RunCli({"--store", store, "log", "tail", "fleet", "-n", "1"}, "", on_full_disk);
    EXPECT_EQ(tail.exit_code, 0) << tail.err;
    EXPECT_NE(tail.out.find(std::to_string(committed) + "\t"), std::string::npos) << tail.out;

    auto import =
        RunCli({"--store", store, "model", "import", "m", "--blob", work.Sub("m.nmodel")});
    EXPECT_EQ(import.exit_code, 1) << import.err;
    EXPECT_NE(import.err.find("disk is full"), std::string::npos) << import.err;

    ASSERT_TRUE(disk.Resize(64 << 20));
    auto append =
        RunCli({"--store", store, "log", "append", "fleet", "--json"},
               "{\"device\":\"x\",\"timestamp_us\":1,\"values\":[1,1,1,20,1,0,1,0,60]}\n");
    ASSERT_EQ(append.exit_code, 0) << append.err;
    EXPECT_EQ(nlohmann::json::parse(append.out)["first_seq"], committed + 1);
    EXPECT_EQ(RunCli({"--store", store, "model", "import", "m", "--blob", work.Sub("m.nmodel")})
                  .exit_code,
              0);
  }
}

}  // namespace
}  // namespace nemesyst
