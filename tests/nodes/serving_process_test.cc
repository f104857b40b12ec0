// Serving store nodes as real processes (`nemesyst node run` with serving.model), a real hub:
// a promotion made through the CLI while a store is down reaches it when it returns; a store
// SIGKILLed while it serves restarts, still holds every acknowledged reading, serves the same
// version, and predicts the readings that follow.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>

#include "nemesyst/pipeline.h"
#include "nemesyst/refrigeration/fleet.h"
#include "nemesyst/refrigeration/simulator.h"
#include "tests/nodes/cluster_fixture.h"
#include "tests/testing/run_command.h"
#include "tests/testing/small_fleet.h"

namespace nemesyst::testing {
namespace {

class ServingProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TrainJobOptions t = fleet_.Options("lstm", 1);
    ASSERT_TRUE(RunTrainJob(*fleet_.store, t).ok());
    t.trainer.seed = 99;
    t.group = "train.lstm.2";
    ASSERT_TRUE(RunTrainJob(*fleet_.store, t).ok());
    auto all = ReadRecords(*fleet_.store, "fleet");
    ASSERT_TRUE(all.ok());
    records_ = std::move(*all);
    std::stable_sort(records_.begin(), records_.end(), [](const Record& a, const Record& b) {
      return a.timestamp_us < b.timestamp_us;
    });
    split_ = records_.size() / 2;
    while (records_[split_].timestamp_us == records_[split_ - 1].timestamp_us) ++split_;
    // The hub's registry: both versions, production → 1. The model files go through the CLI
    // (`model export`, then `model import` into the hub's store before it runs).
    for (uint32_t v : {1u, 2u}) {
      auto blob = fleet_.store->ReadModelBlob("lstm", v);
      auto info = fleet_.store->GetModelInfo("lstm", v);
      ASSERT_TRUE(blob.ok() && info.ok());
      std::unique_ptr<Store> hub;
      ASSERT_TRUE(Store::Open({}, cluster_.HubStore(), &hub).ok());
      ASSERT_TRUE(hub->PutModel("lstm", *blob, info->metadata).ok());
    }
    std::unique_ptr<Store> own;
    ASSERT_TRUE(Store::Open({}, cluster_.Path("s1"), &own).ok());
    auto schema = fleet_.store->GetSchema("fleet");
    ASSERT_TRUE(own->CreateStream("fleet", *schema).ok());
    ASSERT_TRUE(own->Append("fleet", std::span<const Record>(records_).first(split_)).ok());
  }

  NodeProcess* StartServingStore() {
    return cluster_.StartStore("s1", {"--set", "serving.model=lstm:production"});
  }

  nlohmann::json Ask(NodeProcess* node, const std::string& request) {
    auto reply = NodeRequest(node->ready().value("predict", ""), request, "");
    return reply.ok() ? nlohmann::json::parse(*reply, nullptr, false) : nlohmann::json();
  }
  // Every device's live prediction time, and the version that answered.
  std::map<std::string, int64_t> LiveTimes(NodeProcess* node, std::string* model) {
    nlohmann::json devices = nlohmann::json::array();
    for (int s = 1; s <= 4; ++s) {
      for (int c = 1; c <= 3; ++c) {
        char id[32];
        std::snprintf(id, sizeof(id), "store-%04d/case-%02d", s, c);
        devices.push_back(id);
      }
    }
    nlohmann::json r = Ask(node, nlohmann::json{{"op", "predict"}, {"devices", devices}}.dump());
    std::map<std::string, int64_t> out;
    EXPECT_EQ(r["ok"], true) << r.dump();
    if (r["ok"] != true) return out;
    *model = r["model"];
    for (const auto& p : r["predictions"]) out[p["device"]] = p["timestamp_us"];
    return out;
  }
  std::string Served() {
    nlohmann::json s = NodeStatusJson(cluster_.StoreClient("s1"));
    return s.is_object() ? s["serving"].value("model", "") : "";
  }
  bool WaitServed(const std::string& model) {
    return WaitFor([&] { return Served() == model; }, 30000);
  }
  // One instant's readings through the request form (acknowledged once committed).
  nlohmann::json Append(std::span<const Record> readings) {
    auto reply =
        NodeRequest(cluster_.StoreClient("s1"),
                    R"({"op":"append","stream":"fleet","format":"csv","timestamp_format":"us"})",
                    refrigeration::RecordsToCsv(readings));
    return reply.ok() ? nlohmann::json::parse(*reply, nullptr, false) : nlohmann::json();
  }
  int Alias(uint32_t version) {
    return RunCli({"model", "alias", "lstm", "production", std::to_string(version), "--connect",
                   cluster_.hub()->client()})
        .exit_code;
  }

