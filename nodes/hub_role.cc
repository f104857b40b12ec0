// The hub role: a ROUTER that store nodes connect to. Per store node, a follower of its data
// channel into a replica of its own (<state>/replicas/<node id>: that store's namespace, never
// mixed with another's), and one leader of the registry channel — the hub's own store — to every
// store node.
//
// Identity: with CURVE, a connection's node id is the one the allow-list maps its key to (the
// ZAP handler runs on this thread); a JOIN claiming another id is refused, so a store can only
// ever write its own namespace. Without keys (loopback by default), the JOIN's id is taken.
// Routing ids are per connection (the ROUTER makes them): a reconnect JOINs again.
#include <nlohmann/json.hpp>
#include <zmq_addon.hpp>

#include <set>

#include "nodes/client_service.h"
#include "nodes/control_service.h"
#include "nodes/curve.h"
#include "nodes/follower.h"
#include "nodes/hub_control.h"
#include "nodes/jetstream_feed.h"
#include "nodes/jetstream_sink.h"
#include "nodes/jetstream_views.h"
#include "nodes/leader.h"
#include "nodes/node_role.h"
#include "nodes/registry_requests.h"
#include "nodes/socket_util.h"
#include "nodes/status_json.h"
#include "nodes/zap_handler.h"

namespace nemesyst::nodes {
namespace {

// Refused connections remembered (so each is told once): bounded against a flood of them.
constexpr size_t kMaxRefused = 4096;

class HubRole final : public Role {
 public:
  explicit HubRole(NodeContext* c) : c_(*c), log_(c->logger) {}

