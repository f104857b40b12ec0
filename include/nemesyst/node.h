// A node: the long-running process that owns a store and replicates it (docs/replication.md).
//
//   NodeOptions hub;  hub.role = NodeRole::kHub;  hub.store_path = "/var/lib/nemesyst/hub";
//   auto h = Node::Start(hub).value();                       // listens on tcp://127.0.0.1:7750
//   NodeOptions store;  store.node_id = "store-0042";  store.hub_endpoint = h->listen_endpoint();
//   auto s = Node::Start(store).value();                     // replicates its streams to the hub
//
// A store node owns its store (it is the only writer of its streams), takes appends from clients
// over its client endpoint (`nemesyst ingest --connect`), and replicates its streams to the hub;
// it follows the hub's model registry into a replica. The hub keeps one replica per store node
// (each under that store's namespace, never mixed) and owns the registry, which it replicates to
// every store. Each namespace has one writer, so replication is one-way per namespace.
//
// Thread-safety: Start, Status and Stop may be called from any thread; a Node runs its own
// threads (network, client work) until Stop or destruction.
#ifndef NEMESYST_NODE_H_
#define NEMESYST_NODE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nemesyst/export.h"
#include "nemesyst/logger.h"
#include "nemesyst/model.h"
#include "nemesyst/status.h"
#include "nemesyst/store.h"

namespace nemesyst {

enum class NodeRole { kStore, kHub };
NEMESYST_EXPORT std::string_view NodeRoleName(NodeRole role);  // "store" | "hub"
NEMESYST_EXPORT Result<NodeRole> ParseNodeRole(std::string_view text);

// When does an append through the client endpoint return?
enum class AckMode {
  kAsync,     // once committed to the node's own store (default)
  kSemiSync,  // once the hub has it durably — or, past semi_sync_timeout_ms, committed locally:
              // the node then degrades to async (logged, shown in status), keeps taking appends,
              // and returns to semi-sync once the hub has caught up
};
NEMESYST_EXPORT std::string_view AckModeName(AckMode mode);  // "async" | "semi-sync"
NEMESYST_EXPORT Result<AckMode> ParseAckMode(std::string_view text);

// Replication through NATS JetStream (docs/scale-out.md): a store node publishes its change
// journal to the log; hub workers build per-store views from it. Off while `servers` is empty.
struct JetStreamOptions {
  // NATS URLs, comma-separated ("nats://127.0.0.1:4222,nats://127.0.0.1:4223"). Beyond loopback
  // only with TLS (tls_ca_file) or plaintext_beyond_loopback.
  std::string servers;
  std::string stream = "NEMESYST_LOG";      // the JetStream stream holding every store's log
  std::string subject_prefix = "nemesyst";  // logs on <prefix>.log.<store>
  int replicas = 3;                         // of the stream and the buckets (1 for one server)
  int64_t max_age_s = 0;                    // log retention; 0 = kept until deleted
  int64_t duplicate_window_s = 120;         // JetStream's de-duplication window
  // Client security: a credentials file (JWT + NKey seed), and TLS (CA, client cert + key).
  std::string creds_file;
  std::string tls_ca_file, tls_cert_file, tls_key_file;
  int publish_timeout_ms = 2000;            // one publish's wait for JetStream's ack
  uint32_t max_message_bytes = 900 * 1024;  // payload per message (a server's max_payload: 1 MiB)
  // Hub workers: a store's view belongs to the worker holding its lease; a lease not renewed
  // for lease_ms passes to another worker.
  int lease_ms = 3000;
  // Hub: publish this hub's model registry (models and aliases) on <prefix>.registry, stamped
  // with node.epoch. false: a hub follows that log into its own registry (a standby, promoted by
  // restarting it with publish_registry and a higher epoch). Store nodes without a ZeroMQ hub
  // follow it into their registry replica, refusing lower epochs.
  bool publish_registry = false;
  // Hub: forward each ZeroMQ store's replica to JetStream as that store's log — a regional hub
  // under hub workers elsewhere. Such a hub builds no views of its own.
  bool forward = false;
};

struct NodeOptions {
  NodeRole role = NodeRole::kStore;
  // Names the node in logs, lineage and replication; a store node's namespace on the hub. With
  // CURVE keys, the hub takes it from the allow-list entry of the node's key, never from here.
  std::string node_id = "local";
  // The node's own store: a store node's streams, the hub's model registry.
  std::string store_path = "./nemesyst-data";
  StoreOptions store;
  // Replicas, snapshots and other state of the node. Empty: store_path + ".node".
  std::string state_dir;

