// Live serving on a store node, in-process on loopback: a hub holding two versions of a model, a
// store node serving its `production` alias. Readings pushed to the ingest endpoint are stored
// and predicted exactly as a LiveModel over the same store predicts them; predict requests answer
// from live state or a given window; malformed pushes and requests get errors, never a crash; a
// promotion on the hub swaps the version under a stream of requests without failing any.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "nemesyst/live_model.h"
#include "nemesyst/node.h"
#include "nemesyst/refrigeration/fleet.h"
#include "nemesyst/refrigeration/simulator.h"
#include "tests/testing/node_process.h"
#include "tests/testing/small_fleet.h"

namespace nemesyst {
namespace {

using Key = std::pair<std::string, int64_t>;

// GET `path` from a node's HTTP endpoint ("host:port"); the body, or "" on failure.
std::string HttpGet(const std::string& address, const std::string& path) {
  const size_t colon = address.rfind(':');
  httplib::Client client(address.substr(0, colon), std::stoi(address.substr(colon + 1)));
  auto r = client.Get(path);
  return r && r->status == 200 ? r->body : "";
}

const char* kPushOptions = R"({"stream":"fleet","format":"csv","timestamp_format":"us"})";

class ServingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Two versions of "lstm" trained on the fleet; the hub's registry gets both, production → 1.
    TrainJobOptions t = fleet_.Options("lstm", 1);
    auto first = RunTrainJob(*fleet_.store, t);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    t.trainer.seed = 99;
    t.group = "train.lstm.2";  // the same data again, through a new group
    auto second = RunTrainJob(*fleet_.store, t);
    ASSERT_TRUE(second.ok()) << second.status().ToString();
    auto all = ReadRecords(*fleet_.store, "fleet");
    ASSERT_TRUE(all.ok());
    records_ = std::move(*all);
    std::stable_sort(records_.begin(), records_.end(), [](const Record& a, const Record& b) {
      return a.timestamp_us < b.timestamp_us;
    });
    {
      std::unique_ptr<Store> hub;
      ASSERT_TRUE(Store::Open({}, dir_.Sub("hub"), &hub).ok());
      for (uint32_t v : {1u, 2u}) {
        auto blob = fleet_.store->ReadModelBlob("lstm", v);
        auto info = fleet_.store->GetModelInfo("lstm", v);
        ASSERT_TRUE(blob.ok() && info.ok());
        auto put = hub->PutModel("lstm", *blob, info->metadata);
        ASSERT_TRUE(put.ok()) << put.status().ToString();
      }
      ASSERT_TRUE(hub->SetAlias("lstm", "production", 1).ok());
    }
    // The store node's own store: the first 80 % of the feed (by time); the rest arrives live.
    split_ = records_.size() * 8 / 10;
    while (split_ < records_.size() &&
           records_[split_].timestamp_us == records_[split_ - 1].timestamp_us) {
      ++split_;
    }
    {
      std::unique_ptr<Store> own;
      ASSERT_TRUE(Store::Open({}, StorePath(), &own).ok());
      auto schema = fleet_.store->GetSchema("fleet");
      ASSERT_TRUE(schema.ok());
      ASSERT_TRUE(own->CreateStream("fleet", *schema).ok());
      ASSERT_TRUE(own->Append("fleet", std::span<const Record>(records_).first(split_)).ok());
    }
    NodeOptions ho;
    ho.role = NodeRole::kHub;
    ho.node_id = "hub";
    ho.store_path = dir_.Sub("hub");
    ho.listen_endpoint = ho.client_endpoint = ho.control_endpoint = "tcp://127.0.0.1:*";
    ho.heartbeat_ms = 50;
    ho.http_endpoint = "127.0.0.1:0";
    hub_ = std::move(Node::Start(ho)).value();
    NodeOptions so;
    so.node_id = "store-1";
    so.store_path = StorePath();
    so.hub_endpoint = hub_->listen_endpoint();
    so.client_endpoint = so.ingest_endpoint = so.predictions_endpoint = so.predict_endpoint =
        "tcp://127.0.0.1:*";
    so.serve_model = "lstm:production";
    so.heartbeat_ms = 50;
    so.http_endpoint = "127.0.0.1:0";
    store_ = std::move(Node::Start(so)).value();
    ASSERT_TRUE(WaitServing("lstm@1")) << store_->Status().serving.last_error;
  }

