// Live serving on a store node (docs/serving.md): the production model kept live over the node's
// stream, predictions published as readings arrive, predict requests answered, new versions
// swapped in without a pause in service.
//
// Threads and what they own:
//  - the serving thread: the LiveModel in use, the PUB socket (predictions) and the ROUTER socket
//    (predict requests). Everything that touches the served model runs here, one thing at a time,
//    so a request never sees a model half-swapped and never waits on a lock held by a build.
//  - the builder thread: loads, checks, rebuilds the state of and warms a new version, then hands
//    it to the serving thread; it also frees the version swapped out (freeing a large model takes
//    time the serving thread should not spend).
//  - callers: the network thread (Track: which version the reference resolves to now) and the
//    client worker (OnAppended: records committed to the store, in commit order).
//
// Readings reach the model from the store, never from the message: a reading is predicted only
// once it is committed, and what a restart or a new version rebuilds from is what was served.
#ifndef NEMESYST_NODES_SERVING_H_
#define NEMESYST_NODES_SERVING_H_

#include <zmq.hpp>

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nemesyst/live_model.h"
#include "nemesyst/logger.h"
#include "nemesyst/node.h"
#include "nemesyst/store.h"
#include "nodes/latency_recorder.h"

namespace nemesyst::nodes {

// The largest predict request (a window of readings as JSON).
inline constexpr size_t kMaxPredictRequestBytes = size_t{1} << 20;

class Serving {
 public:
  using Clock = std::chrono::steady_clock;

  // `store` (the node's own) must outlive the Serving.
  Serving(zmq::context_t& context, Store* store, const NodeOptions& options, Logger* logger);
  ~Serving();  // Stop()
  Serving(const Serving&) = delete;
  Serving& operator=(const Serving&) = delete;

  // Binds the PUB and ROUTER endpoints ("*" ports resolved) and starts the threads.
  Status Start();
  void Stop();  // idempotent
  const std::string& predictions_endpoint() const { return predictions_endpoint_; }
  const std::string& predict_endpoint() const { return predict_endpoint_; }

  // Network thread: resolves the served reference in `registry` (the registry replica) — a
  // deployment to this node first — and a version not yet served or being built is read, its
  // SHA-256 checked against the registry's, and handed to the builder. Cheap when nothing changed.
  void Track(const Store& registry);
  // Client worker thread: `ranges` of `stream` were committed (in commit order) by an append that
  // arrived at `arrived`.
  void OnAppended(const std::string& stream, const std::vector<SeqRange>& ranges,
                  Clock::time_point arrived);
  // Any thread.
  ServingStatus Snapshot() const;
  // Any thread: the model served, its stream, and every device's newest prediction (a dispatch
  // plans from these).
  struct LiveView {
    std::string model, stream;
    std::vector<PredictionRow> latest;
  };
  LiveView Latest() const;

 private:
  struct Reply {
    bool ok = true;
    std::string json;
  };
  static Reply Fail(const Status& status);
  struct Built {
    std::unique_ptr<LiveModel> live;
    std::string stream;
    uint64_t through = 0;  // the rebuild read the stream through this seq
    double build_ms = 0;
  };
  struct Appended {
    std::string stream;
    SeqRange range;
    Clock::time_point arrived;
  };

  // What to serve: a deployment to this node (alias <name>:deploy.<node id>) if there is one,
  // else serve_model's resolution.
  Result<ResolvedModel> Resolve(const Store& registry) const;
  void ServeLoop();
  void BuildLoop();
  Result<Built> Build(const ResolvedModel& version, const std::string& blob) const;
  void Wake();
  void OnWake();
  void Apply(const Appended& appended);
  void SwapIn(Built built);
  void OnRequest();
  Reply Answer(const std::string& request, std::string_view data);
  Reply PredictLive(const std::vector<std::string>& devices) const;
  Reply PredictWindow(const nlohmann::json& window, std::string_view data);
  void Publish(const PredictionRow& row, uint64_t seq);
  void SetError(const std::string& error);

  zmq::context_t& context_;
  Store* store_;
  const NodeOptions options_;
  Logger* log_;
  std::string predictions_endpoint_, predict_endpoint_;

  // Serving thread.
  std::unique_ptr<zmq::socket_t> pub_, router_, wake_in_;
  std::unique_ptr<LiveModel> live_;
  std::string stream_;            // the stream live_ serves
  uint64_t applied_through_ = 0;  // live_ has seen the stream's records through this seq

  // Handed between threads (mu_).
  mutable std::mutex mu_;
  std::condition_variable build_cv_;
  std::unique_ptr<zmq::socket_t> wake_out_;  // sent under mu_ by any thread
  std::deque<Appended> appended_;
  std::unique_ptr<Built> ready_;                     // built, waiting to be swapped in
  std::vector<std::unique_ptr<LiveModel>> retired_;  // swapped out, freed by the builder
  struct Wanted {
    ResolvedModel version;
    std::string blob;
  };
  std::unique_ptr<Wanted> wanted_;
  bool stopping_ = false;
  // Status.
  std::string model_, building_, served_stream_, last_error_;
  ServingStatus counters_;                       // numeric fields only
  std::map<std::string, PredictionRow> latest_;  // what Latest() returns
  uint64_t devices_ = 0;

  // Network thread.
  std::string tracked_;  // the version last handed to the builder ("lstm@3")

  LatencyRecorder request_latency_, publish_latency_;
  std::thread serve_thread_, build_thread_;
};

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_SERVING_H_