  // Store role: where the hub listens. Hub role: where to listen. ZeroMQ endpoints; the port may
  // be "*" (chosen at start: listen_endpoint() tells it).
  std::string hub_endpoint = "tcp://127.0.0.1:7750";
  std::string listen_endpoint = "tcp://127.0.0.1:7750";
  // Where clients append and ask for status (`ingest --connect`, `node status`). Empty: the
  // role's default, tcp://127.0.0.1:7751 (store) or :7752 (hub).
  std::string client_endpoint;

  // Store role, live serving (docs/serving.md). serve_model: the registered model to serve, as a
  // reference resolved in the registry replica ("lstm:production"); empty = no serving. Each new
  // version it resolves to is built, warmed and swapped in without stopping the service.
  // serve_stream: the stream it serves; empty = the one the model was trained on.
  std::string serve_model;
  std::string serve_stream;
  // Readings pushed by feeds (PULL; the same frames as an append request, no reply), predictions
  // published (PUB: one message per prediction, topic = device id), predict requests (ROUTER).
  // Empty: tcp://127.0.0.1:7753, :7754, :7755. Loopback only unless plaintext_beyond_loopback.
  std::string ingest_endpoint;
  std::string predictions_endpoint;
  std::string predict_endpoint;
  ModelOptions serve_model_options;  // backend and threads of the served model
  // Store role, dispatch (docs/control.md): what switching a device off sheds is estimated from
  // its readings of the served stream over the last dispatch_window_s before the newest one —
  // the mean of dispatch_power_field (kW) minus its mean while idle (dispatch_idle_field < 0.5;
  // empty: the lowest reading), leaving out readings with dispatch_skip_field > 0.5. Empty
  // power field: this node refuses dispatches. Predictions older than the window are not used.
  std::string dispatch_power_field;
  std::string dispatch_idle_field;
  std::string dispatch_skip_field;
  double dispatch_window_s = 7200;

  // The control endpoint (docs/control.md): requests with ids and deadlines, authorised by role.
  // Hub: empty = tcp://127.0.0.1:7758. Store: empty = none; set, it answers `status` (operators
  // and its hub). With a secret key it is a CURVE server.
  std::string control_endpoint;

  // HTTP for Prometheus (GET /metrics) and, on a hub, the fleet status page (GET /): "host:port"
  // (port 0 = chosen at start; http_endpoint() tells it). Empty = no HTTP. Loopback only unless
  // plaintext_beyond_loopback (docs/operations.md, "Metrics").
  std::string http_endpoint;

  AckMode ack_mode = AckMode::kAsync;
  int64_t semi_sync_timeout_ms = 1000;
  // Hub: the registry epoch stamped on every registry change. A store refuses changes from an
  // epoch below the highest it has accepted, so a demoted hub cannot push.
  uint64_t epoch = 1;

  // Security (docs/replication.md, "Security"). With secret_key set, every socket uses CURVE:
  // the hub authenticates store nodes by their public keys (allowed: key → node id), stores
  // authenticate the hub by hub_public_key. Keys are Z85 text (`nemesyst node keygen`).
  std::string secret_key;
  std::string hub_public_key;                                // store role
  std::vector<std::pair<std::string, std::string>> allowed;  // hub: {public key, node id}
  // Hub: keys of operators ({public key, name}): with CURVE, only they may promote and train
  // through the control endpoint (docs/control.md); store keys (allowed) may ask for status.
  std::vector<std::pair<std::string, std::string>> operators;
  // Without keys, endpoints must be loopback unless this is set (then a warning is logged).
  bool plaintext_beyond_loopback = false;

  // Liveness: heartbeats every heartbeat_ms; a peer silent for liveness_ms is gone (sessions end;
  // a store reconnects with backoff up to reconnect_max_ms).
  int heartbeat_ms = 250;
  int liveness_ms = 3000;
  int reconnect_max_ms = 5000;
  // Flow control: payload bytes per frame, and the credit a follower grants beyond what arrived.
  uint32_t max_frame_bytes = 4 << 20;
  uint64_t window_bytes = 16 << 20;
  // Journal retention: trimmed to what every follower has durably applied, within these caps;
  // a follower past them is bootstrapped.
  uint64_t journal_cap_bytes = uint64_t{1} << 30;
  int64_t journal_cap_age_s = 7 * 24 * 3600;

  // Store role: also (or, with hub_endpoint empty, only) publish the journal to JetStream.
  // Hub role: also build views of the stores publishing there (a hub worker).
  JetStreamOptions jetstream;

