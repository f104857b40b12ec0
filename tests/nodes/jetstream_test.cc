// The fleet on NATS JetStream (docs/scale-out.md), against a real three-server cluster on loopback:
// store nodes publish their journals while a server is SIGKILLed and restarted, a hub worker is
// SIGKILLed mid-apply and another takes its stores over, a store offline for a while resumes. In
// each case the views must equal the stores (replicated digests) and every store's log must be
// one unbroken chain of positions — no gap, no run published twice.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "nemesyst/store.h"
#include "nodes/hub_control.h"
#include "nodes/jetstream_log.h"
#include "nodes/jetstream_sink.h"
#include "nodes/nats_connection.h"
#include "tests/nodes/cluster_fixture.h"
#include "tests/testing/nats_cluster.h"
#include "tests/testing/run_command.h"

namespace nemesyst::testing {
namespace {

using nodes::DecodeLogMessage;
using nodes::LogMessage;

class JetStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (NatsServerPath().empty()) {
      GTEST_SKIP() << "nats-server is not installed (tools/setup.sh installs it)";
    }
    nats_ = std::make_unique<NatsCluster>(dir_.Sub("nats"), 3);
    ASSERT_TRUE(nats_->Start()) << nats_->error();
  }

  std::vector<std::string> Common(const std::string& id) {
    return {"--store", dir_.Sub(id),
            "--set",   "node.id=" + id,
            "--set",   "jetstream.servers=" + nats_->urls(),
            "--set",   "jetstream.lease_ms=1000",
            "--set",   "jetstream.publish_timeout_ms=1000",
            "--set",   "node.http=off",
            "--set",   "node.heartbeat_ms=50",
            "--set",   "store.durability=group"};
  }
  int& Port(const std::string& id) {
    int& port = ports_[id];
    if (port == 0) port = FreePort();
    return port;
  }
  std::string Client(const std::string& id) {
    return "tcp://127.0.0.1:" + std::to_string(Port(id));
  }

  // A store node publishing only to JetStream (no ZeroMQ hub).
  NodeProcess* StartStore(const std::string& id) { return StartStoreWith(id, Common(id), "off"); }

  // A store node replicating over ZeroMQ to the hub listening at `hub` (no JetStream of its own).
  NodeProcess* StartZmqStore(const std::string& id, const std::string& hub) {
    return StartStoreWith(
        id,
        {"--store", dir_.Sub(id), "--set", "node.id=" + id, "--set", "node.http=off", "--set",
         "node.heartbeat_ms=50", "--set", "store.durability=group"},
        hub);
  }

  // A store node with `args`, replicating to `hub` ("off": none), its client on a fixed port and
  // its other endpoints on free ones.
  NodeProcess* StartStoreWith(const std::string& id, std::vector<std::string> args,
                              const std::string& hub) {
    for (const char* key : {"node.ingest", "node.predictions", "node.predict"}) {
      args.insert(args.end(), {"--set", std::string(key) + "=tcp://127.0.0.1:*"});
    }
    args.insert(args.end(),
                {"node", "run", "--role", "store", "--hub", hub, "--client", Client(id)});
    auto& node = nodes_[id];
    node = std::make_unique<NodeProcess>(args, dir_.Sub(id + ".log"));
    EXPECT_TRUE(node->WaitReady()) << node->log();
    return node.get();
  }