  std::string StorePath() const { return dir_.Sub("store"); }

  bool WaitServing(const std::string& model) {
    return testing::WaitFor([&] { return store_->Status().serving.model == model; }, 30000);
  }

  nlohmann::json Ask(const std::string& request) {
    auto reply = NodeRequest(store_->Status().serving.predict_endpoint, request, "");
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    return reply.ok() ? nlohmann::json::parse(*reply, nullptr, false) : nlohmann::json();
  }

  // What the node should have served: `version` rebuilt from the store's prefix, then (when
  // `pushed` is given) each push observed as the node observes an append.
  std::unique_ptr<LiveModel> Expected(uint32_t version, std::vector<PredictionRow>* pushed) {
    std::unique_ptr<Store> prefix;
    EXPECT_TRUE(Store::Open({}, dir_.Sub("prefix"), &prefix).ok());
    auto schema = fleet_.store->GetSchema("fleet");
    EXPECT_TRUE(prefix->CreateStream("fleet", *schema).ok());
    EXPECT_TRUE(prefix->Append("fleet", std::span<const Record>(records_).first(split_)).ok());
    auto m = LoadModelForPrediction(*fleet_.store, "lstm@" + std::to_string(version));
    EXPECT_TRUE(m.ok());
    auto live = std::move(LiveModel::Create(std::move(*m))).value();
    EXPECT_TRUE(live->Rebuild(*prefix, "fleet").ok());
    if (pushed == nullptr) return live;
    for (auto [begin, end] : Pushes()) {
      EXPECT_TRUE(
          live->Observe(std::span<const Record>(records_).subspan(begin, end - begin), pushed)
              .ok());
    }
    return live;
  }

  // The live part of the feed, one push per instant.
  std::vector<std::pair<size_t, size_t>> Pushes() const {
    std::vector<std::pair<size_t, size_t>> out;
    for (size_t begin = split_; begin < records_.size();) {
      size_t end = begin + 1;
      while (end < records_.size() && records_[end].timestamp_us == records_[begin].timestamp_us) {
        ++end;
      }
      out.push_back({begin, end});
      begin = end;
    }
    return out;
  }

  testing::SmallFleet fleet_;
  testing::TempDir dir_;
  std::vector<Record> records_;
  size_t split_ = 0;
  std::unique_ptr<Node> hub_, store_;
};