  Logger* logger = nullptr;  // NullLogger() when null; must outlive the Node
};

// One replication channel with one peer, as this node sees it.
struct PeerStatus {
  std::string peer;                  // node id
  std::string channel;               // "data" (a store's streams) | "registry" (the hub's models)
  std::string transport = "zeromq";  // "zeromq" (the hub link) | "jetstream"
  std::string direction;             // "leader" (this node sends) | "follower" (this node applies)
  bool in_session = false;
  bool bootstrapping = false;
  uint64_t applied = 0;  // follower's applied position (leader: as last acknowledged)
  uint64_t durable = 0;
  uint64_t leader_last = 0;  // the leader's newest position
  uint64_t lag_changes = 0;  // leader_last - applied
  uint64_t lag_bytes = 0;    // bytes of the changes not yet applied (leader side)
  double lag_seconds = 0;    // age of the oldest change not yet applied
  uint64_t bootstraps = 0;
  uint64_t bootstrap_received = 0, bootstrap_total = 0;  // bytes of a bootstrap under way
  uint64_t partial_bytes = 0;  // follower: bytes held of a change arriving in fragments
  // Follower: what recovery did (changes skipped as duplicates, gaps and failed checksums that
  // made it ask again, sessions restarted) and registry changes refused for a stale epoch.
  uint64_t duplicates = 0, gaps = 0, checksum_failures = 0, resyncs = 0, stale_epochs = 0;
  std::string last_error;
  // Hub, data channel: what the store last reported it serves (its REPORT; empty if none).
  std::string serving_reference, serving_model, serving_error;
  uint64_t serving_devices = 0;
};

// A latency distribution since the node started, in Prometheus's histogram form: counts[i] is
// the number of samples <= bounds_us[i] (cumulative); count and sum over every sample.
struct LatencyHistogram {
  std::vector<double> bounds_us;
  std::vector<uint64_t> counts;
  uint64_t count = 0;
  double sum_us = 0;
};

// What a store node serves (docs/serving.md).
struct ServingStatus {
  std::string reference;  // the configured serve_model ("lstm:production"); empty: not serving
  std::string model;      // the version served ("lstm@3"); empty until one is built
  std::string building;   // a version being built and warmed, to be swapped in
  std::string stream;
  std::string ingest_endpoint, predictions_endpoint, predict_endpoint;
  uint64_t devices = 0;
  uint64_t readings = 0;          // readings that advanced the served model
  uint64_t predictions = 0;       // published
  uint64_t requests = 0;          // predict requests answered (errors included)
  uint64_t request_errors = 0;    // answered with an error
  uint64_t pushes = 0;            // messages taken on the ingest endpoint
  uint64_t push_errors = 0;       // of those, refused (malformed, or rows rejected)
  uint64_t swaps = 0;             // versions swapped in (the first one included)
  double last_build_ms = 0;       // load, check, rebuild the state and warm (off the serving path)
  double last_swap_pause_us = 0;  // the serving thread's time to catch up and swap
  // Over the most recent samples: a predict request's time in the node (received → answered),
  // and a reading's (its append received → its prediction published).
  double request_p50_us = 0, request_p99_us = 0;
  double publish_p50_us = 0, publish_p99_us = 0;
  LatencyHistogram request_latency, publish_latency;  // since start (for /metrics)
  std::string last_error;
};

struct NodeStatus {
  std::string node_id;
  NodeRole role = NodeRole::kStore;
  std::string history_id;
  uint64_t last_position = 0;   // the own store's newest change
  uint64_t first_position = 0;  // the oldest still in its journal
  uint64_t epoch = 0;           // hub: its epoch; store: the highest accepted
  std::string ack_mode;         // "async" | "semi-sync" | "async (degraded)"
  std::string listen_endpoint, client_endpoint, control_endpoint;
  bool connected = false;  // store: to the hub
  uint64_t appended_records = 0;
  // Store: an append's (or push's) time on the client worker — validate, commit and, in
  // semi-sync, wait for the hub — since the node started (for /metrics).
  LatencyHistogram append_latency;
  uint64_t malformed_messages = 0;  // dropped and counted
  std::vector<PeerStatus> peers;
  ServingStatus serving;  // store role
};
NEMESYST_EXPORT std::string NodeStatusToJson(const NodeStatus& status);

class NEMESYST_EXPORT Node {
 public:
  // Opens the store (FailedPrecondition naming the owner if another process has it), binds,
  // starts the threads. Errors: bad options, a bad key, a busy port.
  static Result<std::unique_ptr<Node>> Start(NodeOptions options);
  ~Node();  // Stop()
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Ends the sessions and the threads, closes the stores. Idempotent.
  void Stop();
  NodeStatus Status() const;
  // Store role: waits until the hub holds this store's changes through `position` durably (its
  // acknowledgement; e.g. Status().last_position after a burst of appends). DeadlineExceeded
  // after timeout_ms; FailedPrecondition on a hub or a stopped node. Not during Stop().
  nemesyst::Status WaitReplicated(uint64_t position, int64_t timeout_ms) const;
  std::string listen_endpoint() const;  // the bound address (hub), port resolved
  std::string client_endpoint() const;
  std::string http_endpoint() const;     // "127.0.0.1:7756" (port resolved); empty without HTTP
  std::string control_endpoint() const;  // hub: the control endpoint, port resolved

