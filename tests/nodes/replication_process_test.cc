// A hub and a store node as real processes: the store ingests while it replicates; the hub's copy
// is byte-identical once idle; the store stays readable (and refuses other writers, naming its
// owner) while the node runs; `node status` reports positions and lag.
#include <gtest/gtest.h>

#include "tests/nodes/cluster_fixture.h"
#include "tests/testing/run_command.h"

namespace nemesyst::testing {
namespace {

TEST(ReplicationProcessTest, TheHubsCopyIsByteIdenticalOnceIdle) {
  Cluster cluster;
  cluster.StartHub();
  cluster.StartStore("s1");
  cluster.CreateFeed("s1");
  for (int batch = 0; batch < 40; ++batch) {
    nlohmann::json r = NodeAppend(cluster.StoreClient("s1"), "feed", BatchCsv(batch, 250));
    ASSERT_TRUE(r.is_object() && r.value("ok", false)) << r.dump();
    EXPECT_EQ(r["seqs"][0][0], uint64_t(batch) * 250 + 1);
  }
  ASSERT_TRUE(cluster.WaitCaughtUp("s1")) << cluster.hub()->log();
  // Idle: equal while both run, and after both stop.
  EXPECT_EQ(Digest(cluster.HubReplica("s1")), Digest(cluster.Path("s1")));
  EXPECT_EQ(cluster.store("s1")->Terminate(), 0) << cluster.store("s1")->log();
  EXPECT_EQ(cluster.hub()->Terminate(), 0) << cluster.hub()->log();
  const std::string digest = Digest(cluster.Path("s1"));
  EXPECT_EQ(Digest(cluster.HubReplica("s1")), digest);
  EXPECT_EQ(ReadRows(cluster.HubReplica("s1")).size(), 40u * 250);
}

TEST(ReplicationProcessTest, AnOwnedStoreStaysReadableAndRefusesOtherWritersByName) {
  Cluster cluster;
  cluster.StartHub();
  cluster.StartStore("s1");
  cluster.CreateFeed("s1");
  ASSERT_TRUE(NodeAppend(cluster.StoreClient("s1"), "feed", BatchCsv(0, 10)).value("ok", false));
  const std::string store = cluster.Path("s1");
  auto stat = RunCli({"--store", store, "log", "stat"});
  EXPECT_EQ(stat.exit_code, 0) << stat.err;
  EXPECT_NE(stat.out.find("feed: seq 1..10"), std::string::npos) << stat.out;
  EXPECT_EQ(RunCli({"--store", store, "log", "tail", "feed", "-n", "2"}).exit_code, 0);
  EXPECT_EQ(RunCli({"--store", store, "model", "list"}).exit_code, 0);
  auto write = RunCli({"--store", store, "log", "create", "other", "--field", "a:float32"});
  EXPECT_EQ(write.exit_code, 1);
  EXPECT_NE(write.err.find("node 's1' (role store"), std::string::npos) << write.err;
  EXPECT_NE(write.err.find("ingest --connect"), std::string::npos) << write.err;
  EXPECT_EQ(write.err.find("LOCK"), std::string::npos) << "no raw RocksDB error: " << write.err;
  // Rows through the node's connection instead, validated as ingest validates them.
  WriteFile(cluster.Path("rows.csv"), "device,timestamp,v\nd0,5000,1.5\nd0,5001,x\n");
  auto bad = RunCli({"ingest", cluster.Path("rows.csv"), "--stream", "feed", "--connect",
                     cluster.StoreClient("s1")});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("rows.csv"), std::string::npos) << "errors name the input: " << bad.err;
  WriteFile(cluster.Path("rows.csv"), "device,timestamp,v\nd0,5000,1.5\n");
  auto good = RunCli({"ingest", cluster.Path("rows.csv"), "--stream", "feed", "--connect",
                      cluster.StoreClient("s1"), "--json"});
  ASSERT_EQ(good.exit_code, 0) << good.err;
  EXPECT_EQ(nlohmann::json::parse(good.out)["seqs"][0][0], 11);
}

TEST(ReplicationProcessTest, StatusReportsPositionsLagAndSessions) {
  Cluster cluster;
  cluster.StartHub();
  cluster.StartStore("s1");
  cluster.CreateFeed("s1");
  ASSERT_TRUE(NodeAppend(cluster.StoreClient("s1"), "feed", BatchCsv(0, 100)).value("ok", false));
  ASSERT_TRUE(cluster.WaitCaughtUp("s1"));
  auto status = RunCli({"node", "status", "--connect", cluster.StoreClient("s1"), "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  nlohmann::json s = nlohmann::json::parse(status.out);
  EXPECT_EQ(s["role"], "store");
  EXPECT_EQ(s["node_id"], "s1");
  EXPECT_EQ(s["history_id"].get<std::string>().size(), 32u);
  EXPECT_TRUE(s["connected"].get<bool>());
  ASSERT_EQ(s["peers"].size(), 2u);
  EXPECT_EQ(s["peers"][0]["channel"], "data");
  EXPECT_EQ(s["peers"][0]["lag_changes"], 0);
  EXPECT_EQ(s["peers"][0]["applied"], s["last_position"]);
  nlohmann::json hub = NodeStatusJson(cluster.hub()->client());
  ASSERT_TRUE(hub.is_object());
  EXPECT_EQ(hub["role"], "hub");
  EXPECT_EQ(hub["peers"][0]["peer"], "s1");
  auto human = RunCli({"node", "status", "--connect", cluster.StoreClient("s1")});
  EXPECT_NE(human.out.find("leader of data with hub"), std::string::npos) << human.out;
  // Nobody there: a clear error, not a hang.
  auto none = RunCli({"node", "status", "--deadline-ms", "300", "--connect",
                      "tcp://127.0.0.1:" + std::to_string(FreePort())});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no reply"), std::string::npos) << none.err;
}

}  // namespace
}  // namespace nemesyst::testing
