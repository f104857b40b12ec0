// The hub's control endpoint, in-process on loopback: a store node replicates a simulated fleet;
// `train` on the hub gathers the replicated stream and registers a candidate that replicates back
// to the store, `promote` makes it production and the serving store swaps to it. With CURVE, an
// operator's key may promote, a store's key may only ask for status, an unknown key and a
// plaintext client are not answered at all; malformed requests get errors naming the problem;
// a request whose deadline passes while it waits is not run.
#include <gtest/gtest.h>

#include <thread>

#include "nemesyst/node.h"
#include "nemesyst/pipeline.h"
#include "nemesyst/refrigeration/demo_specs.h"
#include "nodes/control_service.h"
#include "tests/testing/node_process.h"
#include "tests/testing/small_fleet.h"

namespace nemesyst {
namespace {

class ControlTest : public ::testing::Test {
 protected:
  // A hub and a serving store node whose store holds the small fleet's stream.
  void Start(const NodeOptions& hub_extra = {}, bool keys = false) {
    {
      std::unique_ptr<Store> own;
      ASSERT_TRUE(Store::Open({}, dir_.Sub("store"), &own).ok());
      auto schema = fleet_.store->GetSchema("fleet");
      auto records = ReadRecords(*fleet_.store, "fleet");
      ASSERT_TRUE(schema.ok() && records.ok());
      ASSERT_TRUE(own->CreateStream("fleet", *schema).ok());
      ASSERT_TRUE(own->Append("fleet", *records).ok());
    }
    NodeOptions ho = hub_extra;
    ho.role = NodeRole::kHub;
    ho.node_id = "hub";
    ho.store_path = dir_.Sub("hub");
    ho.listen_endpoint = ho.client_endpoint = ho.control_endpoint = "tcp://127.0.0.1:*";
    ho.heartbeat_ms = 50;
    auto hub = Node::Start(ho);
    ASSERT_TRUE(hub.ok()) << hub.status().ToString();
    hub_ = std::move(*hub);
    NodeOptions so = StoreOptions();
    if (keys) {
      so.secret_key = store_keys_.secret_key;
      so.hub_public_key = hub_keys_.public_key;
    }
    auto store = Node::Start(so);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->WaitReplicated(store_->Status().last_position, 30000).ok());
  }

  // The store node: serving lstm:production, every endpoint on a free port.
  NodeOptions StoreOptions() const {
    NodeOptions so;
    so.node_id = "store-1";
    so.store_path = dir_.Sub("store");
    so.hub_endpoint = hub_->listen_endpoint();
    so.client_endpoint = so.ingest_endpoint = so.predictions_endpoint = so.predict_endpoint =
        "tcp://127.0.0.1:*";
    so.serve_model = "lstm:production";
    so.heartbeat_ms = 50;
    return so;
  }

  nlohmann::json Control(const nlohmann::json& request, const NodeClientOptions& o = {}) {
    auto reply = NodeRequest(hub_->control_endpoint(), request.dump(), "", o);
    if (!reply.ok()) return {{"transport_error", reply.status().ToString()}};
    return nlohmann::json::parse(*reply, nullptr, false);
  }

  nlohmann::json TrainRequest() const {
    refrigeration::DemoPipelineOptions p = fleet_.pipeline;
    return {{"op", "train"},
            {"id", "t1"},
            {"name", "lstm"},
            {"pipeline", refrigeration::DemoPipelineToml(p)},
            {"spec", refrigeration::DemoRegressorSpec("lstm", p.window_length, 8)},
            {"learners", 2},
            {"epochs", 1},
            {"batch_size", 32},
            {"deadline_ms", 120000}};
  }

