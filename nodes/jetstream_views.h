// A hub worker's per-store views, built from the stores' JetStream logs (docs/scale-out.md,
// "Hub workers").
//
// Any number of hub processes run this, each with its own views directory. The stores are shared
// out through two key-value buckets:
//  - <prefix>_workers: each live worker writes its key every lease_ms / 3; entries expire after
//    lease_ms, so a worker that died or froze drops out of the list by itself;
//  - <prefix>_owners: store id → the worker holding its view (no expiry).
// A worker takes stores nobody holds, or whose worker is no longer live, up to its fair share
// (stores / live workers, rounded up), by a compare-and-set on the owner key (create, or update
// at the revision it saw), so two workers never both win a store; it hands stores beyond its
// share back (workers joined since) and stops a view whose owner key names another worker.
// One write per round whatever the number of stores; owner and store keys are followed with
// watchers, not polled. A worker taking a store over builds its view from the log (from the
// start for a store it never held, from its own applied position otherwise). Stores announce
// themselves in <prefix>_stores (jetstream_sink.h).
//
// Per owned store a LogFeed (nodes/jetstream_feed.h) applies the store's log to the view, with a
// durable pull consumer made for this worker and store, acking each message once it is on disk.
// The views are stores at <views_dir>/<store id>, the layout the hub's training reads.
//
// Thread-safety: Views() and Owned() may be called from any thread.
#ifndef NEMESYST_NODES_JETSTREAM_VIEWS_H_
#define NEMESYST_NODES_JETSTREAM_VIEWS_H_

#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nats/nats.h>

#include "nemesyst/logger.h"
#include "nemesyst/node.h"

namespace nemesyst::nodes {

class NatsConnection;

struct JetStreamViewsOptions {
  JetStreamOptions jetstream;
  std::string worker_id;
  std::filesystem::path views_dir;
  Logger* logger = nullptr;
};

class JetStreamViews {
 public:
  // Starts the lease thread (it connects in the background and keeps retrying).
  static Result<std::unique_ptr<JetStreamViews>> Start(JetStreamViewsOptions options);
  ~JetStreamViews();  // stops the feeders and the lease thread; the leases lapse

  // One entry per owned view (transport "jetstream", direction "follower").
  std::vector<PeerStatus> Views() const;
  // Stores currently owned (sorted).
  std::vector<std::string> Owned() const;

  class Feeder;

 private:
  explicit JetStreamViews(JetStreamViewsOptions options);
  void Run();
  Status Connect();
  Status Round();
  Status Announce();
  void Heartbeat();

  JetStreamViewsOptions options_;
  std::unique_ptr<NatsConnection> connection_;
  struct Buckets;
  std::unique_ptr<Buckets> buckets_;
  mutable std::mutex mu_;  // guards feeders_ and stop_
  std::condition_variable cv_;
  bool stop_ = false;
  struct Lease {
    uint64_t revision = 0;
    std::unique_ptr<Feeder> feeder;
  };
  std::map<std::string, Lease> owned_;
  std::string last_error_;
  kvStore* workers_bucket_ = nullptr;  // set once connected (guarded by mu_)
  std::thread thread_, heartbeat_;
};

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_JETSTREAM_VIEWS_H_
