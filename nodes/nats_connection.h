// A connection to a NATS cluster with JetStream, made from JetStreamOptions, and the few calls
// the log, its publishers and the hub workers share: errors as Status, the log stream and the
// key-value buckets made when missing.
//
// Reconnection is the client library's: a connection survives a server's restart by moving to
// another server of the list (and back); calls made meanwhile fail with a timeout, and callers
// retry. Thread-safety: the connection and its JetStream context may be used from any thread
// (nats.c locks internally); a NatsConnection must outlive every subscription made from it.
#ifndef NEMESYST_NODES_NATS_CONNECTION_H_
#define NEMESYST_NODES_NATS_CONNECTION_H_

#include <nats/nats.h>

#include <memory>
#include <string>
#include <string_view>

#include "nemesyst/node.h"
#include "nemesyst/status.h"

namespace nemesyst::nodes {

// A nats.c call's outcome as a Status, naming what was being done: NATS_NOT_FOUND → NotFound,
// NATS_TIMEOUT → DeadlineExceeded, a JetStream error → its code and the library's last error.
Status NatsStatus(natsStatus s, std::string_view what,
                  jsErrCode js_error = static_cast<jsErrCode>(0));

// Checks the options (servers given and parseable, loopback unless TLS or plaintext allowed,
// replicas 1..5, sizes and timeouts positive).
Status ValidateJetStreamOptions(const JetStreamOptions& options, bool plaintext_beyond_loopback);

// Subject and consumer names for a store id (node ids are [A-Za-z0-9_.-]; '.' separates subject
// tokens and is not allowed in consumer names, so it is written '%', which ids never contain).
std::string SubjectToken(std::string_view store_id);
std::string LogSubject(const JetStreamOptions& options, std::string_view store_id);
// The hub's registry log: <prefix>.registry.
std::string RegistrySubject(const JetStreamOptions& options);

class NatsConnection {
 public:
  // Connects (waits up to `timeout_ms` for a server) and makes the JetStream context whose calls
  // wait up to options.publish_timeout_ms. `name` is shown in the servers' connection lists.
  static Result<std::unique_ptr<NatsConnection>> Connect(const JetStreamOptions& options,
                                                         const std::string& name,
                                                         int64_t timeout_ms);
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  // Makes the log stream (subjects <prefix>.log.> and <prefix>.registry) unless it exists; an
  // existing one is kept as it is (its replicas and limits are the operator's).
  Status EnsureLogStream();
  // Opens the key-value bucket `<prefix>_<name>` (made when missing, with `ttl_ms` per entry,
  // 0 = none). The handle is the connection's: freed with it.
  Result<kvStore*> Bucket(std::string_view name, int64_t ttl_ms);

  natsConnection* connection() { return connection_; }
  jsCtx* jetstream() { return jetstream_; }
  const JetStreamOptions& options() const { return options_; }

 private:
  explicit NatsConnection(JetStreamOptions options) : options_(std::move(options)) {}
  JetStreamOptions options_;
  natsConnection* connection_ = nullptr;
  jsCtx* jetstream_ = nullptr;
  std::vector<kvStore*> buckets_;
};

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_NATS_CONNECTION_H_