  testing::SmallFleet fleet_;
  testing::TempDir dir_;
  CurveKeyPair hub_keys_ = GenerateCurveKeyPair().value();
  CurveKeyPair store_keys_ = GenerateCurveKeyPair().value();
  CurveKeyPair operator_keys_ = GenerateCurveKeyPair().value();
  std::unique_ptr<Node> hub_, store_;
};

// ingest (the store's own) → replicate → train on the hub → replicated → promote → served.
TEST_F(ControlTest, TrainOnTheReplicatedStreamThenPromoteAndTheStoreServesIt) {
  Start();
  nlohmann::json trained = Control(TrainRequest());
  ASSERT_EQ(trained["ok"], true) << trained.dump();
  EXPECT_EQ(trained["id"], "t1");
  EXPECT_EQ(trained["model"], "lstm@1");
  EXPECT_EQ(trained["learners"].size(), 2u);
  auto all = ReadRecords(*fleet_.store, "fleet");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(trained["gathered_records"], all->size()) << "every replicated record, once";
  // Training again gathers only what arrived since (nothing), and its group has nothing new.
  nlohmann::json again = Control(TrainRequest());
  EXPECT_EQ(again["ok"], false);
  EXPECT_NE(again.value("error", "").find("nothing new"), std::string::npos) << again.dump();

  nlohmann::json promoted =
      Control({{"op", "promote"}, {"id", 2}, {"model", "lstm"}, {"version", 1}});
  ASSERT_EQ(promoted["ok"], true) << promoted.dump();
  EXPECT_EQ(promoted["alias"], "production");
  EXPECT_EQ(promoted["id"], 2);
  ASSERT_TRUE(testing::WaitFor([&] { return store_->Status().serving.model == "lstm@1"; }, 30000))
      << store_->Status().serving.last_error;
  nlohmann::json status = Control({{"op", "status"}});
  EXPECT_EQ(status["ok"], true);
  EXPECT_EQ(status["role"], "hub");
  EXPECT_EQ(status["peers"][0]["peer"], "store-1");
}

// deploy: the chosen store verifies, builds and swaps to the version and reports it (the hub's
// status and fleet view show it); to a store that is down, the reply names it pending at the
// deadline, and the store serves the version once it is back.
TEST_F(ControlTest, DeployReachesEachStoreAndOneThatIsDownWhenItReturns) {
  Start();
  ASSERT_EQ(Control(TrainRequest())["ok"], true);
  nlohmann::json second = TrainRequest();
  second["group"] = "train.lstm.again";  // the same data again: another version
  ASSERT_EQ(Control(second)["model"], "lstm@2");
  EXPECT_EQ(store_->Status().serving.model, "") << "no production alias: nothing served yet";

  nlohmann::json deployed =
      Control({{"op", "deploy"}, {"model", "lstm"}, {"version", 1}, {"stores", {"store-1"}}});
  ASSERT_EQ(deployed["ok"], true) << deployed.dump();
  EXPECT_EQ(deployed["serving"], nlohmann::json::array({"store-1"}));
  // (The store's own status snapshot is refreshed every 100 ms.)
  EXPECT_TRUE(testing::WaitFor([&] { return store_->Status().serving.model == "lstm@1"; }, 1000));
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        for (const PeerStatus& p : hub_->Status().peers) {
          if (p.channel == "data" && p.serving_model == "lstm@1") return true;
        }
        return false;
      },
      5000))
      << "the hub's status says what the store serves";

  // Down: the deployment waits in the registry.
  store_->Stop();
  store_.reset();
  nlohmann::json pending =
      Control({{"op", "deploy"}, {"model", "lstm"}, {"version", 2}, {"deadline_ms", 500}});
  EXPECT_EQ(pending["ok"], false) << pending.dump();
  EXPECT_EQ(pending["code"], "deadline_exceeded");
  EXPECT_EQ(pending["pending"], nlohmann::json::array({"store-1"}));
  store_ = std::move(Node::Start(StoreOptions())).value();
  ASSERT_TRUE(testing::WaitFor([&] { return store_->Status().serving.model == "lstm@2"; }, 30000))
      << store_->Status().serving.last_error;
  // Undeploying returns the store to its configured reference (no production alias: none).
  nlohmann::json undeployed = Control({{"op", "deploy"}, {"model", "lstm"}, {"version", 0}});
  ASSERT_EQ(undeployed["ok"], true) << undeployed.dump();
  ASSERT_EQ(Control({{"op", "promote"}, {"model", "lstm"}, {"version", 1}})["ok"], true);
  ASSERT_TRUE(testing::WaitFor([&] { return store_->Status().serving.model == "lstm@1"; }, 30000));
}