  class Impl;

 private:
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---- CURVE keys (Z85 text, 40 characters) ----------------------------------------------------
struct CurveKeyPair {
  std::string public_key;
  std::string secret_key;
};
NEMESYST_EXPORT Result<CurveKeyPair> GenerateCurveKeyPair();
// InvalidArgument for text that is not a Z85 key.
NEMESYST_EXPORT Result<std::string> CurvePublicKeyOf(const std::string& secret_key);
// An allow-list file: one "<public key> <node id>" per line; '#' at the start of a line or after
// a blank starts a comment (keys may contain '#'). Errors name the file and line.
NEMESYST_EXPORT Result<std::vector<std::pair<std::string, std::string>>> ReadAllowList(
    const std::string& path);

// ---- Clients ---------------------------------------------------------------------------------
// One request to a node's client endpoint (JSON in, JSON out; docs/replication.md, "Client
// requests"): {"op":"status"}, or {"op":"append","stream":...,"format":"csv"|"jsonl"} with
// `data` the rows. DeadlineExceeded when no reply comes within timeout_ms. The client endpoint is
// plaintext and, unless plaintext_beyond_loopback, loopback only: it serves the processes of the
// node's own machine.
struct NodeClientOptions {
  int64_t timeout_ms = 10000;
  // CURVE (a node's control endpoint with keys): this client's secret key and the node's public
  // key, Z85 text. Empty: plaintext.
  std::string curve_secret_key;
  std::string curve_server_key;
};
// What one request may carry: the JSON (64 KiB) and the data (256 MiB: a bigger file goes in
// several appends, or is ingested where the store is). NodeRequest refuses more before sending.
inline constexpr size_t kMaxNodeRequestJsonBytes = size_t{64} << 10;
inline constexpr size_t kMaxNodeRequestDataBytes = size_t{256} << 20;
NEMESYST_EXPORT Result<std::string> NodeRequest(const std::string& endpoint,
                                                const std::string& request_json,
                                                const std::string& data,
                                                const NodeClientOptions& options = {});

// A connection kept open for many requests (NodeRequest opens one per call): what a program
// appending every few seconds should hold. Requests are answered in order; after a timeout the
// connection is replaced, so a late reply is never taken for the next request's.
// Thread-safety: one thread at a time per client.
class NEMESYST_EXPORT NodeClient {
 public:
  // Connecting does not wait for the node: a node not there yet is reached when it starts.
  static Result<std::unique_ptr<NodeClient>> Connect(const std::string& endpoint,
                                                     const NodeClientOptions& options = {});
  ~NodeClient();
  NodeClient(const NodeClient&) = delete;
  NodeClient& operator=(const NodeClient&) = delete;

  Result<std::string> Request(const std::string& request_json, const std::string& data = "");
  const std::string& endpoint() const;

 private:
  struct Impl;
  explicit NodeClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A subscriber to serving store nodes' predictions (their PUB endpoints, docs/serving.md): one
// message per prediction, the device id and the prediction's JSON ({"device","timestamp_us",
// "prediction_s","model","seq"}). PUB drops what a subscriber misses (before it connects, past the
// high-water mark): for answers that must arrive, use predict requests.
// Thread-safety: one thread at a time per subscriber.
class NEMESYST_EXPORT PredictionSubscriber {
 public:
  // Subscribes to every device whose id starts with `device_prefix` ("" = all) on each endpoint.
  static Result<std::unique_ptr<PredictionSubscriber>> Connect(
      const std::vector<std::string>& endpoints, const std::string& device_prefix = "");
  ~PredictionSubscriber();
  PredictionSubscriber(const PredictionSubscriber&) = delete;
  PredictionSubscriber& operator=(const PredictionSubscriber&) = delete;

  struct Message {
    std::string device;
    std::string json;
  };
  // The next message; nullopt when none came within timeout_ms.
  Result<std::optional<Message>> Next(int timeout_ms);

 private:
  struct Impl;
  explicit PredictionSubscriber(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nemesyst

#endif  // NEMESYST_NODE_H_
