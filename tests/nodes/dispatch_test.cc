// Dispatch through the hub's control plane, in-process on loopback: two serving store nodes,
// each holding half of a small simulated fleet, replicate to a hub; the hub trains and promotes a
// model; then `dispatch` fans a demand-response request out. Each store plans from its own live
// predictions and recent load; the hub aggregates, asks for more where the first answers fall
// short, and names the stores that do not answer (a store that is down) or refuse (one with no
// power field configured).
#include <gtest/gtest.h>

#include <set>

#include "nemesyst/node.h"
#include "nemesyst/pipeline.h"
#include "nemesyst/refrigeration/demo_specs.h"
#include "tests/testing/node_process.h"
#include "tests/testing/small_fleet.h"

namespace nemesyst {
namespace {

class FleetDispatchTest : public ::testing::Test {
 protected:
  // store-1 gets the simulated stores 0 and 1, store-2 stores 2 and 3.
  void SetUp() override {
    auto schema = fleet_.store->GetSchema("fleet");
    auto records = ReadRecords(*fleet_.store, "fleet");
    ASSERT_TRUE(schema.ok() && records.ok());
    for (int node = 1; node <= 2; ++node) {
      std::unique_ptr<Store> own;
      ASSERT_TRUE(Store::Open({}, dir_.Sub("store-" + std::to_string(node)), &own).ok());
      ASSERT_TRUE(own->CreateStream("fleet", *schema).ok());
      std::vector<Record> mine;
      for (const Record& r : *records) {
        const bool first_half = r.device_id < "store-0002";
        if (first_half == (node == 1)) mine.push_back(r);
      }
      ASSERT_FALSE(mine.empty());
      ASSERT_TRUE(own->Append("fleet", mine).ok());
    }
    NodeOptions ho;
    ho.role = NodeRole::kHub;
    ho.node_id = "hub";
    ho.store_path = dir_.Sub("hub");
    ho.listen_endpoint = ho.client_endpoint = ho.control_endpoint = "tcp://127.0.0.1:*";
    ho.heartbeat_ms = 50;
    hub_ = std::move(Node::Start(ho)).value();
    for (int node = 1; node <= 2; ++node) {
      stores_.push_back(std::move(Node::Start(StoreOptions(node))).value());
      ASSERT_TRUE(
          stores_.back()->WaitReplicated(stores_.back()->Status().last_position, 30000).ok());
    }
    refrigeration::DemoPipelineOptions p = fleet_.pipeline;
    nlohmann::json trained =
        Control({{"op", "train"},
                 {"name", "lstm"},
                 {"pipeline", refrigeration::DemoPipelineToml(p)},
                 {"spec", refrigeration::DemoRegressorSpec("lstm", p.window_length, 8)},
                 {"epochs", 1},
                 {"batch_size", 32},
                 {"deadline_ms", 120000}});
    ASSERT_EQ(trained["ok"], true) << trained.dump();
    ASSERT_EQ(Control({{"op", "promote"}, {"model", "lstm"}, {"version", 1}})["ok"], true);
    for (auto& s : stores_) {
      ASSERT_TRUE(testing::WaitFor([&] { return s->Status().serving.model == "lstm@1"; }, 30000))
          << s->Status().serving.last_error;
    }
    // The hub knows what each serves (from their reports) before a dispatch picks its stores.
    ASSERT_TRUE(testing::WaitFor(
        [&] {
          int serving = 0;
          for (const PeerStatus& peer : hub_->Status().peers) {
            serving += peer.channel == "data" && peer.serving_model == "lstm@1";
          }
          return serving == 2;
        },
        10000));
  }

  NodeOptions StoreOptions(int node, bool dispatch = true) const {
    NodeOptions so;
    so.node_id = "store-" + std::to_string(node);
    so.store_path = dir_.Sub(so.node_id);
    so.hub_endpoint = hub_->listen_endpoint();
    so.client_endpoint = so.ingest_endpoint = so.predictions_endpoint = so.predict_endpoint =
        "tcp://127.0.0.1:*";
    so.serve_model = "lstm:production";
    so.heartbeat_ms = 50;
    if (dispatch) {
      so.dispatch_power_field = "power_kw";
      so.dispatch_idle_field = "cooling";
      so.dispatch_skip_field = "defrost";
    }
    return so;
  }

  nlohmann::json Control(nlohmann::json request) {
    auto reply = NodeRequest(hub_->control_endpoint(), request.dump(), "");
    if (!reply.ok()) return {{"transport_error", reply.status().ToString()}};
    return nlohmann::json::parse(*reply, nullptr, false);
  }

  nlohmann::json Dispatch(double kw, int deadline_ms = 10000) {
    return Control({{"op", "dispatch"},
                    {"shed_kw", kw},
                    {"duration_s", 60},
                    {"margin_s", 0},
                    {"retry_ms", 50},
                    {"deadline_ms", deadline_ms}});
  }

  // The store's live prediction for `device` (its predict endpoint).
  double LivePrediction(Node& store, const std::string& device) {
    auto reply = NodeRequest(store.Status().serving.predict_endpoint,
                             nlohmann::json{{"op", "predict"}, {"device", device}}.dump(), "");
    EXPECT_TRUE(reply.ok());
    const nlohmann::json j = nlohmann::json::parse(*reply);
    EXPECT_EQ(j["predictions"].size(), 1u) << j.dump();
    return j["predictions"][0]["prediction_s"].get<double>();
  }

