// Faults of whole processes: the hub or the store SIGKILLed at random moments while appends keep
// coming (ChaosRounds(20) rounds each, NEMESYST_CHAOS_ROUNDS for more), and the hub SIGSTOPped
// past the semi-sync timeout. After every kill the hub's copy is a prefix of the store's and
// holds every append the hub had acknowledged; at the end it has caught up completely.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "tests/nodes/cluster_fixture.h"

namespace nemesyst::testing {
namespace {

constexpr int kRows = 100;

// Appends batch after batch to store node `id` until stopped, remembering which ones the hub
// acknowledged (semi-sync "replicated": true).
class Writer {
 public:
  // `timeout_ms`: how long one append may take (an append sent just before its node died is
  // never answered).
  Writer(Cluster& cluster, const std::string& id, int timeout_ms)
      : endpoint_(cluster.StoreClient(id)) {
    thread_ = std::thread([this, timeout_ms] {
      for (int batch = 0; !stop_.load(); ++batch) {
        nlohmann::json r = NodeAppend(endpoint_, "feed", BatchCsv(batch, kRows), timeout_ms);
        if (!r.is_object()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the node is down
          continue;
        }
        std::lock_guard lock(mu_);
        ++answered_;
        if (r.value("replicated", false)) acked_.push_back(batch);
      }
    });
  }
  ~Writer() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<int> acked() {
    std::lock_guard lock(mu_);
    return acked_;
  }
  int answered() {
    std::lock_guard lock(mu_);
    return answered_;
  }