TEST_F(ControlTest, MalformedRequestsGetErrorsNamingTheProblem) {
  Start();
  const std::vector<std::pair<nlohmann::json, std::string>> bad = {
      {{{"id", 1}}, "string \"op\""},
      {{{"op", "fly"}, {"id", 2}}, "unknown op 'fly'"},
      {{{"op", "status"}, {"deadline_ms", 0}}, "deadline_ms"},
      {{{"op", "status"}, {"deadline_ms", 1.5}}, "deadline_ms"},
      {{{"op", "promote"}, {"version", 1}}, "needs \"model\""},
      {{{"op", "promote"}, {"model", "lstm"}, {"version", -1}}, "\"version\" must be"},
      {{{"op", "promote"}, {"model", "nope"}, {"version", 3}}, "not_found"},
      {{{"op", "train"}, {"name", "x"}}, "needs \"pipeline\""},
      {{{"op", "deploy"}, {"model", "lstm"}}, "needs \"version\""},
      {{{"op", "deploy"}, {"model", "nope"}, {"version", 1}}, "not_found"},
      {{{"op", "deploy"}, {"model", "lstm"}, {"version", 0}, {"stores", "x"}}, "\"stores\""},
      {{{"op", "train"}, {"name", "x"}, {"pipeline", "nonsense ="}, {"spec", "{}"}}, "train"},
  };
  for (const auto& [request, expected] : bad) {
    nlohmann::json r = Control(request);
    EXPECT_EQ(r["ok"], false) << request.dump();
    EXPECT_NE((r.value("code", "") + " " + r.value("error", "")).find(expected), std::string::npos)
        << request.dump() << " -> " << r.dump();
    if (request.contains("id")) {
      EXPECT_EQ(r["id"], request["id"]);
    }
  }
  auto raw = NodeRequest(hub_->control_endpoint(), "not json", "");
  ASSERT_TRUE(raw.ok());
  EXPECT_NE(raw->find("one JSON object"), std::string::npos) << *raw;
  EXPECT_EQ(Control({{"op", "status"}})["ok"], true) << "the hub still answers";
}