TEST_F(ServingTest, PushedReadingsAreStoredAndPredictedAsTheLiveModelPredictsThem) {
  const ServingStatus serving = store_->Status().serving;
  zmq::context_t context(1);
  zmq::socket_t sub(context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "");
  sub.set(zmq::sockopt::linger, 0);
  sub.connect(serving.predictions_endpoint);
  // A subscription reaches the publisher asynchronously; readings pushed before it would be
  // published to nobody (PUB's documented behaviour). Wait until the connection is up.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  zmq::socket_t push(context, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 2000);
  push.connect(serving.ingest_endpoint);
  for (auto [begin, end] : Pushes()) {
    const std::string csv =
        refrigeration::RecordsToCsv(std::span<const Record>(records_).subspan(begin, end - begin));
    std::array<zmq::const_buffer, 2> parts = {zmq::buffer(std::string_view(kPushOptions)),
                                              zmq::buffer(csv)};
    ASSERT_TRUE(zmq::send_multipart(push, parts));
  }
  std::vector<PredictionRow> expected_rows;
  std::unique_ptr<LiveModel> expected = Expected(1, &expected_rows);
  ASSERT_GT(expected_rows.size(), 50u);

  std::map<Key, nlohmann::json> published;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (published.size() < expected_rows.size() && std::chrono::steady_clock::now() < deadline) {
    std::vector<zmq::message_t> frames;
    zmq::pollitem_t item = {sub.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(200));
    if (!(item.revents & ZMQ_POLLIN)) continue;
    ASSERT_TRUE(zmq::recv_multipart(sub, std::back_inserter(frames)));
    ASSERT_EQ(frames.size(), 2u);
    nlohmann::json p = nlohmann::json::parse(frames[1].to_string());
    EXPECT_EQ(frames[0].to_string(), p["device"].get<std::string>()) << "topic = device";
    EXPECT_EQ(p["model"], "lstm@1");
    EXPECT_GT(p["seq"].get<uint64_t>(), split_) << "the seq the reading got in the store";
    published[{p["device"], p["timestamp_us"]}] = p;
  }
  ASSERT_EQ(published.size(), expected_rows.size());
  for (const PredictionRow& row : expected_rows) {
    auto it = published.find({row.device, row.timestamp_us});
    ASSERT_NE(it, published.end()) << row.device << " " << row.timestamp_us;
    EXPECT_NEAR(it->second["prediction_s"].get<double>(), row.prediction_s, 1e-9);
  }
  // Stored as `nemesyst ingest` would store them: every reading, in the node's own store.
  // (Status is a snapshot refreshed every 100 ms.)
  ASSERT_TRUE(testing::WaitFor(
      [&] { return store_->Status().serving.predictions == expected_rows.size(); }, 5000));
  const ServingStatus after = store_->Status().serving;
  EXPECT_EQ(after.readings, records_.size() - split_);
  EXPECT_EQ(after.pushes, Pushes().size());
  EXPECT_EQ(after.push_errors, 0u);
  EXPECT_EQ(after.predictions, expected_rows.size());
  EXPECT_GT(after.publish_p50_us, 0);
  // The same figures on the node's /metrics, and the store on the hub's fleet page.
  const std::string metrics = HttpGet(store_->http_endpoint(), "/metrics");
  EXPECT_NE(metrics.find("\nnemesyst_serving_predictions_total " +
                         std::to_string(expected_rows.size()) + "\n"),
            std::string::npos)
      << metrics.substr(0, 2000);
  EXPECT_NE(metrics.find(R"(nemesyst_serving_info{reference="lstm:production",model="lstm@1"} 1)"),
            std::string::npos);
  EXPECT_NE(
      metrics.find("\nnemesyst_append_seconds_count " + std::to_string(Pushes().size()) + "\n"),
      std::string::npos)
      << "every push's time on the worker";
  const std::string page = HttpGet(hub_->http_endpoint(), "/");
  EXPECT_NE(page.find(R"(data-store="store-1")"), std::string::npos) << page;

  // Predict requests from live state: the device's newest prediction; unknown devices listed.
  std::set<std::string> unique;
  for (const auto& [key, p] : published) unique.insert(key.first);
  nlohmann::json devices = nlohmann::json::array({"nope"});
  for (const std::string& d : unique) devices.push_back(d);
  nlohmann::json live =
      Ask(nlohmann::json{{"op", "predict"}, {"devices", devices}, {"id", 7}}.dump());
  ASSERT_EQ(live["ok"], true) << live.dump();
  EXPECT_EQ(live["id"], 7);
  EXPECT_EQ(live["model"], "lstm@1");
  EXPECT_EQ(live["unknown"], nlohmann::json::array({"nope"}));
  ASSERT_EQ(live["predictions"].size(), expected->device_count());
  for (const auto& p : live["predictions"]) {
    const PredictionRow* want = expected->Latest(p["device"].get<std::string>());
    ASSERT_NE(want, nullptr);
    EXPECT_EQ(p["timestamp_us"].get<int64_t>(), want->timestamp_us);
    EXPECT_NEAR(p["prediction_s"].get<double>(), want->prediction_s, 1e-9);
  }

  // A given window: the windowed prediction of those readings.
  const std::string device = "store-0001/case-02";
  nlohmann::json readings = nlohmann::json::array();
  std::vector<Record> mine;
  const std::vector<std::string>& fields = refrigeration::SimulatorFields();
  for (const Record& r : records_) {
    if (r.device_id == device) mine.push_back(r);
  }
  mine.erase(mine.begin(), mine.end() - 60);  // the newest hour: more than a window
  for (const Record& r : mine) {
    nlohmann::json reading = {{"timestamp_us", r.timestamp_us}};
    for (size_t i = 0; i < fields.size(); ++i) reading[fields[i]] = r.values[i];
    readings.push_back(reading);
  }
  auto windowed = expected->PredictWindow(mine);
  ASSERT_TRUE(windowed.ok());
  nlohmann::json w = Ask(
      nlohmann::json{{"op", "predict"}, {"window", {{"device", device}, {"readings", readings}}}}
          .dump());
  ASSERT_EQ(w["ok"], true) << w.dump().substr(0, 500);
  EXPECT_NEAR(w["predictions"][0]["prediction_s"].get<double>(), windowed->prediction_s, 1e-9);
  // The same window in the binary form (columns in another order than the model's).
  nlohmann::json columns = nlohmann::json::array();
  for (size_t i = fields.size(); i-- > 0;) columns.push_back(fields[i]);
  columns.push_back("timestamp_us");
  std::string rows;
  for (const Record& r : mine) {
    for (size_t i = fields.size(); i-- > 0;)
      rows.append(reinterpret_cast<const char*>(&r.values[i]), 8);
    rows.append(reinterpret_cast<const char*>(&r.timestamp_us), 8);
  }
  auto binary = NodeRequest(
      store_->Status().serving.predict_endpoint,
      nlohmann::json{{"op", "predict"}, {"window", {{"device", device}, {"fields", columns}}}}
          .dump(),
      rows);
  ASSERT_TRUE(binary.ok());
  nlohmann::json b = nlohmann::json::parse(*binary);
  ASSERT_EQ(b["ok"], true) << b.dump();
  EXPECT_EQ(b["predictions"][0]["prediction_s"], w["predictions"][0]["prediction_s"]);
  EXPECT_EQ(b["predictions"][0]["timestamp_us"], mine.back().timestamp_us);
  // A frame that is not whole rows, or columns that are not the model's, are refused.
  auto torn = NodeRequest(
      store_->Status().serving.predict_endpoint,
      nlohmann::json{{"op", "predict"}, {"window", {{"device", device}, {"fields", columns}}}}
          .dump(),
      rows.substr(0, rows.size() - 3));
  ASSERT_TRUE(torn.ok());
  EXPECT_NE(torn->find("not a whole number of"), std::string::npos) << *torn;
  columns[0] = "nonsense";
  auto wrong = NodeRequest(
      store_->Status().serving.predict_endpoint,
      nlohmann::json{{"op", "predict"}, {"window", {{"device", device}, {"fields", columns}}}}
          .dump(),
      rows);
  ASSERT_TRUE(wrong.ok());
  EXPECT_NE(wrong->find("field 'nonsense' is not the model's"), std::string::npos) << *wrong;
}

