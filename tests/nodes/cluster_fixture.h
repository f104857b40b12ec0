// A hub and store nodes as real processes on loopback, for the replication tests: fast timings,
// fixed ports (so a restarted node is found at the same address), rows whose contents say which
// append they came from, and the stores read back read-only (beside their running owners) to
// compare what the hub holds with what the store holds.
#ifndef NEMESYST_TESTS_NODES_CLUSTER_FIXTURE_H_
#define NEMESYST_TESTS_NODES_CLUSTER_FIXTURE_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nemesyst/node.h"
#include "nemesyst/store.h"
#include "tests/testing/node_process.h"
#include "tests/testing/temp_dir.h"

namespace nemesyst::testing {

// The long campaigns run this many rounds in CI; NEMESYST_CHAOS_ROUNDS raises it for offline runs.
inline int ChaosRounds(int ci_rounds) {
  const char* env = std::getenv("NEMESYST_CHAOS_ROUNDS");
  return env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : ci_rounds;
}

struct Row {
  uint64_t seq;
  int64_t timestamp_us;
  double value;
  bool operator==(const Row&) const = default;
};

// Every record of `stream` in `path`, opened read-only (works while a node owns the store).
inline std::vector<Row> ReadRows(const std::string& path, const std::string& stream = "feed") {
  std::vector<Row> rows;
  StoreOptions o;
  o.read_only = true;
  std::unique_ptr<Store> store;
  if (!Store::Open(o, path, &store).ok()) return rows;
  auto it = store->Read(stream);
  if (!it.ok()) return rows;
  for (; (*it)->Valid(); (*it)->Next()) {
    const StoredRecord& r = (*it)->record();
    rows.push_back({r.seq, r.record.timestamp_us, r.record.values.at(0)});
  }
  return rows;
}

inline std::string Digest(const std::string& path) {
  StoreOptions o;
  o.read_only = true;
  std::unique_ptr<Store> store;
  if (!Store::Open(o, path, &store).ok()) return "(no store)";
  return store->ReplicatedDigest().value_or("(no digest)");
}

// `rows` rows of batch `batch`: timestamps batch*1000 + i seconds, value = that number.
inline std::string BatchCsv(int batch, int rows) {
  std::string csv = "device,timestamp,v\n";
  for (int i = 0; i < rows; ++i) {
    const int64_t t = int64_t{batch} * 1000 + i;
    csv += "d" + std::to_string(i % 4) + "," + std::to_string(t) + "," + std::to_string(t) + "\n";
  }
  return csv;
}

class Cluster {
 public:
  Cluster() : hub_port_(FreePort()) {}
  std::string Path(const std::string& name) const { return dir_.Sub(name); }
  std::string HubStore() const { return Path("hub"); }
  std::string HubReplica(const std::string& node) const {
    return Path("hub.node/replicas/" + node);
  }
  std::string HubEndpoint() const { return "tcp://127.0.0.1:" + std::to_string(hub_port_); }

  // Fast timings for tests; `extra` goes before "node run".
  std::vector<std::string> Timing() const {
    return {"--set", "node.heartbeat_ms=50",  "--set", "node.liveness_ms=800",
            "--set", "store.durability=group"};
  }

  NodeProcess* StartHub(std::vector<std::string> extra = {}, const std::string& store = "") {
    std::vector<std::string> args = {"--store", store.empty() ? HubStore() : store};
    args.insert(args.end(), extra.begin(), extra.end());
    for (const std::string& a : Timing()) args.push_back(a);
    for (const char* a :
         {"--set", "node.http=127.0.0.1:0", "--set", "node.control=tcp://127.0.0.1:*", "node",
          "run", "--role", "hub", "--client", "tcp://127.0.0.1:*"}) {
      args.push_back(a);
    }
    args.push_back("--listen");
    args.push_back(HubEndpoint());
    hub_ = std::make_unique<NodeProcess>(args, Path("hub.log"));
    EXPECT_TRUE(hub_->WaitReady()) << hub_->log();
    return hub_.get();
  }