  Status SetUp() override {
    const NodeOptions& o = c_.options;
    for (const auto& [key, id] : o.allowed) allowed_[key] = id;
    // Control callers by key: operators, and store nodes (which may ask for status).
    for (const auto& [key, name] : o.operators) {
      control_allowed_[key] = ControlUserId(key, {{key, name}}, {});
    }
    for (const auto& [key, id] : o.allowed) {
      if (control_allowed_.count(key) == 0) control_allowed_[key] = "store:" + id;
    }
    LeaderOptions lo;
    lo.channel = Channel::kRegistry;
    lo.epoch = o.epoch;
    lo.max_frame_bytes = o.max_frame_bytes;
    lo.journal_cap_bytes = o.journal_cap_bytes;
    lo.journal_cap_age_s = o.journal_cap_age_s;
    lo.logger = log_;
    leader_ = std::make_unique<Leader>(c_.store.get(), lo, (c_.state_dir / "snapshots").string());
    if (!o.secret_key.empty()) {
      // The ZAP handler must be bound in this context before the ROUTER accepts anyone.
      // Replication connections are named by node id, control connections by role:name.
      zap_ = std::make_unique<ZapHandler>(
          c_.zmq,
          std::map<std::string, AllowList>{{"nemesyst", allowed_},
                                           {kControlZapDomain, control_allowed_}},
          log_, "nodes.hub");
    }
    socket_ = std::make_unique<zmq::socket_t>(c_.zmq, zmq::socket_type::router);
    SetCommonOptions(*socket_, o);
    socket_->set(zmq::sockopt::router_mandatory, 1);
    if (!o.secret_key.empty()) {
      socket_->set(zmq::sockopt::curve_server, 1);
      socket_->set(zmq::sockopt::curve_secretkey, o.secret_key);
      socket_->set(zmq::sockopt::zap_domain, "nemesyst");
    }
    monitor_ = std::make_unique<SocketMonitor>(c_.zmq, *socket_, "hub", log_);
    try {
      socket_->bind(o.listen_endpoint);
      c_.listen_endpoint = socket_->get(zmq::sockopt::last_endpoint);
    } catch (const zmq::error_t& e) {
      return Status::IOError("cannot listen on " + o.listen_endpoint + ": " + e.what());
    }
    client_ = std::make_unique<ClientService>(
        c_.zmq, log_, [this] { return NodeStatusToJson(BuildStatus()); },
        [this](const std::string& op, const std::string& request, const std::string& data) {
          return RegistryRequest(*c_.store, c_.options.node_id, op, request, data);
        });
    NEMESYST_RETURN_IF_ERROR(client_->Bind(o.client_endpoint));
    c_.client_endpoint = client_->endpoint();
    HubControlContext hc;
    hc.registry = c_.store.get();
    hc.state_dir = c_.state_dir;
    hc.node_id = o.node_id;
    hc.model_options = o.serve_model_options;
    hc.status = [this] { return NodeStatusToJson(BuildStatus()); };  // a quick op: this thread
    hc.logger = log_;
    hc.served = [this] {
      std::lock_guard lock(served_mu_);
      return served_;
    };
    hc.dispatch = &dispatch_;
    hc.wake_network = [this] { control_->Kick(); };

    control_ = std::make_unique<ControlService>(c_.zmq, log_, HubControlOps(std::move(hc)));
    NEMESYST_RETURN_IF_ERROR(control_->Bind(o.control_endpoint, o.secret_key));
    c_.control_endpoint = control_->endpoint();
    if (zap_) extras_.push_back({&zap_->socket(), [this] { zap_->OnReadable(); }});
    extras_.push_back({&control_->socket(), [this] { control_->OnRequest(); }});
    extras_.push_back({&control_->wake(), [this] {
                         control_->OnWake();
                         SendSheds();
                       }});
    if (!o.jetstream.servers.empty() && o.jetstream.forward) {
      log_->Log(LogLevel::kInfo, "nodes.hub", "forwarding the stores' replicas to JetStream", {});
    } else if (!o.jetstream.servers.empty()) {
      // A hub worker: views of the stores publishing to JetStream, beside the ZeroMQ replicas
      // and in the same directory (training reads both alike).
      JetStreamViewsOptions vo;
      vo.jetstream = o.jetstream;
      vo.worker_id = o.node_id;
      vo.views_dir = c_.state_dir / "replicas";
      vo.logger = log_;
      NEMESYST_ASSIGN_OR_RETURN(views_, JetStreamViews::Start(vo));
    }
    if (!o.jetstream.servers.empty()) {
      if (o.jetstream.publish_registry) {
        // The registry goes out on <prefix>.registry, fenced by this hub's epoch.
        JetStreamSinkOptions so;
        so.jetstream = o.jetstream;
        so.store_id = o.node_id;
        so.registry_epoch = o.epoch;
        so.logger = log_;
        NEMESYST_ASSIGN_OR_RETURN(registry_sink_, JetStreamSink::Start(c_.store.get(), so));
      } else {
        // A standby: the registry log applied to this hub's own registry, ready to continue it.
        registry_feed_ = std::make_unique<LogFeed>(
            c_.store.get(), RegistryFeedOptions(o.jetstream, o.node_id, log_));
      }
    }
    return Status::OK();
  }

  void RunOnce(int timeout_ms) override {
    PollRoleSockets(*socket_, *monitor_, *client_, extras_, timeout_ms,
                    [this](Received& received) { OnMessage(received); });
    DisconnectGone();
    const int64_t now = NowMicros();
    const NodeOptions& o = c_.options;
    if (now - last_tick_us_ >= o.heartbeat_ms * 1000) {
      last_tick_us_ = now;
      for (auto& [id, peer] : peers_) {
        if (peer.routing_id.empty()) continue;
        if (now - peer.last_heard_us > int64_t{o.liveness_ms} * 1000) {
          log_->Log(LogLevel::kWarn, "nodes.hub", "store node silent: its sessions end",
                    {{"node", id}});
          Disconnect(id, peer);
          continue;
        }
        peer.data->Tick(ToFollowerSend(peer.routing_id));
        Send(peer.routing_id, Heartbeat(*c_.store));
      }
      TrimWhenDue(*leader_, o, &last_trim_us_, log_);
    }
    SendSheds();
    if (c_.options.jetstream.forward) Forward();
    // A registry write (import, alias, train): the JetStream registry log publishes it now.
    if (registry_sink_ && c_.store->LastChangePosition() != registry_notified_) {
      registry_notified_ = c_.store->LastChangePosition();
      registry_sink_->Notify();
    }
    Status pumped = leader_->Pump(ToLeaderSend());
    if (!pumped.ok()) {
      log_->Log(LogLevel::kError, "nodes.hub", "reading the registry journal failed",
                {{"error", pumped.ToString()}});
    }
    DisconnectGone();
  }

