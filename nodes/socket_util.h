// ZeroMQ plumbing shared by the node's roles: socket options, sending a WireMessage without ever
// blocking, receiving a multipart message with the authenticated user id, and logging the
// handshake and connection events a monitor reports.
//
// Thread-safety: sockets belong to the thread that uses them (the node's network thread).
#ifndef NEMESYST_NODES_SOCKET_UTIL_H_
#define NEMESYST_NODES_SOCKET_UTIL_H_

#include <zmq.hpp>

#include <optional>
#include <string>
#include <vector>

#include "nemesyst/logger.h"
#include "nemesyst/node.h"
#include "nodes/wire.h"

namespace nemesyst::nodes {

// Options every replication socket gets: no linger, a frame-size backstop, heartbeats, reconnect
// backoff, a short handshake limit (ZMTP heartbeats below the application's own).
void SetCommonOptions(zmq::socket_t& socket, const NodeOptions& options);

// Sends header + payloads (after `routing_id` when non-empty) without blocking. False when the
// message could not be queued: no such peer (ROUTER_MANDATORY), its queue is full, or the socket
// is closing — the caller ends that peer's session.
bool SendWire(zmq::socket_t& socket, const std::string& routing_id, const WireMessage& message);

// One received multipart message: its frames and, when the peer authenticated (ZAP), its user id.
struct Received {
  std::vector<zmq::message_t> frames;
  std::string user_id;  // empty without authentication
};
// Receives a whole message if one is waiting (never blocks).
std::optional<Received> ReceiveNow(zmq::socket_t& socket);

// Logs what a socket monitor reports (connects, disconnects, handshake failures and why).
class SocketMonitor {
 public:
  SocketMonitor(zmq::context_t& context, zmq::socket_t& socket, const std::string& name,
                Logger* logger);
  zmq::socket_t& socket() { return pair_; }
  void Drain();  // reads and logs every pending event

 private:
  zmq::socket_t pair_;
  std::string name_;
  Logger* logger_;
};

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_SOCKET_UTIL_H_
