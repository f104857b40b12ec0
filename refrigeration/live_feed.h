// The stores' live feeds during the fleet demo (docs/demo.md, "The fleet form"): every store node
// gets its readings instant by instant through append requests (one per store and instant, as a
// store server posting each minute's readings), while a subscriber to every store's predictions
// measures the time from a reading's append to its prediction arriving. The last `hold_back`
// instants wait for Release(), so the demo can swap the model while readings still arrive.
//
// And SwapProbe: predict requests sent in a loop to one store while a new version is deployed,
// counting the ones that fail (a hot swap must fail none).
//
// Thread-safety: Start/Release/Finish from one thread; the feeds and the subscriber run on their
// own threads.
#ifndef NEMESYST_REFRIGERATION_LIVE_FEED_H_
#define NEMESYST_REFRIGERATION_LIVE_FEED_H_

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nemesyst/status.h"
#include "nemesyst/store.h"
#include "refrigeration/fleet_deployment.h"

namespace nemesyst::refrigeration {

struct LiveFeedOptions {
  int pace_ms = 250;   // between two instants
  int hold_back = 30;  // the last instants, pushed after Release()
};

struct LiveFeedReport {
  uint64_t readings = 0;
  uint64_t instants = 0;
  uint64_t predictions = 0;  // received by the subscriber
  std::map<std::string, uint64_t> predictions_by_model;
  // Reading appended → its prediction received, milliseconds.
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  double seconds = 0;
};

class LiveFeed {
 public:
  // `by_store`: each store's readings (any order); they are pushed grouped by instant.
  static Result<std::unique_ptr<LiveFeed>> Start(
      FleetDeployment& fleet, const std::map<std::string, std::vector<Record>>& by_store,
      const LiveFeedOptions& options);
  ~LiveFeed();
  void Release();
  // Waits until every instant is pushed and (up to timeout_ms) every reading's prediction came.
  Result<LiveFeedReport> Finish(int timeout_ms);

 private:
  LiveFeed() = default;
  void Feed();
  void Subscribe();

  FleetDeployment* fleet_ = nullptr;
  LiveFeedOptions options_;
  std::vector<int64_t> instants_;  // ascending timestamps
  std::map<std::string, std::map<int64_t, std::vector<Record>>> by_store_;
  uint64_t readings_ = 0;
  std::unique_ptr<PredictionSubscriber> subscriber_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  Status feed_status_;
  std::map<std::pair<std::string, int64_t>, std::chrono::steady_clock::time_point> sent_;
  std::vector<double> latency_ms_;
  std::map<std::string, uint64_t> by_model_;
  uint64_t predictions_ = 0;
  std::atomic<bool> stop_{false}, fed_{false};
  std::chrono::steady_clock::time_point started_;
  std::thread feed_thread_, subscribe_thread_;
};

struct SwapProbeReport {
  uint64_t requests = 0, failed = 0;
  std::map<std::string, uint64_t> answered_by_model;
  double p50_ms = 0, p99_ms = 0;
};

class SwapProbe {
 public:
  SwapProbe(std::string predict_endpoint, std::string device);
  ~SwapProbe();
  SwapProbeReport Stop();

 private:
  void Run();
  std::string endpoint_, device_;
  std::atomic<bool> stop_{false};
  SwapProbeReport report_;
  std::vector<double> latency_ms_;
  std::thread thread_;
};

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_LIVE_FEED_H_