  NodeStatus BuildStatus() override {
    NodeStatus s = BaseNodeStatus(c_, NodeRole::kHub, malformed_);
    s.epoch = leader_->epoch();
    s.ack_mode = "async";
    for (auto& [id, peer] : peers_) {
      s.connected = s.connected || !peer.routing_id.empty();
      s.peers.push_back(FollowerPeerStatus(*peer.data, id, "data"));
      s.peers.back().serving_reference = peer.serving_reference;
      s.peers.back().serving_model = peer.serving_model;
      s.peers.back().serving_devices = peer.serving_devices;
      s.peers.back().serving_error = peer.serving_error;
      s.peers.push_back(LeaderPeerStatus(*leader_, id, "registry", *c_.store));
    }
    if (views_) {
      for (PeerStatus& view : views_->Views()) s.peers.push_back(std::move(view));
    }
    if (registry_sink_) s.peers.push_back(registry_sink_->status());
    for (const auto& [id, sink] : forwards_) s.peers.push_back(sink->status());
    if (registry_feed_) s.peers.push_back(registry_feed_->status());
    return s;
  }

  void TearDown() override {
    forwards_.clear();
    registry_sink_.reset();
    registry_feed_.reset();
    views_.reset();
    if (control_) control_->Stop();
    extras_.clear();
    control_.reset();
    if (client_) client_->Stop();
    client_.reset();
    monitor_.reset();
    socket_.reset();
    zap_.reset();
    peers_.clear();
    leader_.reset();
  }

 private:
  struct Peer {
    std::string routing_id;  // empty while disconnected
    std::unique_ptr<Follower> data;
    int64_t last_heard_us = 0;
    // Its last REPORT: what it serves.
    std::string serving_reference, serving_model, serving_error;
    uint64_t serving_devices = 0;
  };

  void Send(const std::string& routing_id, const WireMessage& m) {
    if (routing_id.empty()) return;
    // Gone (or its queue is full despite credit): its sessions end, and it will JOIN again. Not
    // here: a leader or follower may be sending from inside its own loop over that session.
    if (!SendWire(*socket_, routing_id, m)) gone_.insert(routing_id);
  }
  void DisconnectGone() {
    for (const std::string& routing_id : gone_) {
      auto id = routes_.find(routing_id);
      if (id == routes_.end()) continue;
      auto peer = peers_.find(id->second);
      if (peer != peers_.end()) Disconnect(id->second, peer->second);
    }
    gone_.clear();
  }
  Follower::SendFn ToFollowerSend(const std::string& routing_id) {
    return [this, routing_id](WireMessage m) { Send(routing_id, m); };
  }
  Leader::SendFn ToLeaderSend() {
    return [this](const std::string& node_id, WireMessage m) {
      auto peer = peers_.find(node_id);
      if (peer != peers_.end() && !peer->second.routing_id.empty()) {
        Send(peer->second.routing_id, m);
      }
    };
  }

  // jetstream.forward: a sink per store replica, started once the replica is not bootstrapping,
  // woken when it has applied more.
  void Forward() {
    for (auto& [id, peer] : peers_) {
      if (!peer.data || peer.data->status().bootstrapping) continue;
      auto it = forwards_.find(id);
      if (it == forwards_.end()) {
        JetStreamSinkOptions so;
        so.jetstream = c_.options.jetstream;
        so.store_id = id;
        so.logger = log_;
        Result<std::unique_ptr<JetStreamSink>> sink =
            JetStreamSink::Start(&peer.data->replica(), so);
        if (!sink.ok()) continue;  // an id JetStream cannot name: the ZeroMQ replica still works
        it = forwards_.emplace(id, std::move(*sink)).first;
      }
      const uint64_t applied = peer.data->status().applied;
      if (forwarded_[id] != applied) {
        forwarded_[id] = applied;
        it->second->Notify();
      }
    }
  }

  // `id` by value: callers pass strings that live in routes_, which this erases from.
  void Disconnect(std::string id, Peer& peer) {
    routes_.erase(peer.routing_id);
    peer.routing_id.clear();
    peer.data->EndSession();
    leader_->EndSession(id);
  }

