// A node's control endpoint (docs/control.md): a ROUTER taking requests that carry an id and a
// deadline, from callers authenticated by the node's CURVE keys, each request authorised by the
// caller's role before anything runs.
//
// Request (one JSON frame): {"id": <string or integer, echoed>, "op": NAME, "deadline_ms": N
// (1..86 400 000, default 30 000), ...op fields}. Reply (one JSON frame): {"id", "ok": true, ...}
// or {"id", "ok": false, "code", "error"}. Quick ops (status) are answered on the network thread;
// the others wait in order for the worker thread, and one whose deadline passed while it waited is
// answered deadline_exceeded without being run.
//
// Callers and roles: with CURVE (the node has a secret key) the ZAP handler admits only listed
// keys and names each connection "<role>:<name>" — role "operator" (node.operators_file), "store"
// (a store node's key, node.allow_file) — which this service reads from every message; a request
// from any other connection is refused. Without keys the endpoint is loopback-only and every
// caller is "local", which may do what an operator may (as the client endpoint takes writes).
//
// Thread-safety: sockets belong to the network thread (constructor, Bind, On*); handlers of
// queued ops run on the worker thread.
#ifndef NEMESYST_NODES_CONTROL_SERVICE_H_
#define NEMESYST_NODES_CONTROL_SERVICE_H_

#include <zmq.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nemesyst/logger.h"
#include "nemesyst/status.h"
#include "nodes/reply_worker.h"

namespace nemesyst::nodes {

inline constexpr size_t kMaxControlRequestBytes = size_t{1} << 20;
// The ZAP domain of control endpoints (replication sockets use "nemesyst").
inline constexpr const char* kControlZapDomain = "nemesyst-control";

struct ControlCaller {
  std::string role;  // "operator" | "store" | "local"
  std::string name;  // the key's name in its list ("" for local callers)
};

struct ControlOp {
  using Clock = std::chrono::steady_clock;
  // Returns the reply's fields ({"ok": true, ...} is added when it has no "ok"), or an error.
  using Handler = std::function<Result<nlohmann::json>(
      const ControlCaller& caller, const nlohmann::json& request, Clock::time_point deadline)>;
  std::string name;
  std::vector<std::string> roles;  // who may call it ("local" callers may call everything)
  bool quick = false;              // answered on the network thread (must not block)
  Handler handler;
};

class ControlService {
 public:
  ControlService(zmq::context_t& context, Logger* logger, std::vector<ControlOp> ops);
  ~ControlService();
  // Binds `endpoint`; with `secret_key` the socket is a CURVE server in kControlZapDomain (the
  // node's ZAP handler must be bound first).
  Status Bind(const std::string& endpoint, const std::string& secret_key);
  const std::string& endpoint() const { return endpoint_; }
  zmq::socket_t& socket() { return socket_; }
  zmq::socket_t& wake() { return worker_.wake(); }
  void OnRequest();
  void OnWake();
  // Any thread: makes the wake socket readable (the network thread then runs its OnWake hooks).
  void Kick() { worker_.Kick(); }
  void Stop();

 private:
  void Reply(const std::string& routing_id, const nlohmann::json& id, Result<nlohmann::json> r);
  void Send(const std::string& routing_id, const std::string& text);

  Logger* logger_;
  std::vector<ControlOp> ops_;  // read by the worker's jobs: outlives worker_
  bool curve_ = false;
  zmq::socket_t socket_;
  std::string endpoint_;
  ReplyWorker worker_;  // last: its thread stops first
};

// A control request's envelope, decoded from its one frame before anything else is looked at: a
// JSON object with a string "op", the id to echo (a string or an integer; null otherwise), and
// deadline_ms in 1..86 400 000 (default 30 000). `*id` is set even when the rest is malformed, so
// the error reply still carries it. Fuzzed (tests/fuzz/control_fuzzer.cc).
struct ControlRequest {
  nlohmann::json id;
  std::string op;
  int64_t deadline_ms = 30000;
  nlohmann::json body;  // the whole request object (the op's fields)
};
Result<ControlRequest> ParseControlRequest(std::string_view frame, nlohmann::json* id);

// A control ZAP request's role:name user id for a key: "operator:<name>" when it is on
// `operators`, "store:<id>" when on `stores`; empty when on neither.
std::string ControlUserId(const std::string& z85_key,
                          const std::map<std::string, std::string>& operators,
                          const std::map<std::string, std::string>& stores);
// "role:name" → the caller (role "" when malformed).
ControlCaller ParseControlUserId(const std::string& user_id);

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_CONTROL_SERVICE_H_
