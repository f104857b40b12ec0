// What a node's network thread runs: a store role or a hub role, over the same context.
//
// The network thread calls SetUp() once, then RunOnce() until the node stops, then TearDown().
// Everything a role does with ZeroMQ sockets happens on that thread. A role publishes its status
// (BuildStatus) for other threads, and a store role lets the client worker wait for the hub in
// semi-sync (SemiSync).
#ifndef NEMESYST_NODES_NODE_ROLE_H_
#define NEMESYST_NODES_NODE_ROLE_H_

#include <zmq.hpp>

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "nemesyst/node.h"
#include "nemesyst/store.h"
#include "nodes/wall_clock.h"

namespace nemesyst::nodes {

// What every role shares with the node.
struct NodeContext {
  NodeOptions options;
  Logger* logger = nullptr;
  zmq::context_t zmq;
  std::unique_ptr<Store> store;  // the node's own store
  std::filesystem::path state_dir;
  // Resolved by SetUp().
  std::string listen_endpoint, client_endpoint, control_endpoint;
};

// The hub's durable position as the store's data leader last heard it, and the ack mode state:
// the client worker waits here for its appends; the network thread updates it.
class SemiSync {
 public:
  SemiSync(AckMode mode, int64_t timeout_ms, Logger* logger)
      : configured_(mode), timeout_ms_(timeout_ms), logger_(logger) {}
  // Worker thread: returns whether the hub has `position` durably (waiting up to the timeout in
  // semi-sync; at once in async or when degraded). A timeout degrades the node to async.
  bool WaitDurable(uint64_t position);
  // Any thread: waits up to timeout_ms for the hub to hold `position` durably, whatever the mode.
  bool WaitUntil(uint64_t position, int64_t timeout_ms);
  // Network thread: the hub's durable position, and the store's newest position (back to
  // semi-sync once the hub has caught up).
  void Update(uint64_t durable, uint64_t newest);
  std::string ModeName() const;

 private:
  const AckMode configured_;
  const int64_t timeout_ms_;
  Logger* logger_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t durable_ = 0;
  bool degraded_ = false;
};

class Role {
 public:
  virtual ~Role() = default;
  virtual Status SetUp() = 0;
  // One poll of the sockets (at most `timeout_ms`) and whatever is due.
  virtual void RunOnce(int timeout_ms) = 0;
  virtual NodeStatus BuildStatus() = 0;
  virtual void TearDown() = 0;
  // Any thread (Node::WaitReplicated).
  virtual Status WaitReplicated(uint64_t /*position*/, int64_t /*timeout_ms*/) {
    return Status::FailedPrecondition("only a store node replicates to a hub");
  }
};

// What both roles' loops share.
class Leader;
class ClientService;
class SocketMonitor;
struct Received;
struct WireMessage;

// A role's own socket to poll with the others (the hub's ZAP handler, a control endpoint).
struct ExtraSocket {
  zmq::socket_t* socket;
  std::function<void()> on_readable;
};
// Polls the main socket, its monitor, the client endpoint, its worker's wake-ups, the ingest
// endpoint while the worker has room, and `extras`, for up to `timeout_ms`; then dispatches:
// monitor events, client requests, the worker's replies, pushed readings, the extras, and every
// message waiting on `main`.
void PollRoleSockets(zmq::socket_t& main, SocketMonitor& monitor, ClientService& client,
                     const std::vector<ExtraSocket>& extras, int timeout_ms,
                     const std::function<void(Received&)>& on_message);
// What every role's status starts from: the node, its store's positions and endpoints.
NodeStatus BaseNodeStatus(const NodeContext& context, NodeRole role, uint64_t malformed_messages);
// A node-channel HEARTBEAT carrying this store's newest position.
WireMessage Heartbeat(const Store& store);
// Trims `leader`'s journal every 20 heartbeats (5 s by default), never past `floor` (what other
// sinks still need); a failure is logged.
void TrimWhenDue(Leader& leader, const NodeOptions& options, int64_t* last_trim_us, Logger* logger,
                 uint64_t floor = UINT64_MAX);

std::unique_ptr<Role> MakeStoreRole(NodeContext* context);
std::unique_ptr<Role> MakeHubRole(NodeContext* context);

// Node ids name directories on the hub: 1..64 of [A-Za-z0-9_.-], not starting with '.'.
Status ValidateNodeId(const std::string& id);

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_NODE_ROLE_H_