  void Refuse(const std::string& routing_id, ErrorCode code, const std::string& why) {
    WireMessage e;
    e.type = MsgType::kError;
    e.channel = Channel::kNode;
    e.error = code;
    e.detail = why;
    SendWire(*socket_, routing_id, e);
  }

  // The control worker's dispatch requests to the stores (a store not connected now gets it
  // again at the dispatch's next re-send).
  void SendSheds() {
    for (auto& [store, text] : dispatch_.TakeOutgoing()) {
      auto it = peers_.find(store);
      if (it == peers_.end() || it->second.routing_id.empty()) continue;
      WireMessage m;
      m.type = MsgType::kShed;
      m.payloads.push_back(std::move(text));
      Send(it->second.routing_id, m);
    }
  }

  void OnMessage(Received& received) {
    if (received.frames.size() < 2) return;
    const std::string routing_id = received.frames[0].to_string();
    std::vector<std::string_view> frames;
    for (size_t i = 1; i < received.frames.size(); ++i) {
      frames.emplace_back(received.frames[i].data<char>(), received.frames[i].size());
    }
    Result<WireMessage> m = DecodeMessage(frames, kMaxWireFrameBytes);
    if (!m.ok()) {
      ++malformed_;
      log_->Log(LogLevel::kDebug, "nodes.hub", "malformed message dropped",
                {{"error", m.status().ToString()}});
      return;
    }
    if (m->type == MsgType::kJoin) return OnJoin(routing_id, received.user_id, *m);
    if (refused_.count(routing_id) != 0) return;  // told once; the rest of it is ignored
    auto route = routes_.find(routing_id);
    if (route == routes_.end()) {
      Refuse(routing_id, ErrorCode::kNeedHello, "unknown connection: JOIN first");
      return;
    }
    Peer& peer = peers_.at(route->second);
    peer.last_heard_us = NowMicros();
    Status s;
    if (m->channel == Channel::kData) {
      s = peer.data->OnMessage(*m, ToFollowerSend(routing_id));
    } else if (m->channel == Channel::kRegistry) {
      s = leader_->OnMessage(route->second, *m, ToLeaderSend());
    } else if (m->type == MsgType::kHeartbeat) {
      // The store's newest position: how far behind its data follower is (stall detection).
      s = peer.data->OnMessage(*m, ToFollowerSend(routing_id));
    } else if (m->type == MsgType::kReport) {
      OnReport(route->second, peer, m->detail);
    } else if (m->type == MsgType::kShedReply) {
      dispatch_.OnReply(route->second, std::move(m->payloads.at(0)));
    }
    if (!s.ok()) {
      log_->Log(LogLevel::kError, "nodes.hub", "replication error",
                {{"node", route->second}, {"error", s.ToString()}});
    }
  }

  // A store's report of what it serves (JSON from a peer: every field checked, nothing trusted
  // beyond being shown and compared). A malformed one is counted and dropped.
  void OnReport(const std::string& id, Peer& peer, const std::string& detail) {
    const nlohmann::json j = nlohmann::json::parse(detail, nullptr, false);
    auto text = [&](const char* key) {
      const auto it = j.find(key);
      return it != j.end() && it->is_string() ? it->get<std::string>().substr(0, 256) : "";
    };
    if (!j.is_object()) {
      ++malformed_;
      return;
    }
    peer.serving_reference = text("reference");
    peer.serving_model = text("model");
    peer.serving_error = text("last_error");
    const auto devices = j.find("devices");
    peer.serving_devices =
        devices != j.end() && devices->is_number_unsigned() ? devices->get<uint64_t>() : 0;
    std::lock_guard lock(served_mu_);
    served_[id] = peer.serving_model;
  }