// A request that waited past its deadline behind a long one is answered without being run.
TEST_F(ControlTest, ARequestWhoseDeadlinePassedWhileItWaitedIsNotRun) {
  Start();
  nlohmann::json slow = TrainRequest();
  slow["epochs"] = 200;  // long enough for the next request to wait behind it
  // The clients wait as long as the train takes: under the sanitizers on a loaded machine the
  // 200 epochs took more than the default 10 s, and both calls timed out on the client side.
  NodeClientOptions patient;
  patient.timeout_ms = 180000;
  std::thread train([&] { EXPECT_EQ(Control(slow, patient)["ok"], true); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the train is running
  nlohmann::json late =
      Control({{"op", "promote"}, {"model", "lstm"}, {"version", 1}, {"deadline_ms", 1}}, patient);
  train.join();
  EXPECT_EQ(late["ok"], false) << late.dump();
  EXPECT_EQ(late["code"], "deadline_exceeded") << late.dump();
  auto hub_store_alias = Control({{"op", "status"}});
  EXPECT_EQ(hub_store_alias["ok"], true);
  EXPECT_EQ(store_->Status().serving.model, "") << "nothing was promoted";
}

// A train still running at its deadline stops: nothing registered, its batches back in the group
// (the next train gets them), the reply deadline_exceeded.
TEST_F(ControlTest, ATrainPastItsDeadlineStopsRegistersNothingAndGivesItsBatchesBack) {
  Start();
  nlohmann::json endless = TrainRequest();
  endless["epochs"] = 10000;
  endless["deadline_ms"] = 300;
  const auto t0 = std::chrono::steady_clock::now();
  nlohmann::json r = Control(endless);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(60));
  EXPECT_EQ(r["ok"], false) << r.dump();
  EXPECT_EQ(r["code"], "deadline_exceeded") << r.dump();
  EXPECT_NE(r.value("error", "").find("nothing was registered"), std::string::npos) << r.dump();
  nlohmann::json promote = Control({{"op", "promote"}, {"model", "lstm"}, {"version", 1}});
  EXPECT_EQ(promote["code"], "not_found") << promote.dump();
  nlohmann::json again = Control(TrainRequest());
  ASSERT_EQ(again["ok"], true) << again.dump();
  EXPECT_EQ(again["model"], "lstm@1");
  EXPECT_GT(again["learners"][0]["windows"].get<int>() + again["learners"][1]["windows"].get<int>(),
            0)
      << "the stopped run's batches were handed out again";
}

TEST_F(ControlTest, WithCurveOnlyOperatorsPromoteStoresMayAskStatusOthersAreNotAnswered) {
  NodeOptions ho;
  ho.secret_key = hub_keys_.secret_key;
  ho.allowed = {{store_keys_.public_key, "store-1"}};
  ho.operators = {{operator_keys_.public_key, "alice"}};
  Start(ho, /*keys=*/true);
  nlohmann::json trained = Control(TrainRequest(), {.timeout_ms = 120000,
                                                    .curve_secret_key = operator_keys_.secret_key,
                                                    .curve_server_key = hub_keys_.public_key});
  ASSERT_EQ(trained["ok"], true) << trained.dump();

  NodeClientOptions as_store{.timeout_ms = 5000,
                             .curve_secret_key = store_keys_.secret_key,
                             .curve_server_key = hub_keys_.public_key};
  nlohmann::json refused =
      Control({{"op", "promote"}, {"model", "lstm"}, {"version", 1}}, as_store);
  EXPECT_EQ(refused["code"], "permission_denied") << refused.dump();
  EXPECT_NE(refused.value("error", "").find("role 'store' (store-1) may not promote"),
            std::string::npos);
  EXPECT_EQ(Control({{"op", "status"}}, as_store)["ok"], true) << "a store may ask for status";

  // An unknown key and a plaintext client: the handshake fails, nothing is answered.
  CurveKeyPair stranger = GenerateCurveKeyPair().value();
  nlohmann::json unknown = Control({{"op", "status"}}, {.timeout_ms = 500,
                                                        .curve_secret_key = stranger.secret_key,
                                                        .curve_server_key = hub_keys_.public_key});
  EXPECT_NE(unknown.value("transport_error", "").find("no reply"), std::string::npos)
      << unknown.dump();
  nlohmann::json plain = Control({{"op", "status"}}, {.timeout_ms = 500});
  EXPECT_NE(plain.value("transport_error", "").find("no reply"), std::string::npos) << plain.dump();

  nlohmann::json promoted = Control({{"op", "promote"}, {"model", "lstm"}, {"version", 1}},
                                    {.timeout_ms = 5000,
                                     .curve_secret_key = operator_keys_.secret_key,
                                     .curve_server_key = hub_keys_.public_key});
  ASSERT_EQ(promoted["ok"], true) << promoted.dump();
  ASSERT_TRUE(testing::WaitFor([&] { return store_->Status().serving.model == "lstm@1"; }, 30000));
}

TEST(ControlUserIdTest, KeysMapToRolesAndBack) {
  const std::map<std::string, std::string> operators = {{"k1", "alice"}};
  const std::map<std::string, std::string> stores = {{"k2", "store-1"}};
  EXPECT_EQ(nodes::ControlUserId("k1", operators, stores), "operator:alice");
  EXPECT_EQ(nodes::ControlUserId("k2", operators, stores), "store:store-1");
  EXPECT_EQ(nodes::ControlUserId("k3", operators, stores), "");
  EXPECT_EQ(nodes::ParseControlUserId("store:store-1").role, "store");
  EXPECT_EQ(nodes::ParseControlUserId("store:store-1").name, "store-1");
  EXPECT_EQ(nodes::ParseControlUserId("nocolon").role, "");
}

}  // namespace
}  // namespace nemesyst