// Nothing a client or feed sends stops the service: each bad request gets an error naming the
// problem, a bad push is counted and logged, and the node answers the next request.
TEST_F(ServingTest, MalformedRequestsAndPushesGetErrorsNotACrash) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"not json", "JSON object"},
      {R"({"op":"train"})", "unknown op 'train'"},
      {R"({"op":"predict"})", "give \"device\""},
      {R"({"op":"predict","devices":[1,2]})", "give \"device\""},
      {R"({"op":"predict","window":{"device":"d"}})", "\"readings\""},
      {R"({"op":"predict","window":{"readings":[]}})", "\"device\""},
      {R"({"op":"predict","window":{"device":"d","fields":"x"}})", "\"fields\" lists"},
      {R"({"op":"predict","window":{"device":"d","readings":[{"timestamp_us":1.5}]}})",
       "timestamp_us"},
      {R"({"op":"predict","window":{"device":"d","readings":[{"timestamp_us":1}]}})", "no field"},
      {R"({"op":"predict","window":{"device":"d","readings":[7]}})", "not an object"},
  };
  for (const auto& [request, expected] : bad) {
    nlohmann::json r = Ask(request);
    EXPECT_EQ(r["ok"], false) << request;
    EXPECT_NE(r.value("error", "").find(expected), std::string::npos)
        << request << " -> " << r.dump();
  }
  zmq::context_t context(1);
  zmq::socket_t push(context, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 2000);
  push.connect(store_->Status().serving.ingest_endpoint);
  std::array<zmq::const_buffer, 2> wrong_stream = {
      zmq::str_buffer(R"({"stream":"nope","format":"csv"})"),
      zmq::str_buffer("device,timestamp\n")};
  ASSERT_TRUE(zmq::send_multipart(push, wrong_stream));
  std::array<zmq::const_buffer, 3> three = {zmq::str_buffer("{}"), zmq::str_buffer("a"),
                                            zmq::str_buffer("b")};
  ASSERT_TRUE(zmq::send_multipart(push, three));
  ASSERT_TRUE(push.send(zmq::str_buffer("garbage"), zmq::send_flags::none));
  ASSERT_TRUE(testing::WaitFor([&] { return store_->Status().serving.push_errors == 3; }, 10000))
      << store_->Status().serving.push_errors;
  const ServingStatus s = store_->Status().serving;
  EXPECT_EQ(s.requests, bad.size());
  EXPECT_EQ(s.request_errors, bad.size());
  nlohmann::json ok = Ask(R"({"op":"predict","device":"store-0001/case-02"})");
  EXPECT_EQ(ok["ok"], true) << ok.dump();
  EXPECT_EQ(ok["model"], "lstm@1");
}