  // A hub worker: views of the stores it holds leases for, in <id>.node/replicas/. `extra`: its
  // registry role (jetstream.publish_registry, node.epoch).
  NodeProcess* StartWorker(const std::string& id, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = Common(id);
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--set", "node.control=tcp://127.0.0.1:*", "node", "run", "--role",
                             "hub", "--listen", "tcp://127.0.0.1:*", "--client", Client(id)});
    auto& node = nodes_[id];
    node = std::make_unique<NodeProcess>(args, dir_.Sub(id + ".log"));
    EXPECT_TRUE(node->WaitReady()) << node->log();
    return node.get();
  }

  // The version `reference` resolves to in the registry at `path` (read-only, beside its running
  // owner), with its SHA-256; 0 when it does not resolve.
  std::pair<uint32_t, std::string> Resolve(const std::string& path, const std::string& reference) {
    StoreOptions o;
    o.read_only = true;
    std::unique_ptr<Store> store;
    if (!Store::Open(o, path, &store).ok()) return {0, ""};
    auto resolved = store->ResolveModel(reference);
    if (!resolved.ok()) return {0, ""};
    auto info = store->GetModelInfo(resolved->name, resolved->version);
    return {resolved->version, info.ok() ? info->blob_sha256 : ""};
  }
  bool WaitResolves(const std::string& path, const std::string& reference, uint32_t version) {
    return WaitFor([&] { return Resolve(path, reference).first == version; }, 30000);
  }
  uint64_t Epoch(const std::string& id) {
    nlohmann::json s = NodeStatusJson(Client(id));
    return s.is_object() ? s.value("epoch", uint64_t{0}) : 0;
  }
  std::string RegistryError(const std::string& id) {
    nlohmann::json s = NodeStatusJson(Client(id));
    if (!s.is_object()) return "";
    for (const auto& p : s["peers"]) {
      if (p.value("channel", "") == "registry" && p.value("transport", "") == "jetstream") {
        return p.value("last_error", "");
      }
    }
    return "";
  }

  std::string ViewPath(const std::string& worker, const std::string& store) {
    return dir_.Sub(worker + ".node/replicas/" + store);
  }

  void CreateFeed(const std::string& id) {
    auto reply = NodeRequest(
        Client(id),
        R"({"op":"create_stream","stream":"feed","schema":{"fields":[{"name":"v","type":"float64"}]}})",
        "");
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_NE(reply->find("\"ok\":true"), std::string::npos) << *reply;
  }

  // Appends batch `batch` to store `id`; true when the node committed it.
  bool Append(const std::string& id, int batch) {
    nlohmann::json reply = NodeAppend(Client(id), "feed", BatchCsv(batch, 40));
    return reply.is_object() && reply.value("ok", false);
  }

  uint64_t LastPosition(const std::string& id) {
    nlohmann::json s = NodeStatusJson(Client(id));
    return s.is_object() ? s.value("last_position", uint64_t{0}) : 0;
  }

  // What worker `worker` has applied of `store` (0 when it does not hold that view).
  std::map<std::string, uint64_t> Views(const std::string& worker) {
    std::map<std::string, uint64_t> views;
    nlohmann::json s = NodeStatusJson(Client(worker));
    if (!s.is_object()) return views;
    for (const auto& p : s["peers"]) {
      if (p.value("transport", "") == "jetstream" && p.value("channel", "") == "data" &&
          p.value("direction", "") == "follower") {
        views[p["peer"]] = p.value("applied", 0ull);
      }
    }
    return views;
  }

  // Waits until `worker` holds a view of each store with everything that store has.
  ::testing::AssertionResult Converged(const std::string& worker,
                                       const std::vector<std::string>& stores,
                                       int timeout_ms = 30000) {
    std::map<std::string, uint64_t> last;
    for (const std::string& s : stores) last[s] = LastPosition(s);
    std::map<std::string, uint64_t> views;
    const bool ok = WaitFor(
        [&] {
          views = Views(worker);
          for (const auto& [store, position] : last) {
            if (position == 0 || views[store] < position) return false;
          }
          return true;
        },
        timeout_ms);
    if (ok) return ::testing::AssertionSuccess();
    auto failure = ::testing::AssertionFailure() << worker << " did not converge:";
    for (const auto& [store, position] : last) {
      failure << " " << store << " " << views[store] << "/" << position;
    }
    return failure << "\n" << nodes_[worker]->log();
  }

  // Every message of `store`'s subject, in order: each must follow the one before (one chain of
  // positions from the store's first change, nothing published twice). Returns the last position.
  ::testing::AssertionResult UnbrokenChain(const std::string& store, uint64_t* last_position) {
    const JetStreamOptions o;
    const std::vector<std::string> log = nats_->Messages(o.stream)[nodes::LogSubject(o, store)];
    uint64_t after = 0;
    for (size_t k = 0; k < log.size(); ++k) {
      Result<LogMessage> m = DecodeLogMessage(log[k]);
      if (!m.ok()) {
        return ::testing::AssertionFailure() << "message " << k << ": " << m.status().ToString();
      }
      if (m->after != after) {
        return ::testing::AssertionFailure()
               << store << " message " << k << " follows position " << m->after << ", the log held "
               << after << (m->after < after ? " (published twice)" : " (a gap)");
      }
      after = m->last;
    }
    *last_position = after;
    if (log.empty()) return ::testing::AssertionFailure() << "nothing of " << store;
    return ::testing::AssertionSuccess();
  }

  // The JetStream server leading the log stream ("n0".."n2"), -1 when unknown.
  int StreamLeader() { return nats_->StreamLeader(JetStreamOptions().stream); }

  TempDir dir_;
  std::unique_ptr<NatsCluster> nats_;
  std::map<std::string, int> ports_;
  std::map<std::string, std::unique_ptr<NodeProcess>> nodes_;
};

