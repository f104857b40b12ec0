// Node: options, the network thread around a role, status snapshots; SemiSync; the client call.
#include "nemesyst/node.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <zmq_addon.hpp>

#include "nodes/client_service.h"
#include "nodes/curve.h"
#include "nodes/http_endpoint.h"
#include "nodes/leader.h"
#include "nodes/metrics.h"
#include "nodes/nats_connection.h"
#include "nodes/node_role.h"
#include "nodes/socket_util.h"
#include "nodes/status_page.h"

namespace nemesyst {

std::string_view NodeRoleName(NodeRole role) { return role == NodeRole::kHub ? "hub" : "store"; }

Result<NodeRole> ParseNodeRole(std::string_view text) {
  if (text == "store") return NodeRole::kStore;
  if (text == "hub") return NodeRole::kHub;
  return Status::InvalidArgument("node role must be store or hub, not '" + std::string(text) + "'");
}

std::string_view AckModeName(AckMode mode) {
  return mode == AckMode::kSemiSync ? "semi-sync" : "async";
}

Result<AckMode> ParseAckMode(std::string_view text) {
  if (text == "async") return AckMode::kAsync;
  if (text == "semi-sync") return AckMode::kSemiSync;
  return Status::InvalidArgument("ack mode must be async or semi-sync, not '" + std::string(text) +
                                 "'");
}

namespace nodes {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status ValidateNodeId(const std::string& id) {
  if (id.empty() || id.size() > 64 || id[0] == '.') {
    return Status::InvalidArgument("node id '" + id + "': 1..64 characters, not starting with '.'");
  }
  for (char ch : id) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.') {
      return Status::InvalidArgument("node id '" + id + "': only letters, digits, '-', '_', '.'");
    }
  }
  return Status::OK();
}

void PollRoleSockets(zmq::socket_t& main, SocketMonitor& monitor, ClientService& client,
                     const std::vector<ExtraSocket>& extras, int timeout_ms,
                     const std::function<void(Received&)>& on_message) {
  zmq::socket_t* pull = client.pull_when_ready();
  std::vector<zmq::pollitem_t> items = {{main.handle(), 0, ZMQ_POLLIN, 0},
                                        {monitor.socket().handle(), 0, ZMQ_POLLIN, 0},
                                        {client.socket().handle(), 0, ZMQ_POLLIN, 0},
                                        {client.wake().handle(), 0, ZMQ_POLLIN, 0},
                                        {pull != nullptr ? pull->handle() : nullptr, 0,
                                         static_cast<short>(pull != nullptr ? ZMQ_POLLIN : 0), 0}};
  for (const ExtraSocket& e : extras) items.push_back({e.socket->handle(), 0, ZMQ_POLLIN, 0});
  zmq::poll(items.data(), items.size(), std::chrono::milliseconds(timeout_ms));
  if (items[1].revents & ZMQ_POLLIN) monitor.Drain();
  if (items[2].revents & ZMQ_POLLIN) client.OnRequest();
  if (items[3].revents & ZMQ_POLLIN) client.OnWake();
  if (items[4].revents & ZMQ_POLLIN) client.OnPush();
  for (size_t i = 0; i < extras.size(); ++i) {
    if (items[5 + i].revents & ZMQ_POLLIN) extras[i].on_readable();
  }
  if (items[0].revents & ZMQ_POLLIN) {
    while (auto received = ReceiveNow(main)) on_message(*received);
  }
}

NodeStatus BaseNodeStatus(const NodeContext& c, NodeRole role, uint64_t malformed_messages) {
  NodeStatus s;
  s.node_id = c.options.node_id;
  s.role = role;
  s.history_id = c.store->History().id;
  s.last_position = c.store->LastChangePosition();
  s.first_position = c.store->FirstChangePosition();
  s.listen_endpoint = c.listen_endpoint;
  s.client_endpoint = c.client_endpoint;
  s.malformed_messages = malformed_messages;
  return s;
}

WireMessage Heartbeat(const Store& store) {
  WireMessage beat;
  beat.type = MsgType::kHeartbeat;
  beat.position = store.LastChangePosition();
  beat.now_us = NowMicros();
  return beat;
}

