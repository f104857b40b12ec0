// The store role: owns the store, takes appends from local clients, leads the data channel to
// the hub (its streams) and follows the registry channel from it (the hub's models).
//
// Connection: a DEALER to the hub. JOIN announces the node; the hub answers with the data
// channel's HELLO, and this node says HELLO on the registry channel. Any message from the hub
// counts as a heartbeat; after liveness_ms of silence the socket is replaced and JOIN sent again,
// with a doubling backoff while the hub stays away. Ingest never waits on any of this (except
// semi-sync appends, up to their timeout).
#include <sys/mman.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "nemesyst/ingest.h"
#include "nemesyst/store_json.h"
#include "nodes/client_service.h"
#include "nodes/control_service.h"
#include "nodes/curve.h"
#include "nodes/follower.h"
#include "nodes/jetstream_feed.h"
#include "nodes/jetstream_sink.h"
#include "nodes/latency_recorder.h"
#include "nodes/leader.h"
#include "nodes/node_role.h"
#include "nodes/serving.h"
#include "nodes/shed_messages.h"
#include "nodes/socket_util.h"
#include "nodes/status_json.h"
#include "nodes/zap_handler.h"

namespace nemesyst::nodes {
namespace {

constexpr const char* kHub = "hub";

// The ZeroMQ link to the hub as a sink. The link itself lives on the network thread (it pumps the
// data leader whenever the store changes or credit arrives); this records, for other threads,
// what the hub holds durably and how the link looked at the last status.
class HubLinkSink final : public ReplicationSink {
 public:
  void RecordDurable(uint64_t durable) { durable_ = durable; }
  void RecordStatus(PeerStatus status) {
    std::lock_guard lock(mu_);
    status_ = std::move(status);
  }
  uint64_t durable_position() const override { return durable_.load(); }
  PeerStatus status() const override {
    std::lock_guard lock(mu_);
    return status_;
  }

 private:
  std::atomic<uint64_t> durable_{0};
  mutable std::mutex mu_;
  PeerStatus status_;
};

class StoreRole final : public Role {
 public:
  explicit StoreRole(NodeContext* c)
      : c_(*c),
        log_(c->logger),
        semi_(c->options.ack_mode, c->options.semi_sync_timeout_ms, c->logger) {}

  Status SetUp() override {
    const NodeOptions& o = c_.options;
    LeaderOptions lo;
    lo.channel = Channel::kData;
    lo.max_frame_bytes = o.max_frame_bytes;
    lo.journal_cap_bytes = o.journal_cap_bytes;
    lo.journal_cap_age_s = o.journal_cap_age_s;
    lo.logger = log_;
    leader_ = std::make_unique<Leader>(c_.store.get(), lo, (c_.state_dir / "snapshots").string());
    FollowerOptions fo;
    fo.channel = Channel::kRegistry;
    fo.replica_path = c_.state_dir / "registry";
    fo.window_bytes = o.window_bytes;
    fo.max_frame_bytes = o.max_frame_bytes;
    fo.check_epoch = true;
    fo.stall_timeout_ms = std::max(1000, o.liveness_ms);
    fo.logger = log_;
    NEMESYST_ASSIGN_OR_RETURN(follower_, Follower::Open(fo));
    client_ = std::make_unique<ClientService>(
        c_.zmq, log_, [this] { return NodeStatusToJson(BuildStatus()); },
        [this](const std::string& op, const std::string& request, const std::string& data) {
          if (op == "push") return Push(request, data);
          if (op == "append") return Append(request, data);
          if (op == "create_stream") return CreateStream(request);
          return ErrorReply(Status::InvalidArgument(
              "unknown op '" + op + "' for a store node (status, append, create_stream)" +
              (op == "import_model" || op == "alias" ? "; the hub owns the model registry" : "")));
        });
    NEMESYST_RETURN_IF_ERROR(client_->Bind(o.client_endpoint));
    c_.client_endpoint = client_->endpoint();
    NEMESYST_RETURN_IF_ERROR(client_->BindPull(o.ingest_endpoint));
    if (!o.serve_model.empty()) {
      serving_ = std::make_unique<Serving>(c_.zmq, c_.store.get(), o, log_);
      NEMESYST_RETURN_IF_ERROR(serving_->Start());
    }
    if (!o.secret_key.empty()) {
      NEMESYST_ASSIGN_OR_RETURN(public_key_, CurvePublicKeyOf(o.secret_key));
      NEMESYST_RETURN_IF_ERROR(DecodeCurveKey(o.hub_public_key, "the hub's public key").status());
    }
    if (!o.control_endpoint.empty()) NEMESYST_RETURN_IF_ERROR(BindControl());
    if (HubLink()) sinks_.push_back(&hub_link_);
    if (!o.jetstream.servers.empty()) {
      JetStreamSinkOptions jo;
      jo.jetstream = o.jetstream;
      jo.store_id = o.node_id;
      jo.logger = log_;
      NEMESYST_ASSIGN_OR_RETURN(jetstream_, JetStreamSink::Start(c_.store.get(), jo));
      sinks_.push_back(jetstream_.get());
      if (!HubLink()) {
        // No ZeroMQ hub: the registry (models, aliases) comes from the JetStream registry log,
        // published by whichever hub leads it (the highest epoch).
        registry_feed_ = std::make_unique<LogFeed>(
            &follower_->replica(), RegistryFeedOptions(o.jetstream, o.node_id, log_));
      }
    }
    Connect();
    return Status::OK();
  }