  void OnJoin(const std::string& routing_id, const std::string& user_id, const WireMessage& m) {
    std::string id = m.node_id;
    if (!c_.options.secret_key.empty()) {
      // The key decides who this is; the message only claims it.
      if (user_id.empty() || user_id != m.node_id) {
        log_->Log(LogLevel::kWarn, "nodes.hub", "JOIN refused: the key belongs to another node",
                  {{"claimed", m.node_id}, {"authenticated", user_id}});
        Refuse(routing_id, ErrorCode::kNotAuthorized,
               "this key is allowed as node '" + user_id + "', not '" + m.node_id + "'");
        if (refused_.size() >= kMaxRefused)
          refused_.clear();  // bounded; forgotten ones are refused again
        refused_.insert(routing_id);
        return;
      }
    }
    Status valid = ValidateNodeId(id);
    if (!valid.ok() || m.role != 1 || m.protocol != kProtocolVersion) {
      Refuse(routing_id, ErrorCode::kProtocol,
             valid.ok() ? "only store nodes (protocol 1) join a hub" : valid.ToString());
      return;
    }
    Peer& peer = peers_[id];
    if (!peer.data) {
      FollowerOptions fo;
      fo.channel = Channel::kData;
      fo.replica_path = c_.state_dir / "replicas" / id;
      fo.window_bytes = c_.options.window_bytes;
      fo.max_frame_bytes = c_.options.max_frame_bytes;
      fo.stall_timeout_ms = std::max(1000, c_.options.liveness_ms);
      fo.logger = log_;
      // The forwarding sink reads the replica from its own thread: it stops before a swap.
      fo.before_replica_swap = [this, id] { forwards_.erase(id); };
      Result<std::unique_ptr<Follower>> follower = Follower::Open(fo);
      if (!follower.ok()) {
        log_->Log(LogLevel::kError, "nodes.hub", "cannot open the replica of a store node",
                  {{"node", id}, {"error", follower.status().ToString()}});
        peers_.erase(id);
        Refuse(routing_id, ErrorCode::kStoreError, follower.status().ToString());
        return;
      }
      peer.data = std::move(*follower);
    }
    if (!peer.routing_id.empty() && peer.routing_id != routing_id) Disconnect(id, peer);
    peer.routing_id = routing_id;
    routes_[routing_id] = id;
    peer.last_heard_us = NowMicros();
    log_->Log(LogLevel::kInfo, "nodes.hub", "store node joined",
              {{"node", id}, {"authenticated", user_id.empty() ? "no (plaintext)" : "yes"}});
    Send(routing_id, peer.data->Hello());
  }

  NodeContext& c_;
  Logger* log_;
  AllowList allowed_;
  std::unique_ptr<Leader> leader_;
  std::unique_ptr<JetStreamViews> views_;  // a hub worker of the JetStream log
  // jetstream.forward: each store's replica published as that store's log (none while its
  // replica is being bootstrapped), and the replica position each sink was last woken for.
  std::map<std::string, std::unique_ptr<JetStreamSink>> forwards_;
  std::map<std::string, uint64_t> forwarded_;
  std::unique_ptr<JetStreamSink> registry_sink_;  // jetstream.publish_registry
  std::unique_ptr<LogFeed> registry_feed_;        // otherwise: a standby following it
  uint64_t registry_notified_ = 0;
  std::unique_ptr<zmq::socket_t> socket_;
  std::unique_ptr<ZapHandler> zap_;
  DispatchExchange dispatch_;  // before control_: its worker uses it until it stops
  std::unique_ptr<ControlService> control_;
  std::vector<ExtraSocket> extras_;
  AllowList control_allowed_;  // key → "operator:<name>" | "store:<id>"
  // What each store last reported it serves: for `deploy`, which waits on the control worker.
  std::mutex served_mu_;
  std::map<std::string, std::string> served_;
  std::unique_ptr<SocketMonitor> monitor_;
  std::unique_ptr<ClientService> client_;
  std::map<std::string, Peer> peers_;
  std::map<std::string, std::string> routes_;  // routing id → node id
  std::set<std::string> refused_;              // connections whose JOIN was refused
  std::set<std::string> gone_;                 // routing ids a send failed to (this pass)
  int64_t last_tick_us_ = 0, last_trim_us_ = 0;
  uint64_t malformed_ = 0;
};

}  // namespace

std::unique_ptr<Role> MakeHubRole(NodeContext* context) {
  return std::make_unique<HubRole>(context);
}

}  // namespace nemesyst::nodes