  // A store node `id` (its store in Path(id)), its client endpoint on a fixed port.
  NodeProcess* StartStore(const std::string& id, std::vector<std::string> extra = {},
                          const std::string& hub_endpoint = "") {
    int& port = client_ports_[id];
    if (port == 0) port = FreePort();
    std::vector<std::string> args = {"--store", Path(id), "--set", "node.id=" + id};
    args.insert(args.end(), extra.begin(), extra.end());
    for (const std::string& a : Timing()) args.push_back(a);
    for (const char* a : {"node", "run", "--role", "store"}) args.push_back(a);
    args.push_back("--hub");
    args.push_back(hub_endpoint.empty() ? HubEndpoint() : hub_endpoint);
    args.push_back("--client");
    args.push_back("tcp://127.0.0.1:" + std::to_string(port));
    // Several store nodes share the machine: their other endpoints take free ports.
    for (const char* key : {"node.ingest", "node.predictions", "node.predict"}) {
      args.insert(args.begin(), {"--set", std::string(key) + "=tcp://127.0.0.1:*"});
    }
    args.insert(args.begin(), {"--set", "node.http=127.0.0.1:0"});
    auto& node = stores_[id];
    node = std::make_unique<NodeProcess>(args, Path(id + ".log"));
    EXPECT_TRUE(node->WaitReady()) << node->log();
    return node.get();
  }

  NodeProcess* hub() { return hub_.get(); }
  NodeProcess* store(const std::string& id) { return stores_[id].get(); }
  std::string StoreClient(const std::string& id) {
    return "tcp://127.0.0.1:" + std::to_string(client_ports_[id]);
  }

  // Creates stream "feed" (one float64 field, v) on store node `id`.
  void CreateFeed(const std::string& id) {
    NodeClientOptions o;
    auto reply = NodeRequest(
        StoreClient(id),
        R"({"op":"create_stream","stream":"feed","schema":{"fields":[{"name":"v","type":"float64"}]}})",
        "", o);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_NE(reply->find("\"ok\":true"), std::string::npos) << *reply;
  }

  // The hub's applied position of `id`'s data channel (0 when unknown).
  uint64_t HubApplied(const std::string& id) {
    nlohmann::json s = NodeStatusJson(StoreClient(id));
    if (!s.is_object()) return 0;
    for (const auto& p : s["peers"]) {
      if (p.value("channel", "") == "data") return p.value("durable", uint64_t{0});
    }
    return 0;
  }
  uint64_t LastPosition(const std::string& id) {
    nlohmann::json s = NodeStatusJson(StoreClient(id));
    return s.is_object() ? s.value("last_position", uint64_t{0}) : 0;
  }
  // Waits until the hub has everything store `id` has (by the store's status).
  bool WaitCaughtUp(const std::string& id, int timeout_ms = 20000) {
    return WaitFor(
        [&] {
          const uint64_t last = LastPosition(id);
          return last > 0 && HubApplied(id) >= last;
        },
        timeout_ms);
  }

 private:
  TempDir dir_;
  int hub_port_;
  std::map<std::string, int> client_ports_;
  std::unique_ptr<NodeProcess> hub_;
  std::map<std::string, std::unique_ptr<NodeProcess>> stores_;
};

// The hub's copy is a prefix of the store's: the same rows, in the same order, and no more.
inline ::testing::AssertionResult IsPrefix(const std::vector<Row>& copy,
                                           const std::vector<Row>& source) {
  if (copy.size() > source.size()) {
    return ::testing::AssertionFailure()
           << "the copy has " << copy.size() << " rows, the source " << source.size();
  }
  for (size_t i = 0; i < copy.size(); ++i) {
    if (!(copy[i] == source[i])) {
      return ::testing::AssertionFailure()
             << "row " << i << " differs (seq " << copy[i].seq << " vs " << source[i].seq << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace nemesyst::testing

#endif  // NEMESYST_TESTS_NODES_CLUSTER_FIXTURE_H_