TEST_F(JetStreamTest, StoresPublishWhileAServerIsKilledAndRestarted) {
  const std::vector<std::string> stores = {"s1", "s2", "s3"};
  StartWorker("w1");
  for (const std::string& s : stores) {
    StartStore(s);
    CreateFeed(s);
  }
  int leader = -1;
  ASSERT_TRUE(WaitFor([&] { return (leader = StreamLeader()) >= 0; }, 10000))
      << "the log stream has no leader";
  for (int batch = 0; batch < 30; ++batch) {
    if (batch == 10) nats_->Kill(leader);  // the stream's leader: an election under load
    if (batch == 20) {
      ASSERT_TRUE(nats_->Restart(leader)) << nats_->error();
    }
    for (const std::string& s : stores) ASSERT_TRUE(Append(s, batch)) << s << " batch " << batch;
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  ASSERT_TRUE(Converged("w1", stores));
  for (const std::string& s : stores) {
    uint64_t logged = 0;
    EXPECT_TRUE(UnbrokenChain(s, &logged));
    EXPECT_EQ(logged, LastPosition(s)) << s;
    EXPECT_EQ(ReadRows(ViewPath("w1", s)), ReadRows(dir_.Sub(s))) << s;
    EXPECT_EQ(Digest(ViewPath("w1", s)), Digest(dir_.Sub(s))) << s;
    EXPECT_EQ(ReadRows(dir_.Sub(s)).size(), 30u * 40u) << s;
  }
}

TEST_F(JetStreamTest, AHubWorkerKilledMidApplyIsReplacedAndTheViewsConverge) {
  const std::vector<std::string> stores = {"s1", "s2", "s3", "s4"};
  for (const std::string& s : stores) {
    StartStore(s);
    CreateFeed(s);
  }
  StartWorker("w1");
  StartWorker("w2");
  // Two live workers share four stores: two each.
  ASSERT_TRUE(WaitFor([&] { return Views("w1").size() == 2 && Views("w2").size() == 2; }, 15000))
      << "w1 holds " << Views("w1").size() << ", w2 " << Views("w2").size();
  const std::map<std::string, uint64_t> w1_before = Views("w1");
  for (int batch = 0; batch < 24; ++batch) {
    if (batch == 12) nodes_["w1"]->Kill();  // while its views are applying
    for (const std::string& s : stores) ASSERT_TRUE(Append(s, batch)) << s;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // w1's leases lapse (1 s); w2 takes its stores and builds their views from the log.
  ASSERT_TRUE(Converged("w2", stores));
  for (const auto& [store, applied] : w1_before) {
    EXPECT_EQ(Views("w2").count(store), 1u) << store << " was not taken over";
  }
  // Training on that hub reads the views as it reads ZeroMQ replicas: every row, once.
  {
    std::unique_ptr<Store> training;
    ASSERT_TRUE(Store::Open({}, dir_.Sub("training"), &training).ok());
    auto gathered = nodes::GatherReplicatedStream(dir_.Sub("w2.node/replicas"), "feed", *training);
    ASSERT_TRUE(gathered.ok()) << gathered.status().ToString();
    EXPECT_EQ(*gathered, stores.size() * 24u * 40u);
  }
  nodes_["w2"]->Terminate();  // its views closed: compare them with the stores
  for (const std::string& s : stores) {
    uint64_t logged = 0;
    EXPECT_TRUE(UnbrokenChain(s, &logged));
    EXPECT_EQ(Digest(ViewPath("w2", s)), Digest(dir_.Sub(s))) << s;
    EXPECT_EQ(ReadRows(ViewPath("w2", s)).size(), 24u * 40u) << s;
  }
  // w1 comes back: its own views resume from their positions (no rebuild), and it shares the
  // stores again once w2 is gone.
  StartWorker("w1");
  ASSERT_TRUE(Converged("w1", stores));
  for (const std::string& s : stores) {
    EXPECT_EQ(Digest(ViewPath("w1", s)), Digest(dir_.Sub(s))) << s;
  }
}

TEST_F(JetStreamTest, AWorkerRestartedAtOnceResumesItsOwnStores) {
  // Killed and back within lease_ms: the owner keys still name it and it is live again, so no
  // other worker may take its stores — it must pick them up itself.
  const std::vector<std::string> stores = {"s1", "s2"};
  for (const std::string& s : stores) {
    StartStore(s);
    CreateFeed(s);
  }
  StartWorker("w1");
  for (int batch = 0; batch < 3; ++batch) {
    for (const std::string& s : stores) ASSERT_TRUE(Append(s, batch));
  }
  ASSERT_TRUE(Converged("w1", stores));
  nodes_["w1"]->Kill();
  StartWorker("w1");
  for (int batch = 3; batch < 6; ++batch) {
    for (const std::string& s : stores) ASSERT_TRUE(Append(s, batch));
  }
  ASSERT_TRUE(Converged("w1", stores));
  nodes_["w1"]->Terminate();
  for (const std::string& s : stores) {
    EXPECT_EQ(Digest(ViewPath("w1", s)), Digest(dir_.Sub(s))) << s;
  }
}

TEST_F(JetStreamTest, ARegionalHubForwardsItsStoresToTheHubWorkers) {
  // store (ZeroMQ) → regional hub (its replica, forwarded) → JetStream → a hub worker's view.
  NodeProcess* regional = StartWorker("r1", {"--set", "jetstream.forward=true"});
  StartWorker("w1");
  const std::vector<std::string> stores = {"s1", "s2"};
  for (const std::string& s : stores) {
    StartZmqStore(s, regional->listen());
    CreateFeed(s);
  }
  for (int batch = 0; batch < 8; ++batch) {
    for (const std::string& s : stores) ASSERT_TRUE(Append(s, batch));
  }
  ASSERT_TRUE(Converged("w1", stores)) << nodes_["r1"]->log();
  EXPECT_TRUE(Views("r1").empty()) << "a forwarding hub builds no views";
  for (const std::string& s : stores) {
    uint64_t logged = 0;
    EXPECT_TRUE(UnbrokenChain(s, &logged));
    EXPECT_EQ(logged, LastPosition(s)) << s;
    EXPECT_EQ(Digest(ViewPath("w1", s)), Digest(dir_.Sub(s))) << s;
  }
}

TEST_F(JetStreamTest, AJournalTrimmedBeforeJetStreamHeldItIsRefusedNotSkipped) {
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open({}, dir_.Sub("trimmed"), &store).ok());
  StreamSchema schema;
  schema.fields.push_back({"v", FieldType::kFloat64, "", std::nullopt, std::nullopt});
  ASSERT_TRUE(store->CreateStream("feed", schema).ok());
  for (int batch = 0; batch < 3; ++batch) {
    Record r;
    r.device_id = "d";
    r.timestamp_us = batch;
    r.values = {1.0};
    ASSERT_TRUE(store->Append("feed", std::vector<Record>{r}).ok());
  }
  ASSERT_TRUE(store->TrimJournal(store->LastChangePosition() - 1).ok());
  nodes::JetStreamSinkOptions o;
  o.jetstream.servers = nats_->urls();
  o.store_id = "trimmed";
  auto sink = nodes::JetStreamSink::Start(store.get(), o);
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE(WaitFor(
      [&] { return (*sink)->status().last_error.find("bootstrap") != std::string::npos; }, 15000))
      << (*sink)->status().last_error;
  EXPECT_EQ((*sink)->durable_position(), 0u);
  uint64_t logged = 0;
  EXPECT_FALSE(UnbrokenChain("trimmed", &logged)) << "nothing may have been published";
}

TEST_F(JetStreamTest, AStoreOfflineResumesWithoutGapsOrDuplicates) {
  StartWorker("w1");
  StartStore("s1");
  CreateFeed("s1");
  for (int batch = 0; batch < 5; ++batch) ASSERT_TRUE(Append("s1", batch));
  ASSERT_TRUE(Converged("w1", {"s1"}));
  // Killed outright: what JetStream acknowledged is the truth it resumes from.
  nodes_["s1"]->Kill();
  {
    // Offline, the store keeps taking data (another writer on the same machine).
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open({}, dir_.Sub("s1"), &store).ok());
    for (int batch = 5; batch < 9; ++batch) {
      std::vector<Record> records;
      for (int i = 0; i < 40; ++i) {
        Record r;
        r.device_id = "d" + std::to_string(i % 4);
        r.timestamp_us = (int64_t{batch} * 1000 + i) * 1000000;
        r.values = {static_cast<double>(batch * 1000 + i)};
        records.push_back(r);
      }
      ASSERT_TRUE(store->Append("feed", records).ok());
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  StartStore("s1");
  for (int batch = 9; batch < 12; ++batch) ASSERT_TRUE(Append("s1", batch));
  ASSERT_TRUE(Converged("w1", {"s1"}));
  uint64_t logged = 0;
  EXPECT_TRUE(UnbrokenChain("s1", &logged));
  EXPECT_EQ(logged, LastPosition("s1"));
  EXPECT_EQ(ReadRows(ViewPath("w1", "s1")).size(), 12u * 40u);
  EXPECT_EQ(Digest(ViewPath("w1", "s1")), Digest(dir_.Sub("s1")));
}

TEST_F(JetStreamTest, AModelDeployedByOneHubReachesEveryStoreAndAFencedHubCannotPush) {
  // Two model versions of 3 MB each: more than a log message, so they go as digest-checked
  // fragments. They are put into h1's registry before it runs.
  {
    std::unique_ptr<Store> h1;
    ASSERT_TRUE(Store::Open({}, dir_.Sub("h1"), &h1).ok());
    ASSERT_TRUE(h1->PutModel("m", std::string(3 << 20, 'a'), {}).ok());
    ASSERT_TRUE(h1->PutModel("m", std::string(3 << 20, 'b'), {}).ok());
  }
  StartWorker("h1", {"--set", "jetstream.publish_registry=true", "--set", "node.epoch=1"});
  StartWorker("h2", {"--set", "node.epoch=2"});  // a standby, following the registry log
  const std::vector<std::string> stores = {"s1", "s2"};
  for (const std::string& s : stores) StartStore(s);
  auto alias = [&](const std::string& hub, uint32_t version) {
    return RunCli({"model", "alias", "m", "production", std::to_string(version), "--connect",
                   Client(hub)})
        .exit_code;
  };
  ASSERT_EQ(alias("h1", 1), 0);
  const auto deployed = Resolve(dir_.Sub("h1"), "m:production");
  ASSERT_EQ(deployed.first, 1u);
  for (const std::string& s : stores) {
    ASSERT_TRUE(WaitResolves(dir_.Sub(s + ".node/registry"), "m:production", 1))
        << s << "\n"
        << nodes_[s]->log();
    EXPECT_EQ(Resolve(dir_.Sub(s + ".node/registry"), "m:production"), deployed) << s;
    EXPECT_EQ(Epoch(s), 1u) << s;
  }
  ASSERT_TRUE(WaitResolves(dir_.Sub("h2"), "m:production", 1)) << "the standby follows";
  // Both hubs are workers too: between them they hold the two stores' views — and no view of a
  // hub, whose registry log is not a store's.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto views = Views("h1");
        views.merge(Views("h2"));
        return views.count("s1") == 1 && views.count("s2") == 1;
      },
      15000));
  auto views = Views("h1");
  views.merge(Views("h2"));
  EXPECT_EQ(views.count("h1") + views.count("h2"), 0u) << "a hub's registry log is not a store's";

  // h1 dies; h2 is promoted (restarted publishing, with a higher epoch) and continues the log.
  nodes_["h1"]->Kill();
  nodes_["h2"]->Terminate();
  StartWorker("h2", {"--set", "jetstream.publish_registry=true", "--set", "node.epoch=2"});
  ASSERT_EQ(alias("h2", 2), 0);
  for (const std::string& s : stores) {
    ASSERT_TRUE(WaitResolves(dir_.Sub(s + ".node/registry"), "m:production", 2)) << s;
    ASSERT_TRUE(WaitFor([&] { return Epoch(s) == 2; }, 10000)) << s;
  }

  // h1 comes back with its old epoch: fenced off, and nothing it does reaches a store.
  StartWorker("h1", {"--set", "jetstream.publish_registry=true", "--set", "node.epoch=1"});
  ASSERT_EQ(alias("h1", 1), 0);  // its own registry takes it ...
  ASSERT_TRUE(
      WaitFor([&] { return RegistryError("h1").find("fenced") != std::string::npos; }, 10000))
      << RegistryError("h1");
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  for (const std::string& s : stores) {  // ... the stores never do
    EXPECT_EQ(Resolve(dir_.Sub(s + ".node/registry"), "m:production").first, 2u) << s;
    EXPECT_EQ(Epoch(s), 2u) << s;
  }
}

