// The follower side of one replication channel: a replica store that applies its leader's
// changes (docs/replication.md, "Sessions").
//
// A session starts with HELLO: the replica's history, the position it has applied and that
// change's stamp (so the leader can prove the replica holds a prefix of its own history), the
// credit it grants, and what it holds of a change arriving in fragments. The leader answers
// WELCOME: continue, or bootstrap from a snapshot.
//
// Apply rules: each change is applied with its position in one atomic write (Store::ApplyChange),
// so the applied position is exactly what the replica holds, across crashes. A CHANGES message
// says which position it follows; a change at or below the applied position is a duplicate
// (skipped, re-acknowledged); one that does not follow the applied position is a gap, and a
// change that fails its checksum is refused — both end the session and HELLO asks again from the
// applied position. Nothing is ever skipped.
//
// Credit: the follower grants, per session, the bytes and changes it has received plus a window;
// the leader never sends past it. ACKs (after each message, and every tick as a heartbeat) carry
// the applied and durable positions (equal: replicas write with group durability).
//
// Registry channel: changes carry the hub's epoch; the highest one accepted is kept with the
// replica and a lower one is refused (a demoted hub cannot push).
//
// Thread-safety: one thread (the node's network thread).
#ifndef NEMESYST_NODES_FOLLOWER_H_
#define NEMESYST_NODES_FOLLOWER_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "nemesyst/logger.h"
#include "nemesyst/store.h"
#include "nodes/snapshot.h"
#include "nodes/wire.h"

namespace nemesyst::nodes {

struct FollowerOptions {
  Channel channel = Channel::kData;
  std::filesystem::path replica_path;  // the replica store (created when missing)
  StoreOptions store;                  // durability is forced to group
  uint64_t window_bytes = 16 << 20;    // credit beyond what has arrived
  uint64_t window_changes = 4096;
  uint32_t max_frame_bytes = 1 << 20;
  uint32_t bootstrap_chunks_in_flight = 4;
  bool check_epoch = false;         // the registry channel refuses lower epochs
  int64_t stall_timeout_ms = 3000;  // no progress while behind: ask again
  // Called on the follower's thread just before a bootstrap closes the replica and swaps in the
  // new one: whoever reads replica() on other threads lets go of it here.
  std::function<void()> before_replica_swap;
  Logger* logger = nullptr;
};

struct FollowerStatus {
  bool in_session = false;
  bool bootstrapping = false;
  uint64_t applied = 0;
  uint64_t leader_last = 0;        // the leader's newest position, as last heard
  int64_t applied_written_us = 0;  // when the newest applied change was written at its source
  uint64_t bootstrap_received = 0, bootstrap_total = 0;
  uint64_t bootstraps = 0;     // completed
  uint64_t epoch = 0;          // highest accepted (registry)
  uint64_t partial_bytes = 0;  // of a change arriving in fragments
  uint64_t duplicates = 0, gaps = 0, checksum_failures = 0, stale_epochs = 0;
  uint64_t resyncs = 0;  // sessions restarted to recover (gap, checksum, stall)
  std::string last_error;
};

class Follower {
 public:
  using SendFn = std::function<void(WireMessage message)>;

  static Result<std::unique_ptr<Follower>> Open(FollowerOptions options);
  ~Follower();

  // Starts a session: the HELLO to send.
  WireMessage Hello();
  // WELCOME, CHANGES, FRAGMENT, BOOT_CHUNK, HEARTBEAT and ERROR from the leader.
  Status OnMessage(const WireMessage& message, const SendFn& send);
  // Heartbeat ACKs, and asking again when stalled (behind the leader without progress).
  void Tick(const SendFn& send);
  // The connection is gone: the session ends (a new one starts with Hello()).
  void EndSession();

  Store& replica() { return *replica_; }
  const FollowerStatus& status() const { return status_; }

 private:
  explicit Follower(FollowerOptions options);
  Status OpenReplica();
  WireMessage Ack() const;
  Status OnWelcome(const WireMessage& m, const SendFn& send);
  Status OnChanges(const WireMessage& m, const SendFn& send);
  Status OnFragment(const WireMessage& m, const SendFn& send);
  Status OnBootChunk(const WireMessage& m, const SendFn& send);
  bool AcceptEpoch(uint64_t epoch, const SendFn& send);
  void Resync(const SendFn& send, const std::string& why);
  void RequestChunks(const SendFn& send);
  void Progress();
  Status SavePartial() const;
  void ResetPartial();

  FollowerOptions options_;
  std::unique_ptr<Store> replica_;
  FollowerStatus status_;
  BootstrapReceiver receiver_;
  HistoryInfo bootstrap_history_;
  // Per session.
  uint64_t received_bytes_ = 0, received_changes_ = 0;
  uint32_t chunks_in_flight_ = 0;
  // The next chunk to fetch (a sliding window of bootstrap_chunks_in_flight over the files);
  // invalid: start again from what is on disk.
  bool fetch_cursor_valid_ = false;
  uint32_t fetch_file_ = 0;
  uint64_t fetch_offset_ = 0;
  void ResetFetches() {
    chunks_in_flight_ = 0;
    fetch_cursor_valid_ = false;
  }
  int64_t last_progress_us_ = 0, hello_sent_us_ = 0;
  // A change arriving in fragments (kept on disk: resumes across reconnects and restarts).
  struct Partial {
    uint64_t position = 0;
    uint64_t total = 0;
    uint64_t have = 0;
    std::string digest;
  } partial_;
};

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_FOLLOWER_H_