// A promotion on the hub replicates to the store, which builds the new version off the serving
// path and swaps it in: requests keep being answered throughout (none fails), each by one whole
// version — the old one until the swap, the new one after — and the new state is the one a
// LiveModel of that version rebuilt from the same store holds.
TEST_F(ServingTest, PromotionSwapsTheVersionWithoutFailingARequest) {
  std::atomic<bool> done{false};
  std::atomic<int> answered{0}, failed{0}, went_back{0};
  std::thread load([&] {
    auto client = std::move(NodeClient::Connect(store_->Status().serving.predict_endpoint)).value();
    bool seen_new = false;
    for (int i = 0; i < 200000 && !done.load(); ++i) {
      auto reply = client->Request(R"({"op":"predict","devices":["store-0001/case-02"]})");
      nlohmann::json r = reply.ok() ? nlohmann::json::parse(*reply, nullptr, false) : nullptr;
      if (!r.is_object() || r["ok"] != true) {
        ++failed;
        continue;
      }
      ++answered;
      if (r["model"] == "lstm@2") seen_new = true;
      if (seen_new && r["model"] == "lstm@1") ++went_back;
    }
  });
  ASSERT_TRUE(testing::WaitFor([&] { return answered.load() > 50; }, 10000));
  auto promoted =
      NodeRequest(hub_->client_endpoint(),
                  R"({"op":"alias","name":"lstm","alias":"production","version":2})", "");
  ASSERT_TRUE(promoted.ok());
  ASSERT_NE(promoted->find("\"ok\":true"), std::string::npos) << *promoted;
  ASSERT_TRUE(WaitServing("lstm@2")) << store_->Status().serving.last_error;
  const int at_swap = answered.load();
  ASSERT_TRUE(testing::WaitFor([&] { return answered.load() > at_swap + 50; }, 10000));
  done = true;
  load.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(went_back.load(), 0) << "a request after the swap was answered by the old version";
  const ServingStatus s = store_->Status().serving;
  EXPECT_EQ(s.swaps, 2u) << "the first version, then the promoted one";
  EXPECT_GT(s.last_build_ms, 0);
  EXPECT_EQ(s.request_errors, 0u);

  std::unique_ptr<LiveModel> expected = Expected(2, nullptr);
  nlohmann::json r =
      Ask(R"({"op":"predict","devices":["store-0001/case-02","store-0002/case-01"]})");
  ASSERT_EQ(r["ok"], true);
  EXPECT_EQ(r["model"], "lstm@2");
  for (const auto& p : r["predictions"]) {
    const PredictionRow* want = expected->Latest(p["device"].get<std::string>());
    ASSERT_NE(want, nullptr);
    EXPECT_NEAR(p["prediction_s"].get<double>(), want->prediction_s, 1e-9);
  }
  // A store node owns no registry: a promotion sent to it is refused, saying where to send it.
  auto refused =
      NodeRequest(store_->client_endpoint(),
                  R"({"op":"alias","name":"lstm","alias":"production","version":1})", "");
  ASSERT_TRUE(refused.ok());
  EXPECT_NE(refused->find("the hub owns the model registry"), std::string::npos) << *refused;
}

}  // namespace
}  // namespace nemesyst