  SmallFleet fleet_;
  Cluster cluster_;
  std::vector<Record> records_;
  size_t split_ = 0;
};

TEST_F(ServingProcessTest, PromotionsReachAStoreThatWasDownAndAKilledStoreServesTheSameVersion) {
  cluster_.StartHub();
  ASSERT_EQ(Alias(1), 0) << "the alias is set through the running hub";
  NodeProcess* store = StartServingStore();
  ASSERT_TRUE(WaitServed("lstm@1")) << store->log();
  ASSERT_EQ(Alias(2), 0);
  ASSERT_TRUE(WaitServed("lstm@2")) << store->log();

  // The feed through the request form (acknowledged appends); the store is SIGKILLed half-way.
  size_t acknowledged = split_;
  size_t i = split_;
  const size_t half = split_ + (records_.size() - split_) / 2;
  while (i < half) {
    size_t end = i + 1;
    while (end < records_.size() && records_[end].timestamp_us == records_[i].timestamp_us) ++end;
    nlohmann::json r = Append(std::span<const Record>(records_).subspan(i, end - i));
    ASSERT_TRUE(r.is_object() && r.value("ok", false)) << r.dump();
    acknowledged = end;
    i = end;
  }
  std::string model;
  const std::map<std::string, int64_t> before = LiveTimes(store, &model);
  EXPECT_EQ(model, "lstm@2");
  ASSERT_GE(before.size(), 4u) << "devices with a full window since their last gap";
  store->Kill();

  // Down: the hub moves production back to 1 (through its control endpoint this time); the store
  // learns it when it returns.
  auto promoted = RunCli({"node", "promote", "lstm", "production", "1", "--connect",
                          cluster_.hub()->ready().value("control", ""), "--json"});
  ASSERT_EQ(promoted.exit_code, 0) << promoted.err;
  EXPECT_EQ(nlohmann::json::parse(promoted.out)["version"], 1);
  store = StartServingStore();
  ASSERT_TRUE(WaitServed("lstm@1")) << store->log();
  EXPECT_EQ(ReadRows(cluster_.Path("s1"), "fleet").size(), acknowledged)
      << "every acknowledged reading survived the kill";
  // Rebuilt from the stored window: every device is predicted at the reading it was before.
  EXPECT_EQ(LiveTimes(store, &model), before);
  EXPECT_EQ(model, "lstm@1");

  // The feed resumes; its readings are predicted by the version served.
  const size_t resumed_at = acknowledged;
  while (i < records_.size()) {
    size_t end = i + 1;
    while (end < records_.size() && records_[end].timestamp_us == records_[i].timestamp_us) ++end;
    nlohmann::json r = Append(std::span<const Record>(records_).subspan(i, end - i));
    ASSERT_TRUE(r.is_object() && r.value("ok", false)) << r.dump();
    i = end;
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        nlohmann::json s = NodeStatusJson(cluster_.StoreClient("s1"));
        return s.is_object() &&
               s["serving"].value("readings", uint64_t{0}) == records_.size() - resumed_at;
      },
      10000))
      << NodeStatusJson(cluster_.StoreClient("s1")).dump();
  std::map<std::string, int64_t> newest;
  for (const Record& r : records_)
    newest[r.device_id] = std::max(newest[r.device_id], r.timestamp_us);
  const std::map<std::string, int64_t> last = LiveTimes(store, &model);
  EXPECT_GE(last.size(), 4u);
  for (const auto& [device, t] : last) EXPECT_EQ(t, newest[device]) << device;
  EXPECT_EQ(store->Terminate(), 0) << store->log();
}

}  // namespace
}  // namespace nemesyst::testing
