// A store's change journal published to its JetStream log (docs/scale-out.md, "Publishing").
//
// One thread per sink reads the journal after the position JetStream last acknowledged and
// publishes it in messages of up to max_message_bytes (jetstream_log.h), one at a time, each
// with:
//  - a message id naming store, history and the run it carries: a resend after a lost ack (or a
//    crash) is de-duplicated by JetStream within its window;
//  - the expected last sequence of the store's subject (the previous message's): if anything
//    else reached the subject — a stale copy of this store, a publish whose ack was lost — the
//    publish is refused and the sink resumes from the log's tail instead of leaving a gap or a
//    double.
// Resuming (at start, after any error) reads the last message of the subject: the log's history,
// position and that change's stamp must be this store's own past (else it stops with an error
// naming both: a store restored from a backup needs its views rebuilt), and publishing continues
// after it. A store offline for a while thus resumes exactly where JetStream's acknowledgements
// stopped. The position acknowledged is also kept in the store's node state (the journal is
// trimmed only through it).
//
// Nothing here blocks the caller: the network waits happen on the sink's thread, which keeps
// reconnecting (with backoff) while no server answers.
#ifndef NEMESYST_NODES_JETSTREAM_SINK_H_
#define NEMESYST_NODES_JETSTREAM_SINK_H_

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "nemesyst/logger.h"
#include "nemesyst/node.h"
#include "nemesyst/store.h"
#include "nodes/jetstream_log.h"
#include "nodes/replication_sink.h"

namespace nemesyst::nodes {

class NatsConnection;

struct JetStreamSinkOptions {
  JetStreamOptions jetstream;
  std::string store_id;  // names the messages' source and the subject: <prefix>.log.<store_id>
  // A hub's registry: published on <prefix>.registry with this epoch (> 0). The log may then
  // have been written by another hub before: this one continues it only if that hub's epoch is
  // lower and this hub holds the same history through its last position (it followed the log as
  // a standby); a higher or equal epoch at the tail fences this hub off.
  uint64_t registry_epoch = 0;
  Logger* logger = nullptr;
};

class JetStreamSink final : public ReplicationSink {
 public:
  // Starts the publishing thread. `store` must outlive the sink.
  static Result<std::unique_ptr<JetStreamSink>> Start(Store* store, JetStreamSinkOptions options);
  ~JetStreamSink() override;  // stops the thread (a publish in flight finishes or times out)

  uint64_t durable_position() const override { return acked_.load(); }
  PeerStatus status() const override;
  void Notify() override;

  // The node-state key holding the acknowledged position.
  static constexpr const char* kStateKey = "jetstream.published";

 private:
  JetStreamSink(Store* store, JetStreamSinkOptions options);
  void Run();
  Status Connect();
  Status Resume();
  // Publishes the next message; false when the journal has nothing after what was acknowledged.
  Result<bool> PublishNext();
  // A message's fields for a run ending with `last` (after what was published).
  Result<LogMessage> Header(LogMessageKind kind, const Store::Change& last) const;
  Status PublishChanges(std::vector<Store::Change> changes);
  Status PublishFragments(const Store::Change& change);
  Status Publish(const std::string& id, const std::string& payload);
  void Acknowledged(uint64_t position);
  void SetError(const Status& status);
  void WaitFor(int64_t ms);

  Store* store_;
  JetStreamSinkOptions options_;
  std::string subject_;
  std::unique_ptr<NatsConnection> connection_;  // the thread's
  bool resumed_ = false;
  uint64_t subject_seq_ = 0;  // the JetStream sequence of the subject's last message
  uint64_t published_ = 0;    // the journal position the log holds through
  int64_t persisted_us_ = 0;
  std::atomic<uint64_t> acked_{0};
  std::atomic<uint64_t> messages_{0}, duplicates_{0}, refusals_{0};
  std::atomic<bool> connected_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, notified_ = false;
  std::string last_error_;
  std::thread thread_;
};

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_JETSTREAM_SINK_H_