void TrimWhenDue(Leader& leader, const NodeOptions& options, int64_t* last_trim_us, Logger* logger,
                 uint64_t floor) {
  const int64_t now = NowMicros();
  if (now - *last_trim_us <= int64_t{20} * options.heartbeat_ms * 1000) return;
  *last_trim_us = now;
  Result<uint64_t> trimmed = leader.TrimJournal(floor);
  if (!trimmed.ok()) {
    logger->Log(LogLevel::kWarn, "nodes", "journal trim failed",
                {{"error", trimmed.status().ToString()}});
  }
}

bool SemiSync::WaitDurable(uint64_t position) {
  std::unique_lock lock(mu_);
  if (durable_ >= position) return true;
  if (configured_ != AckMode::kSemiSync || degraded_) return false;
  if (cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms_),
                   [&] { return durable_ >= position; })) {
    return true;
  }
  degraded_ = true;
  logger_->Log(LogLevel::kWarn, "nodes.store",
               "semi-sync: the hub did not confirm in time; degrading to async",
               {{"position", std::to_string(position)},
                {"hub_durable", std::to_string(durable_)},
                {"timeout_ms", std::to_string(timeout_ms_)}});
  return false;
}

bool SemiSync::WaitUntil(uint64_t position, int64_t timeout_ms) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [&] { return durable_ >= position; });
}

void SemiSync::Update(uint64_t durable, uint64_t newest) {
  {
    std::lock_guard lock(mu_);
    if (durable <= durable_ && !(degraded_ && durable_ >= newest)) return;
    durable_ = std::max(durable_, durable);
    if (degraded_ && durable_ >= newest) {
      degraded_ = false;
      logger_->Log(LogLevel::kInfo, "nodes.store", "semi-sync: the hub caught up; semi-sync again",
                   {{"position", std::to_string(durable_)}});
    }
  }
  cv_.notify_all();
}

std::string SemiSync::ModeName() const {
  std::lock_guard lock(mu_);
  if (configured_ == AckMode::kAsync) return "async";
  return degraded_ ? "async (degraded)" : "semi-sync";
}

}  // namespace nodes

using nodes::NodeContext;

class Node::Impl {
 public:
  NodeContext context;
  std::unique_ptr<nodes::Role> role;
  std::thread network;
  std::atomic<bool> stop{false};
  mutable std::mutex status_mu;
  NodeStatus status;
  std::unique_ptr<nodes::HttpEndpoint> http;  // /metrics (and the hub's page), when configured

  NodeStatus Snapshot() const {
    std::lock_guard lock(status_mu);
    return status;
  }

  // No exception leaves the network thread: ZeroMQ reports some failures by throwing (a bad
  // endpoint, a closed context); they become a Status at start and a logged error after.
  void Run(std::promise<nemesyst::Status>* started) {
    nemesyst::Status s;
    try {
      s = role->SetUp();
      if (s.ok()) Publish();
    } catch (const std::exception& e) {
      s = nemesyst::Status::IOError(std::string("starting the node: ") + e.what());
    }
    started->set_value(s);
    if (!s.ok()) {
      TearDownQuietly();
      return;
    }
    int64_t last_publish = 0;
    while (!stop.load()) {
      try {
        role->RunOnce(std::min(context.options.heartbeat_ms, 50));
      } catch (const std::exception& e) {
        context.logger->Log(LogLevel::kError, "nodes", "network loop error", {{"error", e.what()}});
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // no hot loop on a bug
      }
      const int64_t now = nodes::NowMicros();
      if (now - last_publish > 100000) {
        last_publish = now;
        Publish();
      }
    }
    try {
      Publish();
    } catch (const std::exception&) {
    }
    TearDownQuietly();
  }

  void TearDownQuietly() {
    try {
      role->TearDown();
    } catch (const std::exception& e) {
      context.logger->Log(LogLevel::kError, "nodes", "stopping the node", {{"error", e.what()}});
    }
  }

  void Publish() {
    NodeStatus s = role->BuildStatus();
    s.listen_endpoint = context.listen_endpoint;
    s.client_endpoint = context.client_endpoint;
    s.control_endpoint = context.control_endpoint;
    std::lock_guard lock(status_mu);
    status = std::move(s);
  }
};