 private:
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<int> acked_;
  int answered_ = 0;
  std::thread thread_;
};

// Every acknowledged batch's rows are in `rows`.
::testing::AssertionResult HasBatches(const std::vector<Row>& rows,
                                      const std::vector<int>& batches) {
  std::set<int64_t> have;
  for (const Row& r : rows) have.insert(r.timestamp_us);
  for (int batch : batches) {
    for (int i = 0; i < kRows; ++i) {
      if (have.count((int64_t{batch} * 1000 + i) * 1000000) == 0) {
        return ::testing::AssertionFailure() << "acknowledged batch " << batch << " is missing";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

std::vector<std::string> SemiSync(int timeout_ms) {
  return {"--set", "node.ack_mode=semi-sync", "--set",
          "node.semi_sync_timeout_ms=" + std::to_string(timeout_ms)};
}

TEST(ReplicationKillTest, HubKilledAtRandomMomentsLosesNoAcknowledgedAppend) {
  Cluster cluster;
  cluster.StartHub();
  cluster.StartStore("s1", SemiSync(5000));
  cluster.CreateFeed("s1");
  std::mt19937 rng(20261205);
  Writer writer(cluster, "s1", 6000);
  const int rounds = ChaosRounds(20);
  for (int round = 0; round < rounds; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 250));
    const std::vector<int> acked = writer.acked();
    cluster.hub()->Kill();
    const std::vector<Row> copy = ReadRows(cluster.HubReplica("s1"));
    EXPECT_TRUE(IsPrefix(copy, ReadRows(cluster.Path("s1")))) << "round " << round;
    EXPECT_TRUE(HasBatches(copy, acked)) << "round " << round;
    cluster.StartHub();
  }
  // Progress: once the hub stays up, acknowledgements resume. Mid-chaos there may be few: under
  // the sanitizers on a slow guest a hub restart can outlast the 50–300 ms between kills (seen:
  // 1 of 959 appends acknowledged in 20 rounds), so wait, bounded, for the writer to get ahead.
  for (int i = 0; i < 300 && writer.acked().size() <= size_t(rounds); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  writer.Stop();
  std::printf("hub kills: %d rounds, %d appends answered, %zu acknowledged by the hub\n", rounds,
              writer.answered(), writer.acked().size());
  EXPECT_GT(writer.acked().size(), size_t(rounds)) << "the writer made progress";
  ASSERT_TRUE(cluster.WaitCaughtUp("s1")) << cluster.Path("s1");
  EXPECT_EQ(Digest(cluster.HubReplica("s1")), Digest(cluster.Path("s1")));
  EXPECT_TRUE(HasBatches(ReadRows(cluster.HubReplica("s1")), writer.acked()));
}

TEST(ReplicationKillTest, StoreKilledAtRandomMomentsResumesAndStaysAPrefix) {
  Cluster cluster;
  cluster.StartHub();
  cluster.StartStore("s1", SemiSync(5000));
  cluster.CreateFeed("s1");
  std::mt19937 rng(5);
  Writer writer(cluster, "s1", 700);
  const int rounds = ChaosRounds(20);
  for (int round = 0; round < rounds; ++round) {
    // Each round lets the restarted node take a few appends before the next kill.
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 300));
    const std::vector<int> acked = writer.acked();
    cluster.store("s1")->Kill();
    const std::vector<Row> source = ReadRows(cluster.Path("s1"));
    const std::vector<Row> copy = ReadRows(cluster.HubReplica("s1"));
    EXPECT_TRUE(IsPrefix(copy, source)) << "round " << round;
    EXPECT_TRUE(HasBatches(source, acked)) << "round " << round;
    EXPECT_TRUE(HasBatches(copy, acked)) << "round " << round;
    cluster.StartStore("s1", SemiSync(5000));
  }
  writer.Stop();
  std::printf("store kills: %d rounds, %d appends answered, %zu acknowledged by the hub\n", rounds,
              writer.answered(), writer.acked().size());
  EXPECT_GT(writer.acked().size(), size_t(rounds));
  ASSERT_TRUE(cluster.WaitCaughtUp("s1"));
  EXPECT_EQ(Digest(cluster.HubReplica("s1")), Digest(cluster.Path("s1")));
}

// Semi-sync with the hub frozen (SIGSTOP) past the timeout: appends degrade to async and keep
// going; once the hub runs again (SIGCONT) it catches up and semi-sync resumes by itself.
TEST(ReplicationKillTest, AStoppedHubDegradesSemiSyncAndItResumesAfterward) {
  Cluster cluster;
  cluster.StartHub();
  cluster.StartStore("s1", SemiSync(300));
  cluster.CreateFeed("s1");
  const std::string client = cluster.StoreClient("s1");
  nlohmann::json r = NodeAppend(client, "feed", BatchCsv(0, kRows));
  ASSERT_TRUE(r.value("replicated", false)) << r.dump();
  EXPECT_EQ(r["ack_mode"], "semi-sync");
  cluster.hub()->Signal(SIGSTOP);
  r = NodeAppend(client, "feed", BatchCsv(1, kRows));
  EXPECT_FALSE(r.value("replicated", true)) << r.dump();
  EXPECT_EQ(r["ack_mode"], "async (degraded)");
  const auto t0 = std::chrono::steady_clock::now();
  for (int batch = 2; batch < 12; ++batch) {
    r = NodeAppend(client, "feed", BatchCsv(batch, kRows));
    ASSERT_TRUE(r.value("ok", false)) << r.dump();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2500))
      << "degraded appends do not wait for the hub";
  EXPECT_EQ(NodeStatusJson(client)["ack_mode"], "async (degraded)");
  cluster.hub()->Signal(SIGCONT);
  ASSERT_TRUE(cluster.WaitCaughtUp("s1"));
  EXPECT_TRUE(WaitFor([&] { return NodeStatusJson(client)["ack_mode"] == "semi-sync"; }, 5000));
  r = NodeAppend(client, "feed", BatchCsv(12, kRows));
  EXPECT_TRUE(r.value("replicated", false)) << r.dump();
  ASSERT_TRUE(cluster.WaitCaughtUp("s1"));
  EXPECT_EQ(ReadRows(cluster.HubReplica("s1")).size(), 13u * kRows);
  EXPECT_NE(cluster.store("s1")->log().find("degrading to async"), std::string::npos);
}

}  // namespace
}  // namespace nemesyst::testing