  void RunOnce(int timeout_ms) override {
    PollRoleSockets(*socket_, *monitor_, *client_, extras_, timeout_ms,
                    [this](Received& received) { OnHubMessage(received); });
    SendShedReplies();
    // Reconnecting replaces the socket, so it waits until the poll has finished reading it.
    if (reconnect_) Connect();
    const int64_t now = NowMicros();
    const NodeOptions& o = c_.options;
    if (now - last_tick_us_ >= o.heartbeat_ms * 1000) {
      last_tick_us_ = now;
      if (joined_) {
        follower_->Tick(ToHubFollower());
        Send(Heartbeat(*c_.store));
        Send(Report());
      }
      // A hub silent for liveness_ms is gone: a new socket, JOIN again, backing off.
      const int64_t since = now - std::max(last_heard_us_, last_join_us_);
      if (HubLink() && since > int64_t{o.liveness_ms} * 1000 &&
          now - last_join_us_ > backoff_ms_ * 1000) {
        if (connected_) {
          log_->Log(LogLevel::kWarn, "nodes.store", "hub silent: reconnecting",
                    {{"hub", o.hub_endpoint}, {"silent_ms", std::to_string(since / 1000)}});
        }
        backoff_ms_ =
            std::min<int64_t>(std::max<int64_t>(backoff_ms_ * 2, 200), o.reconnect_max_ms);
        Connect();
      }
      // The journal is kept for the JetStream log too, through what it has acknowledged.
      TrimWhenDue(*leader_, o, &last_trim_us_, log_, DurableEverywhere(UINT64_MAX));
      // A promotion replicated into the registry replica: the new version is built and swapped.
      if (serving_) serving_->Track(follower_->replica());
    }
    if (joined_) {
      Status pumped = leader_->Pump(ToHubLeader());
      if (!pumped.ok()) {
        last_error_ = pumped.ToString();
        log_->Log(LogLevel::kError, "nodes.store", "reading the journal failed",
                  {{"error", last_error_}});
      }
    }
    const uint64_t newest = c_.store->LastChangePosition();
    if (HubLink()) hub_link_.RecordDurable(leader_->durable(kHub));
    if (newest != notified_position_) {
      notified_position_ = newest;
      for (ReplicationSink* sink : sinks_) sink->Notify();
    }
    semi_.Update(DurableEverywhere(0), newest);
  }