namespace {

Status CheckEndpoint(const std::string& endpoint, const char* what, const NodeOptions& o,
                     bool encrypted, Logger* logger) {
  NEMESYST_RETURN_IF_ERROR(nodes::ValidateEndpoint(endpoint, what));
  if (nodes::IsLocalEndpoint(endpoint)) return Status::OK();
  if (encrypted) return Status::OK();
  if (!o.plaintext_beyond_loopback) {
    return Status::InvalidArgument(std::string(what) + " " + endpoint +
                                   " is not loopback and no CURVE keys are configured: set keys "
                                   "(nemesyst node keygen), or allow plaintext between machines "
                                   "explicitly (node.plaintext_remote)");
  }
  logger->Log(LogLevel::kWarn, "nodes",
              "PLAINTEXT between machines: anyone on the network can "
              "read and inject replication traffic",
              {{"endpoint", endpoint}});
  return Status::OK();
}

Status Validate(const NodeOptions& o, Logger* logger) {
  NEMESYST_RETURN_IF_ERROR(nodes::ValidateNodeId(o.node_id));
  if (o.heartbeat_ms < 10 || o.liveness_ms < 2 * o.heartbeat_ms || o.reconnect_max_ms < 100) {
    return Status::InvalidArgument(
        "node timing: heartbeat_ms >= 10, liveness_ms >= 2 x heartbeat_ms, reconnect_max_ms >= "
        "100");
  }
  if (o.max_frame_bytes < 4096 || o.max_frame_bytes > nodes::kMaxWireFrameBytes ||
      o.window_bytes < o.max_frame_bytes) {
    return Status::InvalidArgument(
        "node: max_frame_bytes must be 4 KiB..16 MiB, and window_bytes at least max_frame_bytes");
  }
  const bool keys = !o.secret_key.empty();
  if (keys) {
    NEMESYST_RETURN_IF_ERROR(nodes::DecodeCurveKey(o.secret_key, "secret key").status());
    if (o.role == NodeRole::kStore && o.hub_public_key.empty()) {
      return Status::InvalidArgument("a store node with a secret key needs the hub's public key");
    }
    if (o.role == NodeRole::kHub && o.allowed.empty()) {
      logger->Log(LogLevel::kWarn, "nodes", "CURVE hub with an empty allow-list admits nobody", {});
    }
  }
  if (!o.jetstream.servers.empty()) {
    NEMESYST_RETURN_IF_ERROR(
        nodes::ValidateJetStreamOptions(o.jetstream, o.plaintext_beyond_loopback));
  }
  if (o.role == NodeRole::kStore) {
    if (o.hub_endpoint.empty() && o.jetstream.servers.empty()) {
      return Status::InvalidArgument(
          "a store node replicates somewhere: set node.hub (a ZeroMQ hub), jetstream.servers "
          "(a NATS JetStream cluster), or both");
    }
    if (!o.hub_endpoint.empty()) {
      NEMESYST_RETURN_IF_ERROR(CheckEndpoint(o.hub_endpoint, "hub endpoint", o, keys, logger));
    }
  } else {
    NEMESYST_RETURN_IF_ERROR(CheckEndpoint(o.listen_endpoint, "listen endpoint", o, keys, logger));
  }
  // The client and serving endpoints have no CURVE in this version: local only unless said
  // otherwise.
  NEMESYST_RETURN_IF_ERROR(CheckEndpoint(o.client_endpoint, "client endpoint", o, false, logger));
  if (!o.control_endpoint.empty()) {
    NEMESYST_RETURN_IF_ERROR(
        CheckEndpoint(o.control_endpoint, "control endpoint", o, keys, logger));
  }
  for (const auto& [key, name] : o.operators) {
    NEMESYST_RETURN_IF_ERROR(nodes::DecodeCurveKey(key, "operator key of '" + name + "'").status());
  }
  if (!o.http_endpoint.empty()) {
    NEMESYST_RETURN_IF_ERROR(
        CheckEndpoint("tcp://" + o.http_endpoint, "HTTP endpoint", o, false, logger));
  }
  if (o.role == NodeRole::kStore) {
    NEMESYST_RETURN_IF_ERROR(CheckEndpoint(o.ingest_endpoint, "ingest endpoint", o, false, logger));
    if (!o.serve_model.empty()) {
      NEMESYST_RETURN_IF_ERROR(
          CheckEndpoint(o.predictions_endpoint, "predictions endpoint", o, false, logger));
      NEMESYST_RETURN_IF_ERROR(
          CheckEndpoint(o.predict_endpoint, "predict endpoint", o, false, logger));
    }
  }
  return Status::OK();
}

}  // namespace

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Node::~Node() { Stop(); }