TEST_F(JetStreamTest, AStandbyThatTookRegistryWritesStopsInsteadOfDiverging) {
  {
    std::unique_ptr<Store> h1;
    ASSERT_TRUE(Store::Open({}, dir_.Sub("h1"), &h1).ok());
    ASSERT_TRUE(h1->PutModel("m", "version one", {}).ok());
    ASSERT_TRUE(h1->PutModel("m", "version two", {}).ok());
  }
  StartWorker("h1", {"--set", "jetstream.publish_registry=true", "--set", "node.epoch=1"});
  StartWorker("h2", {"--set", "node.epoch=2"});
  ASSERT_TRUE(WaitFor([&] { return Resolve(dir_.Sub("h2"), "m@2").first == 2; }, 30000));
  auto alias = [&](const std::string& hub, const std::string& name, uint32_t version) {
    return RunCli({"model", "alias", "m", name, std::to_string(version), "--connect", Client(hub)})
        .exit_code;
  };
  // The standby takes a write of its own at the position the publisher's next change will have.
  ASSERT_EQ(alias("h2", "mine", 1), 0);
  ASSERT_EQ(alias("h1", "production", 2), 0);
  ASSERT_TRUE(
      WaitFor([&] { return RegistryError("h2").find("rebuilt") != std::string::npos; }, 15000))
      << RegistryError("h2");
  EXPECT_EQ(Resolve(dir_.Sub("h2"), "m:production").first, 0u) << "never applied over its own";
}

}  // namespace
}  // namespace nemesyst::testing