  NodeStatus BuildStatus() override {
    NodeStatus s = BaseNodeStatus(c_, NodeRole::kStore, malformed_);
    s.ack_mode = semi_.ModeName();
    s.connected = connected_;
    s.appended_records = appended_records_.load();
    s.append_latency = append_latency_.Histogram();
    s.epoch = registry_feed_ ? registry_feed_->epoch() : follower_->status().epoch;
    if (HubLink()) hub_link_.RecordStatus(LeaderPeerStatus(*leader_, kHub, "data", *c_.store));
    for (const ReplicationSink* sink : sinks_) s.peers.push_back(sink->status());
    if (HubLink()) s.peers.push_back(FollowerPeerStatus(*follower_, kHub, "registry"));
    if (registry_feed_) s.peers.push_back(registry_feed_->status());
    if (serving_) s.serving = serving_->Snapshot();
    s.serving.ingest_endpoint = client_->pull_endpoint();
    s.serving.pushes = pushes_.load();
    s.serving.push_errors = push_errors_.load();
    // A refusal stays the reported error until the hub admits this node.
    const std::string& error = !refusal_.empty() ? refusal_ : last_error_;
    if (!error.empty() && !s.peers.empty() && s.peers[0].last_error.empty()) {
      s.peers[0].last_error = error;
    }
    return s;
  }

  Status WaitReplicated(uint64_t position, int64_t timeout_ms) override {
    if (semi_.WaitUntil(position, timeout_ms)) return Status::OK();
    return Status::DeadlineExceeded(std::string(HubLink() ? "the hub" : "JetStream") +
                                    " did not acknowledge position " + std::to_string(position) +
                                    " within " + std::to_string(timeout_ms) + " ms");
  }

  void TearDown() override {
    if (control_) control_->Stop();
    extras_.clear();
    control_.reset();
    zap_.reset();
    if (client_) client_->Stop();  // no more appends reach the serving thread
    serving_.reset();
    client_.reset();
    // No append can reach the sinks any more.
    registry_feed_.reset();
    sinks_.clear();
    jetstream_.reset();
    monitor_.reset();
    socket_.reset();
    follower_.reset();
    leader_.reset();
  }

 private:
  // The store's control endpoint (docs/control.md): `status`, for operators and its hub. With
  // keys a CURVE server: operators' keys (node.operators_file) and the hub's key are admitted.
  Status BindControl() {
    const NodeOptions& o = c_.options;
    if (!o.secret_key.empty()) {
      AllowList callers;
      for (const auto& [key, name] : o.operators) callers[key] = "operator:" + name;
      callers[o.hub_public_key] = "hub:hub";
      zap_ = std::make_unique<ZapHandler>(
          c_.zmq, std::map<std::string, AllowList>{{kControlZapDomain, callers}}, log_,
          "nodes.store");
      extras_.push_back({&zap_->socket(), [this] { zap_->OnReadable(); }});
    }
    std::vector<ControlOp> ops;
    ops.push_back({"status",
                   {"operator", "hub"},
                   /*quick=*/true,
                   [this](const ControlCaller&, const nlohmann::json&,
                          ControlOp::Clock::time_point) -> Result<nlohmann::json> {
                     return nlohmann::json::parse(NodeStatusToJson(BuildStatus()));
                   }});
    control_ = std::make_unique<ControlService>(c_.zmq, log_, std::move(ops));
    NEMESYST_RETURN_IF_ERROR(control_->Bind(o.control_endpoint, o.secret_key));
    c_.control_endpoint = control_->endpoint();
    extras_.push_back({&control_->socket(), [this] { control_->OnRequest(); }});
    extras_.push_back({&control_->wake(), [this] { control_->OnWake(); }});
    return Status::OK();
  }

  void Connect() {
    const NodeOptions& o = c_.options;
    reconnect_ = false;
    monitor_.reset();
    socket_ = std::make_unique<zmq::socket_t>(c_.zmq, zmq::socket_type::dealer);
    SetCommonOptions(*socket_, o);
    if (!o.secret_key.empty()) {
      socket_->set(zmq::sockopt::curve_serverkey, o.hub_public_key);
      socket_->set(zmq::sockopt::curve_publickey, public_key_);
      socket_->set(zmq::sockopt::curve_secretkey, o.secret_key);
    }
    monitor_ = std::make_unique<SocketMonitor>(c_.zmq, *socket_, "to hub", log_);
    if (!HubLink()) return;  // JetStream only: the socket stays unconnected, nothing joins
    socket_->connect(o.hub_endpoint);
    leader_->EndSession(kHub);
    follower_->EndSession();
    connected_ = false;
    joined_ = true;
    last_join_us_ = NowMicros();
    WireMessage join;
    join.type = MsgType::kJoin;
    join.node_id = o.node_id;
    join.role = 1;
    Send(join);
    ToHubFollower()(follower_->Hello());
  }

