// The link between a store node and the hub misbehaves — through a frame-aware ZMTP proxy
// (tests/testing/zmtp_proxy.h, seeded): messages dropped, duplicated, reordered, delayed and
// bit-flipped; a blackhole; a partition longer than the journal is kept (bootstrap), and one in
// the middle of that bootstrap (it resumes). And a store restored from an older copy: a new
// history, the hub's copy bootstrapped, never merged. Each ends with the copy byte-identical.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/nodes/cluster_fixture.h"
#include "tests/testing/endpoint.h"
#include "tests/testing/zmtp_proxy.h"

namespace nemesyst::testing {
namespace {

nlohmann::json HubDataPeer(Cluster& cluster, const std::string& node) {
  nlohmann::json s = NodeStatusJson(cluster.hub()->client());
  if (!s.is_object()) return nullptr;
  for (const auto& p : s["peers"]) {
    if (p["peer"] == node && p["channel"] == "data") return p;
  }
  return nullptr;
}

void AppendBatches(Cluster& cluster, const std::string& id, int first, int count, int rows) {
  for (int batch = first; batch < first + count; ++batch) {
    nlohmann::json r = NodeAppend(cluster.StoreClient(id), "feed", BatchCsv(batch, rows));
    ASSERT_TRUE(r.is_object() && r.value("ok", false)) << r.dump();
  }
}

TEST(ReplicationChaosTest, DroppedDuplicatedReorderedDelayedAndFlippedMessages) {
  for (uint64_t seed : {1u, 2u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Cluster cluster;
    cluster.StartHub();
    ZmtpChaosProxy proxy(PortOf(cluster.HubEndpoint()), seed);
    cluster.StartStore("s1", {}, proxy.endpoint());
    cluster.CreateFeed("s1");
    ZmtpFaults faults{.drop = 0.05,
                      .duplicate = 0.05,
                      .reorder = 0.05,
                      .flip = 0.05,
                      .delay_ms = 2,
                      .delay_jitter_ms = 5};
    proxy.SetFaults(faults, faults);
    AppendBatches(cluster, "s1", 0, 60, 50);
    proxy.SetFaults({}, {});
    ASSERT_TRUE(cluster.WaitCaughtUp("s1", 30000)) << cluster.hub()->log();
    EXPECT_EQ(Digest(cluster.HubReplica("s1")), Digest(cluster.Path("s1")));
    const auto c = proxy.counters();
    EXPECT_GT(c.to_upstream.dropped + c.to_client.dropped, 0u);
    EXPECT_GT(c.to_upstream.flipped + c.to_client.flipped, 0u);
    const nlohmann::json peer = HubDataPeer(cluster, "s1");
    ASSERT_TRUE(peer.is_object());
    const nlohmann::json hub = NodeStatusJson(cluster.hub()->client());
    EXPECT_GT(peer.value("resyncs", 0) + peer.value("duplicates", 0) + peer.value("gaps", 0) +
                  hub.value("malformed_messages", 0),
              0)
        << "the faults were seen and recovered from: " << peer.dump();
  }
}

TEST(ReplicationChaosTest, ABlackholeDelaysButLosesNothing) {
  Cluster cluster;
  cluster.StartHub();
  ZmtpChaosProxy proxy(PortOf(cluster.HubEndpoint()), 3);
  cluster.StartStore("s1", {}, proxy.endpoint());
  cluster.CreateFeed("s1");
  AppendBatches(cluster, "s1", 0, 5, 100);
  ASSERT_TRUE(cluster.WaitCaughtUp("s1"));
  proxy.SetBlackhole(true);
  AppendBatches(cluster, "s1", 5, 10, 100);  // the store keeps ingesting
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_LT(cluster.HubApplied("s1"), cluster.LastPosition("s1")) << cluster.store("s1")->log();
  proxy.SetBlackhole(false);
  ASSERT_TRUE(cluster.WaitCaughtUp("s1")) << cluster.store("s1")->log() << cluster.hub()->log();
  EXPECT_EQ(Digest(cluster.HubReplica("s1")), Digest(cluster.Path("s1")));
}

// The store's last changes are lost on the way and the store then goes quiet: nothing new will
// reveal the gap, so only the store's heartbeat (its newest position) tells the hub it is behind;
// the hub's follower sees no progress and asks again.
TEST(ReplicationChaosTest, ALostLastMessageIsNoticedFromHeartbeatsAndRecovered) {
  Cluster cluster;
  cluster.StartHub();
  ZmtpChaosProxy proxy(PortOf(cluster.HubEndpoint()), 4);
  cluster.StartStore("s1", {}, proxy.endpoint());
  cluster.CreateFeed("s1");
  AppendBatches(cluster, "s1", 0, 3, 100);
  ASSERT_TRUE(cluster.WaitCaughtUp("s1"));
  proxy.SetFaults({.drop = 1.0}, {});
  AppendBatches(cluster, "s1", 3, 2, 100);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // within the liveness (800 ms)
  proxy.SetFaults({}, {});
  EXPECT_LT(cluster.HubApplied("s1"), cluster.LastPosition("s1"));
  ASSERT_TRUE(cluster.WaitCaughtUp("s1", 15000)) << cluster.hub()->log();
  EXPECT_EQ(Digest(cluster.HubReplica("s1")), Digest(cluster.Path("s1")));
  EXPECT_GT(HubDataPeer(cluster, "s1").value("resyncs", 0), 0);
}

// The journal is kept only a few bytes (node.journal_cap_bytes): a partition longer than that
// sends the hub back a snapshot; a second partition in the middle of that bootstrap, and the
// bootstrap resumes where it stopped.
TEST(ReplicationChaosTest, PartitionsPastRetentionBootstrapAndAnInterruptedBootstrapResumes) {
  Cluster cluster;
  cluster.StartHub();
  ZmtpChaosProxy proxy(PortOf(cluster.HubEndpoint()), 4);
  cluster.StartStore("s1", {"--set", "node.journal_cap_bytes=1"}, proxy.endpoint());
  cluster.CreateFeed("s1");
  AppendBatches(cluster, "s1", 0, 3, 100);
  ASSERT_TRUE(cluster.WaitCaughtUp("s1"));
  proxy.PartitionOn();
  AppendBatches(cluster, "s1", 3, 40, 5000);  // a few MB: a snapshot of several chunks
  // The store trims its journal past the hub's position while it is away.
  ASSERT_TRUE(WaitFor(
      [&] {
        nlohmann::json s = NodeStatusJson(cluster.StoreClient("s1"));
        return s.is_object() &&
               s.value("first_position", uint64_t{0}) > cluster.HubApplied("s1") + 1;
      },
      10000));
  // Slow chunks, so the bootstrap can be caught half-way.
  proxy.SetFaults({.delay_ms = 150}, {.delay_ms = 150});
  proxy.PartitionOff();
  ASSERT_TRUE(WaitFor(
      [&] {
        nlohmann::json p = HubDataPeer(cluster, "s1");
        return p.is_object() && p.value("bootstrapping", false) &&
               p.value("bootstrap_received", 0) > 0;
      },
      20000))
      << cluster.hub()->log();
  proxy.Partition(std::chrono::milliseconds(1500));
  proxy.SetFaults({}, {});
  ASSERT_TRUE(cluster.WaitCaughtUp("s1", 60000)) << cluster.hub()->log();
  EXPECT_EQ(Digest(cluster.HubReplica("s1")), Digest(cluster.Path("s1")));
  const nlohmann::json peer = HubDataPeer(cluster, "s1");
  EXPECT_EQ(peer.value("bootstraps", 0), 1) << peer.dump();
  EXPECT_NE(cluster.hub()->log().find("resuming a bootstrap"), std::string::npos);
  EXPECT_NE(cluster.store("s1")->log().find("bootstrapping a follower"), std::string::npos);
}

// A store node brought back on an older copy of its store (a restored backup) and written to:
// the hub holds changes that store no longer has. The store's past is proven different (the stamp
// of the hub's last change), so it starts a new history, and the hub is bootstrapped with the
// store's present — not a merge of both.
TEST(ReplicationChaosTest, AStoreRestoredFromAnOlderCopyGetsANewHistoryAndIsNeverMerged) {
  namespace fs = std::filesystem;
  Cluster cluster;
  cluster.StartHub();
  cluster.StartStore("s1");
  cluster.CreateFeed("s1");
  AppendBatches(cluster, "s1", 0, 10, 100);
  ASSERT_TRUE(cluster.WaitCaughtUp("s1"));
  ASSERT_EQ(cluster.store("s1")->Terminate(), 0);
  fs::copy(cluster.Path("s1"), cluster.Path("backup"), fs::copy_options::recursive);
  cluster.StartStore("s1");
  AppendBatches(cluster, "s1", 10, 10, 100);
  ASSERT_TRUE(cluster.WaitCaughtUp("s1"));
  const std::string old_history = NodeStatusJson(cluster.StoreClient("s1"))["history_id"];
  ASSERT_EQ(cluster.store("s1")->Terminate(), 0);
  fs::remove_all(cluster.Path("s1"));
  fs::rename(cluster.Path("backup"), cluster.Path("s1"));
  cluster.StartStore("s1");
  AppendBatches(cluster, "s1", 100, 15, 100);  // past where the hub was, other rows
  ASSERT_TRUE(cluster.WaitCaughtUp("s1"));
  EXPECT_TRUE(WaitFor(
      [&] { return Digest(cluster.HubReplica("s1")) == Digest(cluster.Path("s1")); }, 10000));
  EXPECT_NE(NodeStatusJson(cluster.StoreClient("s1"))["history_id"], old_history);
  const std::vector<Row> copy = ReadRows(cluster.HubReplica("s1"));
  EXPECT_EQ(copy.size(), 25u * 100) << "the backup's 10 batches and the 15 new ones, nothing else";
  EXPECT_EQ(copy.back().timestamp_us, (int64_t{114} * 1000 + 99) * 1000000);
  EXPECT_NE(cluster.store("s1")->log().find("bootstrapping a follower"), std::string::npos);
}

}  // namespace
}  // namespace nemesyst::testing