  testing::SmallFleet fleet_;
  testing::TempDir dir_;
  std::unique_ptr<Node> hub_;
  std::vector<std::unique_ptr<Node>> stores_;
};

TEST_F(FleetDispatchTest, EachStorePlansFromItsOwnPredictionsAndTheHubAggregates) {
  // More than the fleet has: every eligible case of both stores, not met, in several rounds.
  nlohmann::json all = Dispatch(1e6);
  ASSERT_EQ(all["ok"], true) << all.dump();
  EXPECT_EQ(all["met"], false);
  ASSERT_EQ(all["stores"].size(), 2u);
  double available = 0;
  for (const nlohmann::json& s : all["stores"]) {
    ASSERT_TRUE(s.contains("confirmed_kw")) << s.dump();
    EXPECT_NEAR(s["confirmed_kw"].get<double>(), s["available_kw"].get<double>(), 1e-9);
    EXPECT_GT(s["candidates"].get<int>(), 0) << "every device with a prediction is a candidate";
    available += s["available_kw"].get<double>();
  }
  ASSERT_GT(available, 0) << "some case can shed for a minute";
  EXPECT_NEAR(all["confirmed_kw"].get<double>(), available, 1e-9);

  // Half of it: met, from both stores' own cases, each case's prediction the store's live one.
  nlohmann::json half = Dispatch(available / 2);
  ASSERT_EQ(half["ok"], true) << half.dump();
  EXPECT_EQ(half["met"], true);
  EXPECT_GE(half["confirmed_kw"].get<double>(), available / 2);
  EXPECT_LE(half["confirmed_kw"].get<double>(), available + 1e-9);
  std::set<std::string> devices;
  double sum = 0;
  for (size_t i = 0; i < 2; ++i) {
    const nlohmann::json& s = half["stores"][i];
    EXPECT_EQ(s["store"], "store-" + std::to_string(i + 1));
    EXPECT_EQ(s["model"], "lstm@1");
    for (const nlohmann::json& c : s["cases"]) {
      const std::string device = c["device"];
      const bool first_half = device < "store-0002";
      EXPECT_EQ(first_half, i == 0) << device << " planned by the store that holds it";
      EXPECT_TRUE(devices.insert(device).second) << device << " chosen once";
      EXPECT_GE(c["slack_s"].get<double>(), 0);
      EXPECT_NEAR(c["predicted_s"].get<double>(), LivePrediction(*stores_[i], device), 1e-6);
      sum += c["kw"].get<double>();
    }
  }
  EXPECT_NEAR(sum, half["confirmed_kw"].get<double>(), 1e-9);
  EXPECT_EQ(half["missing"].size(), 0u);
}

// A store that is down does not answer: the reply names it (and what the others confirmed) at the
// deadline. One with no power field refuses, saying why.
TEST_F(FleetDispatchTest, ADownStoreIsMissingAndAStoreWithoutAPowerFieldRefuses) {
  stores_[1]->Stop();
  nlohmann::json r = Control({{"op", "dispatch"},
                              {"shed_kw", 1e6},
                              {"duration_s", 60},
                              {"margin_s", 0},
                              {"retry_ms", 50},
                              {"stores", {"store-1", "store-2"}},
                              {"deadline_ms", 600}});
  EXPECT_EQ(r["ok"], false) << r.dump();
  EXPECT_EQ(r["code"], "deadline_exceeded");
  EXPECT_EQ(r["missing"], nlohmann::json::array({"store-2"}));
  EXPECT_GT(r["stores"][0]["confirmed_kw"].get<double>(), 0);
  EXPECT_GE(r["stores"][1]["sends"].get<int>(), 2) << "re-sent until the deadline";

  stores_[1].reset();
  stores_[1] = std::move(Node::Start(StoreOptions(2, /*dispatch=*/false))).value();
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return stores_[1]->Status().serving.model == "lstm@1" && stores_[1]->Status().connected;
      },
      30000));
  r = Control({{"op", "dispatch"},
               {"shed_kw", 1},
               {"duration_s", 60},
               {"stores", {"store-2"}},
               {"deadline_ms", 5000}});
  EXPECT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["met"], false);
  ASSERT_EQ(r["refused"].size(), 1u) << r.dump();
  EXPECT_NE(r["refused"][0]["error"].get<std::string>().find("dispatch.power_field"),
            std::string::npos);
}

TEST_F(FleetDispatchTest, MalformedDispatchRequestsGetErrorsNamingTheField) {
  const std::vector<std::pair<nlohmann::json, std::string>> bad = {
      {{{"op", "dispatch"}, {"duration_s", 60}}, "needs \"shed_kw\""},
      {{{"op", "dispatch"}, {"shed_kw", -1}, {"duration_s", 60}}, "\"shed_kw\" must be in"},
      {{{"op", "dispatch"}, {"shed_kw", 1}}, "needs \"duration_s\""},
      {{{"op", "dispatch"}, {"shed_kw", 1}, {"duration_s", "x"}}, "\"duration_s\" must be"},
      {{{"op", "dispatch"}, {"shed_kw", 1}, {"duration_s", 1}, {"margin_s", -5}}, "margin_s"},
      {{{"op", "dispatch"}, {"shed_kw", 1}, {"duration_s", 1}, {"stores", "x"}}, "\"stores\""},
      {{{"op", "dispatch"}, {"shed_kw", 1}, {"duration_s", 1}, {"retry_ms", 0}}, "retry_ms"},
  };
  for (const auto& [request, expected] : bad) {
    nlohmann::json r = Control(request);
    EXPECT_EQ(r["ok"], false) << request.dump();
    EXPECT_NE(r.value("error", "").find(expected), std::string::npos)
        << request.dump() << " -> " << r.dump();
  }
}

}  // namespace
}  // namespace nemesyst