  void Send(const WireMessage& m) { SendWire(*socket_, "", m); }

  // Whether this node replicates to a hub over ZeroMQ (node.hub set); without it, JetStream only.
  bool HubLink() const { return !c_.options.hub_endpoint.empty(); }
  // What every sink holds durably (`none`: there is no sink): semi-sync appends wait for all of
  // them, and the journal is kept for the least of them.
  uint64_t DurableEverywhere(uint64_t none) const {
    if (sinks_.empty()) return none;
    uint64_t durable = UINT64_MAX;
    for (const ReplicationSink* sink : sinks_)
      durable = std::min(durable, sink->durable_position());
    return durable;
  }

  // What this node serves, for the hub's status, fleet page and `deploy` (docs/control.md).
  WireMessage Report() const {
    WireMessage m;
    m.type = MsgType::kReport;
    nlohmann::json j = nlohmann::json::object();
    if (serving_) {
      const ServingStatus s = serving_->Snapshot();
      j = {{"reference", s.reference},
           {"model", s.model},
           {"building", s.building},
           {"devices", s.devices},
           {"last_error", s.last_error.substr(0, 512)}};
    }
    m.detail = j.dump();
    return m;
  }
  Leader::SendFn ToHubLeader() {
    return [this](const std::string&, WireMessage m) { Send(std::move(m)); };
  }
  Follower::SendFn ToHubFollower() {
    return [this](WireMessage m) { Send(std::move(m)); };
  }

  void OnHubMessage(Received& received) {
    if (reconnect_) return;  // the rest of a connection being replaced
    std::vector<std::string_view> frames;
    for (const zmq::message_t& f : received.frames) frames.emplace_back(f.data<char>(), f.size());
    Result<WireMessage> m = DecodeMessage(frames, kMaxWireFrameBytes);
    if (!m.ok()) {
      ++malformed_;
      log_->Log(LogLevel::kDebug, "nodes.store", "malformed message dropped",
                {{"error", m.status().ToString()}});
      return;
    }
    last_heard_us_ = NowMicros();
    if (m->channel != Channel::kNode) refusal_.clear();  // admitted: replication traffic flows
    if (!connected_ && m->type != MsgType::kError) {
      connected_ = true;
      backoff_ms_ = 0;
      log_->Log(LogLevel::kInfo, "nodes.store", "connected to the hub",
                {{"hub", c_.options.hub_endpoint}});
    }
    Status s;
    switch (m->channel) {
      case Channel::kData:
        s = leader_->OnMessage(kHub, *m, ToHubLeader());
        break;
      case Channel::kRegistry:
        s = follower_->OnMessage(*m, ToHubFollower());
        break;
      case Channel::kNode:
        // The hub's heartbeat carries its newest position: the registry follower's measure of
        // being behind (and so of stalling).
        if (m->type == MsgType::kHeartbeat) s = follower_->OnMessage(*m, ToHubFollower());
        if (m->type == MsgType::kShed) OnShed(*m);
        if (m->type == MsgType::kError) {
          last_error_ = "hub: " + m->detail;
          if (m->error == ErrorCode::kNeedHello) {
            reconnect_ = true;  // the hub does not know this connection (it restarted): JOIN again
          } else {
            log_->Log(LogLevel::kError, "nodes.store", "the hub refused this node",
                      {{"error", m->detail}});
            refusal_ = last_error_;
            joined_ = false;  // stay quiet until the backoff reconnects
            backoff_ms_ = c_.options.reconnect_max_ms;
          }
        }
        break;
    }
    if (!s.ok()) {
      last_error_ = s.ToString();
      log_->Log(LogLevel::kError, "nodes.store", "replication error", {{"error", last_error_}});
    }
  }

