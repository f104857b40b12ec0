// Models go from the hub's registry to every store node: in fragments (a model is bigger than a
// frame), verified by XXH3-128 digest before they are applied — a transfer killed half-way resumes
// where it stopped, a change whose fragments were corrupted is refused and sent again — and only
// from the hub's epoch or a newer one (a demoted hub cannot push).
#include <gtest/gtest.h>

#include <random>

#include "tests/nodes/cluster_fixture.h"
#include "tests/testing/endpoint.h"
#include "tests/testing/zmtp_proxy.h"

namespace nemesyst::testing {
namespace {

std::string Blob(size_t bytes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string blob(bytes, '\0');
  for (char& c : blob) c = static_cast<char>(rng());
  return blob;
}

// Registers `blob` as a version of `name` in the (stopped) hub's store, aliased production.
void PutModel(const std::string& hub_store, const std::string& name, const std::string& blob) {
  StoreOptions o;
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(o, hub_store, &store).ok());
  auto version = store->PutModel(name, blob, ModelMetadata{});
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  ASSERT_TRUE(store->SetAlias(name, "production", *version).ok());
}

// The store node's copy of the hub's registry, read-only beside the running node.
std::string ReplicaBlob(Cluster& cluster, const std::string& store, const std::string& ref) {
  StoreOptions o;
  o.read_only = true;
  std::unique_ptr<Store> replica;
  if (!Store::Open(o, cluster.Path(store + ".node/registry"), &replica).ok()) return "";
  auto resolved = replica->ResolveModel(ref);
  if (!resolved.ok()) return "";
  return replica->ReadModelBlob(resolved->name, resolved->version).value_or("");
}

nlohmann::json RegistryPeer(Cluster& cluster, const std::string& store) {
  nlohmann::json s = NodeStatusJson(cluster.StoreClient(store));
  if (!s.is_object()) return nullptr;
  for (const auto& p : s["peers"]) {
    if (p["channel"] == "registry") return p;
  }
  return nullptr;
}

TEST(ModelTransferTest, AModelKilledHalfWayResumesAndCorruptFragmentsAreRefused) {
  Cluster cluster;
  const std::string blob = Blob(6 << 20, 1);  // six of the hub's 1 MiB frames
  PutModel(cluster.HubStore(), "lstm", blob);
  cluster.StartHub({"--set", "node.max_frame_bytes=1048576"});
  ZmtpChaosProxy proxy(PortOf(cluster.HubEndpoint()), 7);
  // Slow fragments, one in flight (the store's credit is one frame), so the transfer can be
  // caught half-way.
  const std::vector<std::string> one_frame = {"--set", "node.window_bytes=1048576", "--set",
                                              "node.max_frame_bytes=1048576"};
  proxy.SetFaults({}, {.delay_ms = 200});
  cluster.StartStore("s1", one_frame, proxy.endpoint());
  ASSERT_TRUE(WaitFor(
      [&] {
        nlohmann::json p = RegistryPeer(cluster, "s1");
        return p.is_object() && p.value("partial_bytes", 0) > 0;
      },
      20000))
      << cluster.hub()->log() << cluster.store("s1")->log() << RegistryPeer(cluster, "s1").dump();
  cluster.store("s1")->Kill();  // half-way: the partial change is on disk
  // Back, with every fragment's data corrupted (headers intact, so each fragment is accepted and
  // only the XXH3-128 digest of the whole change can tell): the change is refused and asked for
  // again. Every fragment, not a share of them: however far the killed store had got, the rest of
  // the change is certain to be corrupt (a probabilistic flip let it arrive clean now and then).
  proxy.SetFaults({}, {.flip = 1.0, .flip_payload_only = true});
  cluster.StartStore("s1", one_frame, proxy.endpoint());
  ASSERT_TRUE(WaitFor(
      [&] {
        nlohmann::json p = RegistryPeer(cluster, "s1");
        return p.is_object() && p.value("checksum_failures", 0) > 0 && p.value("resyncs", 0) > 0;
      },
      30000))
      << cluster.hub()->log() << cluster.store("s1")->log() << RegistryPeer(cluster, "s1").dump();
  EXPECT_TRUE(ReplicaBlob(cluster, "s1", "lstm:production").empty()) << "nothing corrupt applied";
  proxy.SetFaults({}, {});
  ASSERT_TRUE(WaitFor([&] { return ReplicaBlob(cluster, "s1", "lstm:production") == blob; }, 30000))
      << cluster.hub()->log() << cluster.store("s1")->log();
  EXPECT_NE(cluster.hub()->log().find("resuming a change sent in fragments"), std::string::npos)
      << "the transfer went on from where the killed store had got to";
  EXPECT_GT(proxy.counters().to_client.flipped, 0u);
}

TEST(ModelTransferTest, ADemotedHubCannotPush) {
  Cluster cluster;
  PutModel(cluster.HubStore(), "lstm", Blob(1000, 2));
  cluster.StartHub({"--set", "node.epoch=2"});
  cluster.StartStore("s1");
  ASSERT_TRUE(
      WaitFor([&] { return !ReplicaBlob(cluster, "s1", "lstm:production").empty(); }, 10000));
  EXPECT_EQ(NodeStatusJson(cluster.StoreClient("s1"))["epoch"], 2);
  // The old hub (epoch 1, with a model of its own) comes back at the same address.
  ASSERT_EQ(cluster.hub()->Terminate(), 0);
  PutModel(cluster.Path("old-hub"), "rogue", Blob(1000, 3));
  cluster.StartHub({"--set", "node.epoch=1"}, cluster.Path("old-hub"));
  ASSERT_TRUE(
      WaitFor([&] { return RegistryPeer(cluster, "s1").value("stale_epochs", 0) > 0; }, 10000))
      << cluster.store("s1")->log();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(ReplicaBlob(cluster, "s1", "rogue:production").empty());
  EXPECT_FALSE(ReplicaBlob(cluster, "s1", "lstm:production").empty()) << "the replica is intact";
  EXPECT_NE(RegistryPeer(cluster, "s1")["last_error"].get<std::string>().find("epoch 1"),
            std::string::npos);
  EXPECT_NE(cluster.hub()->log().find("follower reported an error"), std::string::npos);
}

}  // namespace
}  // namespace nemesyst::testing
