// A node's client endpoints (docs/replication.md, "Client requests"; docs/serving.md, "Live
// ingest"): a ROUTER socket taking
// JSON requests — {"op":"status"} answered on the network thread; {"op":"append",...} with the
// rows in a second frame, and {"op":"create_stream",...}, handed to a worker thread (ingest
// parses and fsyncs; semi-sync waits for the hub) — and the replies sent back by the network
// thread when the worker is done. Malformed
// requests get an error reply; nothing a client sends can stop the node.
//
// Thread-safety: the sockets belong to the network thread (constructor, Poll*, On*); the append
// function runs on the worker thread.
#ifndef NEMESYST_NODES_CLIENT_SERVICE_H_
#define NEMESYST_NODES_CLIENT_SERVICE_H_

#include <zmq.hpp>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "nemesyst/logger.h"
#include "nemesyst/node.h"
#include "nemesyst/status.h"
#include "nodes/reply_worker.h"

namespace nemesyst::nodes {

inline constexpr size_t kMaxClientRequestBytes = kMaxNodeRequestJsonBytes;
inline constexpr size_t kMaxClientDataBytes = kMaxNodeRequestDataBytes;

class ClientService {
 public:
  // Network thread; returns the status as JSON.
  using StatusFn = std::function<std::string()>;
  // Worker thread: a write request ("append", "create_stream", or "push" from the ingest
  // endpoint: its op, JSON and data frame) → the reply JSON (a push's is not sent anywhere).
  // Null: writes are refused (the hub's streams are its stores').
  using WorkFn = std::function<std::string(const std::string& op, const std::string& request,
                                           const std::string& data)>;

  ClientService(zmq::context_t& context, Logger* logger, StatusFn status, WorkFn work);
  ~ClientService();
  // Binds `endpoint` ("tcp://127.0.0.1:*" allowed); the resolved endpoint is endpoint().
  Status Bind(const std::string& endpoint);
  const std::string& endpoint() const { return endpoint_; }
  // Binds the ingest endpoint: a PULL socket taking the frames of an append request (JSON, rows)
  // with no reply — what a feed PUSHes. They go to the worker as op "push", in arrival order
  // with the appends. At most kMaxQueuedPushes wait for the worker: past that the socket is not
  // read, its queue fills, and the feeds' PUSH sockets block (back-pressure, nothing dropped).
  Status BindPull(const std::string& endpoint);
  const std::string& pull_endpoint() const { return pull_endpoint_; }
  static constexpr size_t kMaxQueuedPushes = 64;

  zmq::socket_t& socket() { return socket_; }
  zmq::socket_t& wake() { return worker_.wake(); }
  // The PULL socket while the worker can take more pushes; null otherwise (or when not bound).
  zmq::socket_t* pull_when_ready();
  void OnRequest();  // the client socket is readable
  void OnPush();     // the PULL socket is readable
  void OnWake();     // the worker finished something: send its replies
  // Worker thread: wakes the network thread now (e.g. new changes to send before waiting for
  // the hub's acknowledgement of them).
  void Kick();
  // Any thread: runs `job` on the worker, in order with the writes (e.g. a dispatch plan, which
  // reads the store and must not hold up the network thread). Its result goes where it puts it.
  void Post(std::function<void()> job);
  void Stop();  // ends the worker (the sockets close with the object)

 private:
  void Reply(const std::string& routing_id, const std::string& json);
  // Runs work_ on the worker; an empty routing id is a push (counted, not answered).
  void PostWork(std::string routing_id, std::string op, std::string request, std::string data);

  zmq::context_t& context_;
  Logger* logger_;
  StatusFn status_;
  WorkFn work_;
  zmq::socket_t socket_;
  std::unique_ptr<zmq::socket_t> pull_;
  std::string endpoint_, pull_endpoint_;
  std::atomic<size_t> queued_pushes_{0};
  ReplyWorker worker_;  // last: its thread stops first
};

// The reply of a failed request: {"ok": false, "code": "...", "error": "..."}.
std::string ErrorReply(const Status& status);

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_CLIENT_SERVICE_H_
