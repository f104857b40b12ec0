#include "nodes/socket_util.h"

#include <zmq_addon.hpp>

#include <atomic>
#include <cstring>

namespace nemesyst::nodes {

void SetCommonOptions(zmq::socket_t& socket, const NodeOptions& o) {
  socket.set(zmq::sockopt::linger, 0);
  // The application refuses bigger payloads itself; this only keeps a peer from making us buffer
  // an absurd frame.
  socket.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxWireFrameBytes) + (64 << 10));
  socket.set(zmq::sockopt::heartbeat_ivl, o.heartbeat_ms * 2);
  socket.set(zmq::sockopt::heartbeat_timeout, o.liveness_ms);
  socket.set(zmq::sockopt::heartbeat_ttl, o.liveness_ms);
  socket.set(zmq::sockopt::reconnect_ivl, 100);
  socket.set(zmq::sockopt::reconnect_ivl_max, o.reconnect_max_ms);
  socket.set(zmq::sockopt::handshake_ivl, std::max(1000, o.liveness_ms));
  socket.set(zmq::sockopt::sndhwm, 100000);
  socket.set(zmq::sockopt::rcvhwm, 100000);
}

bool SendWire(zmq::socket_t& socket, const std::string& routing_id, const WireMessage& m) {
  std::vector<zmq::const_buffer> parts;
  const std::string header = EncodeHeader(m);
  if (!routing_id.empty()) parts.push_back(zmq::buffer(routing_id));
  parts.push_back(zmq::buffer(header));
  for (const std::string& p : m.payloads) parts.push_back(zmq::buffer(p));
  try {
    auto sent = zmq::send_multipart(socket, parts, zmq::send_flags::dontwait);
    return sent.has_value();
  } catch (const zmq::error_t&) {
    return false;  // EHOSTUNREACH (no such peer) or the socket is going away
  }
}

std::optional<Received> ReceiveNow(zmq::socket_t& socket) {
  Received r;
  try {
    auto got = zmq::recv_multipart(socket, std::back_inserter(r.frames), zmq::recv_flags::dontwait);
    if (!got) return std::nullopt;
  } catch (const zmq::error_t&) {
    return std::nullopt;
  }
  if (!r.frames.empty()) {
    // Any frame carries the connection's metadata; "User-Id" only after ZAP admitted it.
    const char* user = zmq_msg_gets(r.frames.back().handle(), "User-Id");
    if (user != nullptr) r.user_id = user;
  }
  return r;
}

namespace {

std::atomic<uint64_t> g_monitor_counter{0};

const char* EventName(uint16_t event) {
  switch (event) {
    case ZMQ_EVENT_CONNECTED:
      return "connected";
    case ZMQ_EVENT_ACCEPTED:
      return "accepted";
    case ZMQ_EVENT_DISCONNECTED:
      return "disconnected";
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
      return "handshake succeeded";
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
      return "handshake failed";
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      return "handshake failed (protocol: a plaintext peer, or a wrong server key)";
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
      return "handshake refused (authentication)";
    default:
      return nullptr;
  }
}

}  // namespace

SocketMonitor::SocketMonitor(zmq::context_t& context, zmq::socket_t& socket,
                             const std::string& name, Logger* logger)
    : pair_(context, zmq::socket_type::pair), name_(name), logger_(logger) {
  const std::string endpoint = "inproc://nemesyst-monitor-" + std::to_string(++g_monitor_counter);
  const int events = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED |
                     ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
  if (zmq_socket_monitor(socket.handle(), endpoint.c_str(), events) == 0) {
    pair_.set(zmq::sockopt::linger, 0);
    pair_.connect(endpoint);
  }
}

void SocketMonitor::Drain() {
  while (true) {
    std::vector<zmq::message_t> parts;
    try {
      auto got = zmq::recv_multipart(pair_, std::back_inserter(parts), zmq::recv_flags::dontwait);
      if (!got) return;
    } catch (const zmq::error_t&) {
      return;
    }
    if (parts.size() < 2 || parts[0].size() < 6) continue;
    uint16_t event = 0;
    uint32_t value = 0;
    std::memcpy(&event, parts[0].data(), 2);
    std::memcpy(&value, static_cast<const char*>(parts[0].data()) + 2, 4);
    const char* what = EventName(event);
    if (what == nullptr) continue;
    const bool failure = event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ||
                         event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
                         event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    logger_->Log(
        failure ? LogLevel::kWarn : LogLevel::kDebug, "nodes.socket", what,
        {{"socket", name_}, {"endpoint", parts[1].to_string()}, {"value", std::to_string(value)}});
  }
}

}  // namespace nemesyst::nodes