  // A dispatch request from the hub: planned on the client worker (it reads the store), the
  // answer sent from this thread by SendShedReplies. A malformed one is counted and dropped.
  void OnShed(const WireMessage& m) {
    Result<ShedAsk> ask = DecodeShedAsk(m.payloads.at(0));
    if (!ask.ok()) {
      ++malformed_;
      log_->Log(LogLevel::kWarn, "nodes.store", "malformed dispatch request dropped",
                {{"error", ask.status().ToString()}});
      return;
    }
    log_->Log(LogLevel::kInfo, "nodes.store", "dispatch request",
              {{"id", ask->id},
               {"ask", std::to_string(ask->ask)},
               {"shed_kw", std::to_string(ask->request.shed_kw)}});
    client_->Post([this, ask = std::move(*ask)] {
      LivePredictions live;
      if (serving_) {
        Serving::LiveView view = serving_->Latest();
        live = {std::move(view.model), std::move(view.stream), std::move(view.latest)};
      }
      const ShedAnswer answer = PlanStoreShed(*c_.store, c_.options, live, ask);
      {
        std::lock_guard lock(shed_mu_);
        shed_replies_.push_back(EncodeShedAnswer(answer));
      }
      client_->Kick();
    });
  }

  void SendShedReplies() {
    std::vector<std::string> replies;
    {
      std::lock_guard lock(shed_mu_);
      replies.swap(shed_replies_);
    }
    if (!joined_) return;  // the hub asks again
    for (std::string& r : replies) {
      WireMessage m;
      m.type = MsgType::kShedReply;
      m.payloads.push_back(std::move(r));
      Send(m);
    }
  }

  // Worker thread: {"op":"create_stream","stream":...,"schema":{...}} (the schema's JSON form,
  // store_json.h); an existing stream with the same schema is not an error.
  std::string CreateStream(const std::string& request) {
    nlohmann::json j = nlohmann::json::parse(request, nullptr, false);
    const bool named = j.is_object() && j.contains("stream") && j["stream"].is_string();
    const std::string stream = named ? j["stream"].get<std::string>() : "";
    if (stream.empty() || !j.contains("schema")) {
      return ErrorReply(Status::InvalidArgument("create_stream: needs \"stream\" and \"schema\""));
    }
    Result<StreamSchema> schema = SchemaFromJson(j["schema"].dump());
    if (!schema.ok()) return ErrorReply(schema.status().WithContext("create_stream"));
    Status s = c_.store->CreateStream(stream, *schema);
    if (s.code() == StatusCode::kAlreadyExists) {
      Result<StreamSchema> existing = c_.store->GetSchema(stream);
      if (existing.ok() && SchemaToJson(*existing) == SchemaToJson(*schema)) s = Status::OK();
    }
    if (!s.ok()) return ErrorReply(s);
    return nlohmann::json{{"ok", true}, {"stream", stream}}.dump();
  }

  // Worker thread: readings a feed pushed (ingest endpoint): an append whose reply goes nowhere,
  // so a refusal is counted and logged (with the feed's source name when it gives one).
  std::string Push(const std::string& request, const std::string& data) {
    ++pushes_;
    std::string reply;
    bool ok = false;
    if (request.empty()) {
      reply =
          ErrorReply(Status::InvalidArgument("a push is one JSON frame (at most 64 KiB) and "
                                             "an optional rows frame, not " +
                                             data));
    } else {
      reply = Append(request, data);
      const nlohmann::json j = nlohmann::json::parse(reply, nullptr, false);
      ok = j.is_object() && j.value("ok", false);
    }
    if (!ok) {
      ++push_errors_;
      log_->Log(LogLevel::kWarn, "nodes.store", "pushed readings refused", {{"reply", reply}});
    }
    return reply;
  }

