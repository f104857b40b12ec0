// The hub's dispatch aggregation (RunDispatch) against stores played by a thread on the other side
// of the exchange, which plan with the real PlanShed over fixed cases: shares, the second round
// for a shortfall, a silent store's share moved and the store released at the end, stale
// answers ignored. The network path is covered by dispatch_test.cc.
#include "nodes/hub_dispatch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "nodes/shed_messages.h"

namespace nemesyst::nodes {
namespace {

class ScriptedStores {
 public:
  // store id → each case's kW (all with a long predicted off-time); absent: silent.
  explicit ScriptedStores(DispatchExchange* exchange,
                          std::map<std::string, std::vector<double>> cases)
      : exchange_(exchange), cases_(std::move(cases)), thread_([this] { Run(); }) {}
  ~ScriptedStores() {
    stop_ = true;
    thread_.join();
  }
  std::vector<ShedAsk> asks(const std::string& store) {
    std::lock_guard lock(mu_);
    return asks_[store];
  }

 private:
  void Run() {
    while (!stop_) {
      for (auto& [store, text] : exchange_->TakeOutgoing()) {
        ShedAsk ask = DecodeShedAsk(text).value();
        {
          std::lock_guard lock(mu_);
          asks_[store].push_back(ask);
        }
        auto it = cases_.find(store);
        if (it == cases_.end()) continue;  // silent
        // A stale answer first (an earlier ask's), which the hub must ignore.
        ShedAnswer stale;
        stale.id = ask.id;
        stale.ask = ask.ask + 1000;
        stale.ok = true;
        stale.model = "m@1";
        exchange_->OnReply(store, EncodeShedAnswer(stale));
        std::vector<ShedCandidate> candidates;
        for (size_t i = 0; i < it->second.size(); ++i) {
          candidates.push_back({store + "/" + std::to_string(i), 10000, it->second[i]});
        }
        ShedPlan plan = PlanShed(ask.request, candidates).value();
        ShedAnswer a;
        a.id = ask.id;
        a.ask = ask.ask;
        a.ok = true;
        a.model = "m@1";
        a.asked_kw = ask.request.shed_kw;
        a.confirmed_kw = plan.selected_kw;
        a.available_kw = plan.eligible_kw;
        a.candidates = a.eligible = plan.eligible;
        a.cases = plan.chosen;
        exchange_->OnReply(store, EncodeShedAnswer(a));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  DispatchExchange* exchange_;
  std::map<std::string, std::vector<double>> cases_;
  std::mutex mu_;
  std::map<std::string, std::vector<ShedAsk>> asks_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

DispatchContext Context(DispatchExchange* exchange, std::vector<std::string> serving) {
  DispatchContext c;
  c.exchange = exchange;
  c.wake_network = [] {};
  for (const std::string& s : serving) c.served[s] = "m@1";
  c.node_id = "hub";
  return c;
}

TEST(HubDispatchTest, AShortfallIsAskedOfTheStoresWithRoomInASecondRound) {
  DispatchExchange exchange;
  ScriptedStores stores(&exchange, {{"a", {0.5, 0.5}}, {"b", std::vector<double>(10, 1.0)}});
  auto r = RunDispatch(Context(&exchange, {"a", "b"}),
                       {{"shed_kw", 6}, {"duration_s", 60}, {"retry_ms", 20}},
                       DispatchExchange::Clock::now() + std::chrono::seconds(10));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["ok"], nullptr) << "no error: " << r->dump();
  EXPECT_EQ((*r)["met"], true);
  EXPECT_DOUBLE_EQ((*r)["confirmed_kw"].get<double>(), 6.0);  // a: 1 (all it has), b: 3 then 5
  EXPECT_EQ((*r)["rounds"], 2);
  EXPECT_DOUBLE_EQ((*r)["stores"][0]["confirmed_kw"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ((*r)["stores"][1]["confirmed_kw"].get<double>(), 5.0);
  ASSERT_EQ(stores.asks("b").size(), 2u);
  EXPECT_DOUBLE_EQ(stores.asks("b")[0].request.shed_kw, 3.0);
  EXPECT_DOUBLE_EQ(stores.asks("b")[1].request.shed_kw, 5.0);
  EXPECT_EQ(stores.asks("a").size(), 1u) << "a had no room: not asked again";
}

TEST(HubDispatchTest, ASilentStoresShareMovesAndItIsReleasedAtTheDeadline) {
  DispatchExchange exchange;
  ScriptedStores stores(&exchange, {{"a", std::vector<double>(10, 1.0)}});
  auto r = RunDispatch(Context(&exchange, {"a", "silent"}),
                       {{"shed_kw", 6}, {"duration_s", 60}, {"retry_ms", 20}},
                       DispatchExchange::Clock::now() + std::chrono::milliseconds(400));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["ok"], false);
  EXPECT_EQ((*r)["code"], "deadline_exceeded");
  EXPECT_EQ((*r)["missing"], nlohmann::json::array({"silent"}));
  EXPECT_DOUBLE_EQ((*r)["confirmed_kw"].get<double>(), 6.0) << "a took the silent store's share";
  // Re-sent while silent; the last message it was sent releases it.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const std::vector<ShedAsk> asks = stores.asks("silent");
  ASSERT_GE(asks.size(), 3u);
  EXPECT_DOUBLE_EQ(asks.back().request.shed_kw, 0.0);
  EXPECT_GT(asks.back().ask, asks.front().ask);
}

TEST(ShedMessagesTest, AnswersThatDoNotAddUpOrHaveBadFieldsAreRefused) {
  ShedAnswer a;
  a.id = "d";
  a.ask = 1;
  a.ok = true;
  a.model = "m@1";
  a.confirmed_kw = 2;
  a.available_kw = 3;
  a.cases = {{"x", 900, 1.0, 10}, {"y", 900, 1.0, 10}};
  ASSERT_TRUE(DecodeShedAnswer(EncodeShedAnswer(a)).ok());
  a.confirmed_kw = 5;  // more than its cases
  EXPECT_FALSE(DecodeShedAnswer(EncodeShedAnswer(a)).ok());
  a.available_kw = 6;
  EXPECT_NE(DecodeShedAnswer(EncodeShedAnswer(a)).status().ToString().find("sum"),
            std::string::npos);
  for (const char* bad : {"", "[]", "{\"id\":\"d\",\"ask\":0,\"ok\":true}",
                          "{\"id\":\"d\",\"ask\":1}", "{\"id\":1,\"ask\":1,\"ok\":false}"}) {
    EXPECT_FALSE(DecodeShedAnswer(bad).ok()) << bad;
  }
  EXPECT_TRUE(DecodeShedAsk(EncodeShedAsk({"d", 1, {1, 60, 0}})).ok());
  EXPECT_FALSE(DecodeShedAsk(EncodeShedAsk({"d", 1, {-1, 60, 0}})).ok());
  EXPECT_FALSE(DecodeShedAsk(EncodeShedAsk({"", 1, {1, 60, 0}})).ok());
  EXPECT_FALSE(DecodeShedAsk("{\"id\":\"d\",\"ask\":1,\"shed_kw\":1e999}").ok());
}

}  // namespace
}  // namespace nemesyst::nodes
