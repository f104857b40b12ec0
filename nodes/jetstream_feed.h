// A log on JetStream applied to a store (docs/scale-out.md): a hub worker's view of one store's
// log, a store node's registry replica following the hub's registry log, a standby hub following
// it into its own registry.
//
// One thread holds a durable pull consumer on the subject, made afresh from the target's recorded
// sequence whenever the feed (re)subscribes — the target, not the consumer, is the truth about
// what was applied. Each message is applied (Store::ApplyChanges; targets write with group
// durability, so it is on disk) and then acked explicitly:
//  - a message at or below the target's applied position is a duplicate: acked, counted, skipped;
//  - one that does not follow the applied position is a gap: nothing is applied or acked, the
//    consumer is made again from the target's position, and the error stays in the status until
//    the log delivers what follows (never skipped);
//  - fragments are assembled in memory, applied once the digest matches, then acked together
//    (a worker killed half-way gets them all again);
//  - data logs: a message naming another store, or another history than the target's, is
//    refused (a store's new history needs its view rebuilt);
//  - registry logs (check_epoch): any hub may publish, but a message of an epoch below the
//    highest accepted is refused and counted (stale_epochs) — a demoted hub cannot push; the
//    highest epoch is kept in the target's node state ("replication.epoch", as the ZeroMQ
//    follower keeps it).
//
// Thread-safety: status() and epoch() may be called from any thread.
#ifndef NEMESYST_NODES_JETSTREAM_FEED_H_
#define NEMESYST_NODES_JETSTREAM_FEED_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nats/nats.h>

#include "nemesyst/logger.h"
#include "nemesyst/node.h"
#include "nemesyst/store.h"
#include "nodes/jetstream_log.h"

namespace nemesyst::nodes {

class NatsConnection;

struct LogFeedOptions {
  JetStreamOptions jetstream;
  std::string subject;  // the log
  std::string durable;  // the consumer's name (unique per reader and log)
  std::string peer;     // names the feed in status
  std::string channel = "data";
  std::string expected_source;  // data logs: the store every message names; empty: any
  bool check_epoch = false;     // registry logs
  Logger* logger = nullptr;
};

// The feed of the registry log (<prefix>.registry) into a registry copy kept by node `node_id`
// (a store node's replica, a standby hub's own registry): epoch-fenced, any hub as the source.
LogFeedOptions RegistryFeedOptions(const JetStreamOptions& jetstream, const std::string& node_id,
                                   Logger* logger);

class LogFeed {
 public:
  // Starts the thread. `target` must outlive the feed; so must `shared` (a connection to use;
  // null: the feed connects on its own, retrying while no server answers).
  LogFeed(Store* target, LogFeedOptions options, NatsConnection* shared = nullptr);
  ~LogFeed();  // stops the thread (a fetch in flight ends within half a second)
  LogFeed(const LogFeed&) = delete;
  LogFeed& operator=(const LogFeed&) = delete;

  PeerStatus status() const;
  uint64_t epoch() const { return epoch_.load(); }

 private:
  void Run();
  Status Connect();
  Status Subscribe();
  void Unsubscribe();
  Status FetchOnce();
  Status Handle(natsMsg* msg, bool* held);
  Status HandleFragment(const LogMessage& m, natsMsg* msg, bool* held);
  bool AcceptEpoch(uint64_t epoch, natsMsg* msg);
  void ReleaseHeld(bool ack);
  void Applied(natsMsg* msg);
  void RecordSeq(bool now);
  void SetError(const Status& s);

  Store* target_;
  LogFeedOptions options_;
  NatsConnection* connection_;
  std::unique_ptr<NatsConnection> own_connection_;
  natsSubscription* sub_ = nullptr;
  bool draining_ = false;  // messages are flowing: fetch without waiting
  uint64_t seq_ = 0, recorded_seq_ = 0;
  int64_t recorded_us_ = 0;
  struct Partial {
    uint64_t position = 0, total = 0;
    std::string digest, data;
  } partial_;
  std::vector<natsMsg*> held_;
  std::atomic<bool> stop_{false}, subscribed_{false};
  std::atomic<uint64_t> applied_{0}, epoch_{0}, duplicates_{0}, gaps_{0}, checksum_failures_{0},
      resyncs_{0}, partial_bytes_{0}, stale_epochs_{0};
  mutable std::mutex mu_;
  std::string last_error_;
  std::thread thread_;
};

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_JETSTREAM_FEED_H_