  // Worker thread: an append request from a local client, through the same validation as
  // `nemesyst ingest` (the request carries its options: IngestOptionsFromJson).
  std::string Append(const std::string& request, const std::string& data) {
    const Serving::Clock::time_point arrived = Serving::Clock::now();
    Result<IngestOptions> parsed = IngestOptionsFromJson(request);
    if (!parsed.ok()) return ErrorReply(parsed.status());
    IngestOptions io = std::move(*parsed);
    // The rows go through ingest exactly as a file would.
    const int fd = ::memfd_create("nemesyst-append", MFD_CLOEXEC);
    if (fd < 0) return ErrorReply(Status::IOError("append: no memory file"));
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size()) ||
        ::lseek(fd, 0, SEEK_SET) != 0) {
      return ErrorReply(Status::IOError("append: cannot buffer the rows"));
    }
    IngestReport report;
    struct Timed {  // every return below records the append's time
      LatencyRecorder& latency;
      Serving::Clock::time_point start;
      ~Timed() {
        latency.Record(
            std::chrono::duration<double, std::micro>(Serving::Clock::now() - start).count());
      }
    } timed{append_latency_, arrived};
    // Errors name the client's input (its file name, when it sent one).
    const nlohmann::json j = nlohmann::json::parse(request, nullptr, false);
    const std::string source = j.is_object() && j.contains("source") && j["source"].is_string()
                                   ? j["source"].get<std::string>()
                                   : "client";
    Status s = IngestFd(*c_.store, fd, source, io, &report);
    appended_records_ += report.rows_committed;
    // Appends run one at a time on this thread, so ranges reach serving in commit order.
    if (serving_) serving_->OnAppended(io.stream, report.appended, arrived);
    if (!s.ok() && report.rows_committed == 0) return ErrorReply(s);
    // A failure after some batches committed still says what is in the store (and replicates).
    const uint64_t position = c_.store->LastChangePosition();
    // The network thread sends the new changes now, not at its next tick, and wakes every sink.
    client_->Kick();
    const bool replicated = semi_.WaitDurable(position);
    nlohmann::json errors = nlohmann::json::array();
    for (const IngestError& e : report.error_details) errors.push_back(e.ToString());
    nlohmann::json seqs = nlohmann::json::array();
    for (const SeqRange& r : report.appended) seqs.push_back({r.first, r.last});
    nlohmann::json reply = {{"ok", s.ok() && !report.rejected},
                            {"rows_read", report.rows_read},
                            {"rows_committed", report.rows_committed},
                            {"rows_dead_lettered", report.rows_dead_lettered},
                            {"rejected", report.rejected},
                            {"errors", errors},
                            {"seqs", seqs},
                            {"position", position},
                            {"replicated", replicated},
                            {"ack_mode", semi_.ModeName()}};
    if (!s.ok()) {
      reply["code"] = std::string(StatusCodeName(s.code()));
      reply["error"] = std::string(s.message());
    }
    return reply.dump();
  }

  NodeContext& c_;
  Logger* log_;
  SemiSync semi_;
  std::unique_ptr<Leader> leader_;
  std::unique_ptr<Follower> follower_;
  std::unique_ptr<ClientService> client_;
  std::unique_ptr<ZapHandler> zap_;          // with keys and a control endpoint
  std::unique_ptr<ControlService> control_;  // when control_endpoint is set
  std::vector<ExtraSocket> extras_;
  std::unique_ptr<Serving> serving_;  // when serve_model is set
  // Where the journal goes: the hub link (node.hub set) and JetStream (jetstream.servers set).
  std::vector<ReplicationSink*> sinks_;
  HubLinkSink hub_link_;
  std::unique_ptr<JetStreamSink> jetstream_;
  std::unique_ptr<LogFeed> registry_feed_;  // ... and node.hub is not
  uint64_t notified_position_ = 0;
  std::unique_ptr<zmq::socket_t> socket_;
  std::unique_ptr<SocketMonitor> monitor_;
  std::string public_key_;
  bool connected_ = false, joined_ = false;
  bool reconnect_ = false;  // set while reading the socket; Connect() runs after the poll
  int64_t last_heard_us_ = 0, last_join_us_ = 0, last_tick_us_ = 0, last_trim_us_ = 0;
  int64_t backoff_ms_ = 0;
  uint64_t malformed_ = 0;
  std::atomic<uint64_t> appended_records_{0};
  std::atomic<uint64_t> pushes_{0}, push_errors_{0};
  LatencyRecorder append_latency_;
  std::string last_error_;
  std::string refusal_;  // why the hub refused this node, until it admits it
  std::mutex shed_mu_;
  std::vector<std::string> shed_replies_;  // planned on the worker, sent by the network thread
};

}  // namespace

std::unique_ptr<Role> MakeStoreRole(NodeContext* context) {
  return std::make_unique<StoreRole>(context);
}

}  // namespace nemesyst::nodes
