// The leader side of one replication channel: a store's changes, sent to any number of followers
// (docs/replication.md, "Sessions").
//
// Per follower it keeps a session: opened by the follower's HELLO, answered by a WELCOME that
// either continues from the follower's position — when the follower's history and the stamp of
// its last applied change prove it holds a prefix of this store — or bootstraps it from a
// checkpoint. Then Pump() sends changes strictly in journal order, each CHANGES message saying
// which position it follows, within the credit the follower granted (bytes and changes, both
// cumulative per session), never more. A change bigger than a frame goes as FRAGMENTs that carry
// the XXH3-128 digest of the whole change and resume where a follower's partial copy stopped.
//
// ACKs carry the follower's applied and durable positions; they are remembered in the store's
// node state, so a follower that is away still holds the journal back (up to the caps: past them
// it will be bootstrapped, and the leader says so).
//
// Nothing here blocks on the network or on a follower: the caller's Send only queues.
// Thread-safety: one thread (the node's network thread).
#ifndef NEMESYST_NODES_LEADER_H_
#define NEMESYST_NODES_LEADER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "nemesyst/logger.h"
#include "nemesyst/store.h"
#include "nodes/snapshot.h"
#include "nodes/wire.h"

namespace nemesyst::nodes {

struct LeaderOptions {
  Channel channel = Channel::kData;
  uint64_t epoch = 0;                  // stamped on registry changes (0 for data)
  uint32_t max_frame_bytes = 1 << 20;  // payload bytes per frame
  uint32_t max_changes_per_message = 256;
  // Journal retention: trimmed to what every known follower has durably applied, but never
  // holding more than this behind the newest entry (bytes written, or age).
  uint64_t journal_cap_bytes = uint64_t{1} << 30;
  int64_t journal_cap_age_s = 7 * 24 * 3600;
  Logger* logger = nullptr;
};

// What the leader knows of one follower (for status and tests).
struct FollowerView {
  std::string peer;
  bool in_session = false;
  bool bootstrapping = false;
  uint64_t next_after = 0;  // the next change sent follows this position
  uint64_t applied = 0, durable = 0;
  uint64_t sent_bytes = 0, granted_bytes = 0;
  uint64_t sent_changes = 0, granted_changes = 0;
  int64_t last_heard_us = 0;
  int64_t last_sent_us = 0;
  uint64_t bootstraps = 0;  // how many times it was sent a snapshot
};

class Leader {
 public:
  using SendFn = std::function<void(const std::string& peer, WireMessage message)>;

  // `store` is the namespace's source; `snapshot_dir` is where checkpoints are made (on the
  // store's filesystem).
  Leader(Store* store, LeaderOptions options, const std::string& snapshot_dir);
  ~Leader();

  // HELLO, ACK, BOOT_FETCH, HEARTBEAT and ERROR from a follower of this channel.
  Status OnMessage(const std::string& peer, const WireMessage& message, const SendFn& send);
  // Sends what each follower in session may receive now. Call when the store changed, when
  // credit arrived, and now and then.
  Status Pump(const SendFn& send);
  // A follower's connection is gone: its session ends (its durable position is kept).
  void EndSession(const std::string& peer);
  // Trims the journal to what every follower it has heard of has durably applied, and no further
  // than `floor` (what another sink still needs) — unless the caps say so. Returns the position
  // trimmed through (0: nothing).
  Result<uint64_t> TrimJournal(uint64_t floor = UINT64_MAX);

  const std::map<std::string, FollowerView>& followers() const { return followers_; }
  uint64_t epoch() const { return options_.epoch; }
  // The durable position of `peer` (0 when unknown): what semi-sync waits for.
  uint64_t durable(const std::string& peer) const;

 private:
  struct Pending;  // a change being sent in fragments
  // Changes read for a follower but not sent yet (out of credit): the changes following `after`.
  struct Readahead {
    uint64_t after = 0;
    std::deque<Store::Change> changes;
  };
  Status RefreshJournalTally();
  Status OnHello(const std::string& peer, const WireMessage& hello, const SendFn& send);
  Status SendFragments(FollowerView& f, const SendFn& send);
  Status PumpOne(FollowerView& f, const SendFn& send);
  void RememberDurable(const FollowerView& f);
  std::string StateKey(const std::string& peer) const;

  Store* store_;
  LeaderOptions options_;
  SnapshotCache snapshots_;
  std::map<std::string, FollowerView> followers_;
  std::map<std::string, std::unique_ptr<Pending>> pending_;
  std::map<std::string, Readahead> ahead_;
  // Every retained journal entry's size and time, oldest first (the caps' arithmetic), and their
  // sum: kept up to date incrementally so a trim does not rescan the journal.
  std::deque<JournalPoint> retained_;
  uint64_t retained_bytes_ = 0;
  std::map<std::string, int64_t> remembered_us_;  // last node-state write per follower
};

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_LEADER_H_