namespace nemesyst {
namespace {

// A store node's own control endpoint (set explicitly): `status` for operators and its hub, with
// CURVE; nobody else is answered; the hub's write ops are not there.
TEST_F(ControlTest, AStoresControlEndpointAnswersStatusToOperatorsAndItsHubOnly) {
  NodeOptions ho;
  ho.secret_key = hub_keys_.secret_key;
  ho.allowed = {{store_keys_.public_key, "store-1"}};
  ho.operators = {{operator_keys_.public_key, "alice"}};
  Start(ho, /*keys=*/true);
  store_->Stop();
  NodeOptions so = StoreOptions();
  so.secret_key = store_keys_.secret_key;
  so.hub_public_key = hub_keys_.public_key;
  so.operators = {{operator_keys_.public_key, "alice"}};
  so.control_endpoint = "tcp://127.0.0.1:*";
  auto restarted = Node::Start(so);
  ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
  store_ = std::move(*restarted);
  const std::string endpoint = store_->control_endpoint();
  ASSERT_NE(endpoint.find("tcp://127.0.0.1:"), std::string::npos) << endpoint;
  auto ask = [&](const nlohmann::json& request, const CurveKeyPair* caller) {
    NodeClientOptions o{.timeout_ms = caller ? 5000 : 500};
    if (caller != nullptr) {
      o.curve_secret_key = caller->secret_key;
      o.curve_server_key = store_keys_.public_key;
    }
    auto reply = NodeRequest(endpoint, request.dump(), "", o);
    return reply.ok() ? nlohmann::json::parse(*reply, nullptr, false)
                      : nlohmann::json{{"transport_error", reply.status().ToString()}};
  };
  nlohmann::json status = ask({{"op", "status"}, {"id", 7}}, &operator_keys_);
  ASSERT_EQ(status["ok"], true) << status.dump();
  EXPECT_EQ(status["role"], "store");
  EXPECT_EQ(status["node_id"], "store-1");
  EXPECT_EQ(status["id"], 7);
  EXPECT_EQ(ask({{"op", "status"}}, &hub_keys_)["ok"], true) << "its hub may ask";
  nlohmann::json promote =
      ask({{"op", "promote"}, {"model", "lstm"}, {"version", 1}}, &operator_keys_);
  EXPECT_NE(promote.value("error", "").find("unknown op 'promote'"), std::string::npos)
      << promote.dump();
  CurveKeyPair stranger = GenerateCurveKeyPair().value();
  NodeClientOptions unknown{.timeout_ms = 500,
                            .curve_secret_key = stranger.secret_key,
                            .curve_server_key = store_keys_.public_key};
  EXPECT_FALSE(NodeRequest(endpoint, R"({"op":"status"})", "", unknown).ok());
  EXPECT_TRUE(ask({{"op", "status"}}, nullptr).contains("transport_error")) << "plaintext";
}

// Without keys a store's control endpoint is loopback-only and answers local callers.
TEST_F(ControlTest, WithoutKeysAStoresControlEndpointAnswersLocalCallers) {
  Start();
  store_->Stop();
  NodeOptions so = StoreOptions();
  so.control_endpoint = "tcp://127.0.0.1:*";
  store_ = std::move(Node::Start(so)).value();
  auto reply = NodeRequest(store_->control_endpoint(), R"({"op":"status"})", "");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(nlohmann::json::parse(*reply)["role"], "store");
  so.control_endpoint = "tcp://0.0.0.0:*";
  store_->Stop();
  auto open = Node::Start(so);
  EXPECT_FALSE(open.ok()) << "plaintext control beyond loopback is refused";
}

}  // namespace
}  // namespace nemesyst