Result<std::unique_ptr<Node>> Node::Start(NodeOptions options) {
  Logger* logger = options.logger != nullptr ? options.logger : NullLogger();
  options.logger = logger;
  if (options.client_endpoint.empty()) {
    options.client_endpoint =
        options.role == NodeRole::kHub ? "tcp://127.0.0.1:7752" : "tcp://127.0.0.1:7751";
  }
  if (options.state_dir.empty()) options.state_dir = options.store_path + ".node";
  if (options.ingest_endpoint.empty()) options.ingest_endpoint = "tcp://127.0.0.1:7753";
  if (options.predictions_endpoint.empty()) {
    options.predictions_endpoint = "tcp://127.0.0.1:7754";
  }
  if (options.predict_endpoint.empty()) options.predict_endpoint = "tcp://127.0.0.1:7755";
  if (options.role == NodeRole::kHub && options.control_endpoint.empty()) {
    options.control_endpoint = "tcp://127.0.0.1:7758";
  }
  NEMESYST_RETURN_IF_ERROR(Validate(options, logger));

  auto impl = std::make_unique<Impl>();
  NodeContext& c = impl->context;
  c.options = options;
  c.logger = logger;
  c.state_dir = options.state_dir;
  std::error_code ec;
  std::filesystem::create_directories(c.state_dir, ec);
  if (ec) return Status::IOError("cannot create " + c.state_dir.string() + ": " + ec.message());
  StoreOptions so = options.store;
  so.logger = logger;
  so.read_only = false;
  so.owner_note = "node '" + options.node_id + "' (role " +
                  std::string(NodeRoleName(options.role)) + ", pid " + std::to_string(::getpid()) +
                  ")";
  NEMESYST_RETURN_IF_ERROR(Store::Open(so, options.store_path, &c.store));
  impl->role = options.role == NodeRole::kHub ? nodes::MakeHubRole(&c) : nodes::MakeStoreRole(&c);
  std::promise<nemesyst::Status> started;
  std::future<nemesyst::Status> ready = started.get_future();
  Impl* raw = impl.get();
  impl->network = std::thread([raw, &started] { raw->Run(&started); });
  nemesyst::Status s = ready.get();
  if (!s.ok()) {
    impl->network.join();
    return s;
  }
  if (!options.http_endpoint.empty()) {
    // The callbacks read the published status snapshot (thread-safe) on the HTTP threads.
    nodes::HttpEndpoint::TextFn page;
    if (options.role == NodeRole::kHub) {
      page = [raw] {
        return nodes::FleetStatusPage(nodes::FleetViewFromHubStatus(raw->Snapshot()));
      };
    }
    Result<std::unique_ptr<nodes::HttpEndpoint>> http = nodes::HttpEndpoint::Start(
        options.http_endpoint, [raw] { return nodes::PrometheusText(raw->Snapshot()); },
        std::move(page), logger);
    if (!http.ok()) {
      raw->stop = true;
      raw->network.join();
      return http.status();
    }
    raw->http = std::move(*http);
  }
  logger->Log(LogLevel::kInfo, "nodes", "node started",
              {{"node", options.node_id},
               {"role", std::string(NodeRoleName(options.role))},
               {"store", options.store_path},
               {"listen", c.listen_endpoint},
               {"hub", options.role == NodeRole::kStore ? options.hub_endpoint : ""},
               {"client", c.client_endpoint},
               {"security", options.secret_key.empty() ? "plaintext" : "curve"}});
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

void Node::Stop() {
  if (!impl_ || !impl_->network.joinable()) return;
  if (impl_->http) impl_->http->Stop();  // its callbacks read the status: stop them first
  impl_->stop = true;
  impl_->network.join();
  impl_->context.store.reset();
}

NodeStatus Node::Status() const { return impl_->Snapshot(); }

nemesyst::Status Node::WaitReplicated(uint64_t position, int64_t timeout_ms) const {
  if (!impl_ || !impl_->network.joinable()) {
    return nemesyst::Status::FailedPrecondition("the node is stopped");
  }
  return impl_->role->WaitReplicated(position, timeout_ms);
}

std::string Node::listen_endpoint() const { return impl_->context.listen_endpoint; }
std::string Node::client_endpoint() const { return impl_->context.client_endpoint; }
std::string Node::control_endpoint() const { return impl_->context.control_endpoint; }
std::string Node::http_endpoint() const { return impl_->http ? impl_->http->address() : ""; }

}  // namespace nemesyst
