// `nemesyst node run|status|predict|keygen` (include/nemesyst/node.h, docs/replication.md).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "nemesyst/node.h"
#include "tools/nemesyst/cli_store.h"
#include "tools/nemesyst/commands.h"
#include "tools/nemesyst/job_cli.h"
#include "tools/nemesyst/storage_cli.h"

namespace nemesyst::cli {
namespace {

Result<std::string> ReadKeyFile(const std::string& path, const char* what) {
  if (path.empty() || path == "-") {  // ReadInput would read stdin
    return Status::InvalidArgument(std::string(what) + ": a file path is required");
  }
  auto text = ReadInput(path);
  if (!text.ok()) return text.status().WithContext(std::string("cannot read ") + what);
  std::string key = text->substr(0, text->find('\n'));
  while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
  return key;
}

// The node's options from the merged configuration (node.*, store.*, log).
Result<NodeOptions> ConfiguredNodeOptions(const CliContext& ctx) {
  const Config& c = ctx.config;
  NodeOptions o;
  NEMESYST_ASSIGN_OR_RETURN(o.role, ParseNodeRole(c.GetString("node.role")));
  o.node_id = c.GetString("node.id");
  o.store_path = c.GetString("store.path");
  NEMESYST_ASSIGN_OR_RETURN(o.store.durability, ParseDurability(c.GetString("store.durability")));
  o.state_dir = c.GetString("node.dir");
  o.hub_endpoint = c.GetString("node.hub");
  o.listen_endpoint = c.GetString("node.listen");
  o.client_endpoint = c.GetString("node.client");
  o.ingest_endpoint = c.GetString("node.ingest");
  o.predictions_endpoint = c.GetString("node.predictions");
  o.predict_endpoint = c.GetString("node.predict");
  const std::string http = c.GetString("node.http");
  if (http != "off") {
    o.http_endpoint =
        !http.empty() ? http : (o.role == NodeRole::kHub ? "127.0.0.1:7757" : "127.0.0.1:7756");
  }
  o.serve_model = c.GetString("serving.model");
  o.serve_stream = c.GetString("serving.stream");
  o.dispatch_power_field = c.GetString("dispatch.power_field");
  o.dispatch_idle_field = c.GetString("dispatch.idle_field");
  o.dispatch_skip_field = c.GetString("dispatch.skip_field");
  o.dispatch_window_s = c.GetDouble("dispatch.window_s");
  if (!(o.dispatch_window_s > 0)) {
    return Status::InvalidArgument("dispatch.window_s must be > 0 seconds");
  }
  NEMESYST_ASSIGN_OR_RETURN(o.serve_model_options, ConfiguredModelOptions(ctx));
  NEMESYST_ASSIGN_OR_RETURN(o.ack_mode, ParseAckMode(c.GetString("node.ack_mode")));
  o.semi_sync_timeout_ms = c.GetInt("node.semi_sync_timeout_ms");
  o.epoch = static_cast<uint64_t>(c.GetInt("node.epoch"));
  o.plaintext_beyond_loopback = c.GetBool("node.plaintext_remote");
  o.heartbeat_ms = static_cast<int>(c.GetInt("node.heartbeat_ms"));
  o.liveness_ms = static_cast<int>(c.GetInt("node.liveness_ms"));
  o.journal_cap_bytes = static_cast<uint64_t>(c.GetInt("node.journal_cap_bytes"));
  o.window_bytes = static_cast<uint64_t>(c.GetInt("node.window_bytes"));
  o.max_frame_bytes = static_cast<uint32_t>(
      std::clamp<int64_t>(c.GetInt("node.max_frame_bytes"), 0, int64_t{1} << 31));
  o.journal_cap_age_s = c.GetInt("node.journal_cap_age_s");
  if (!c.GetString("node.secret_key_file").empty()) {
    NEMESYST_ASSIGN_OR_RETURN(o.secret_key,
                              ReadKeyFile(c.GetString("node.secret_key_file"), "secret key"));
  }
  if (!c.GetString("node.hub_public_key_file").empty()) {
    NEMESYST_ASSIGN_OR_RETURN(
        o.hub_public_key, ReadKeyFile(c.GetString("node.hub_public_key_file"), "hub public key"));
  }
  if (!c.GetString("node.allow_file").empty()) {
    NEMESYST_ASSIGN_OR_RETURN(o.allowed, ReadAllowList(c.GetString("node.allow_file")));
  }
  if (!c.GetString("node.operators_file").empty()) {
    NEMESYST_ASSIGN_OR_RETURN(o.operators, ReadAllowList(c.GetString("node.operators_file")));
  }
  JetStreamOptions& js = o.jetstream;
  js.servers = c.GetString("jetstream.servers");
  js.stream = c.GetString("jetstream.stream");
  js.subject_prefix = c.GetString("jetstream.subject_prefix");
  js.replicas = static_cast<int>(c.GetInt("jetstream.replicas"));
  js.max_age_s = c.GetInt("jetstream.max_age_s");
  js.duplicate_window_s = c.GetInt("jetstream.duplicate_window_s");
  js.creds_file = c.GetString("jetstream.creds_file");
  js.tls_ca_file = c.GetString("jetstream.tls_ca_file");
  js.tls_cert_file = c.GetString("jetstream.tls_cert_file");
  js.tls_key_file = c.GetString("jetstream.tls_key_file");
  js.publish_timeout_ms = static_cast<int>(c.GetInt("jetstream.publish_timeout_ms"));
  js.max_message_bytes = static_cast<uint32_t>(
      std::clamp<int64_t>(c.GetInt("jetstream.max_message_bytes"), 0, int64_t{1} << 31));
  js.lease_ms = static_cast<int>(c.GetInt("jetstream.lease_ms"));
  js.publish_registry = c.GetBool("jetstream.publish_registry");
  js.forward = c.GetBool("jetstream.forward");
  // A store node publishing only to JetStream: node.hub set to "" (or "off").
  if (o.hub_endpoint == "off") o.hub_endpoint.clear();
  // A store has a control endpoint only when one is configured (the default is the hub's port).
  if (o.role == NodeRole::kHub || c.GetEntry("node.control").source != ConfigSource::kDefault) {
    o.control_endpoint = c.GetString("node.control");
  }
  o.logger = ctx.logger.get();
  return o;
}

// The client endpoint `node status` and `ingest --connect` talk to when none is given.
std::string DefaultClientEndpoint(const CliContext& ctx) {
  const std::string configured = ctx.config.GetString("node.client");
  if (!configured.empty()) return configured;
  return ctx.config.GetString("node.role") == "hub" ? "tcp://127.0.0.1:7752"
                                                    : "tcp://127.0.0.1:7751";
}

Status RunNode(CliContext& ctx) {
  NEMESYST_ASSIGN_OR_RETURN(NodeOptions options, ConfiguredNodeOptions(ctx));
  // SIGINT / SIGTERM end the node; block them before its threads start, so only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  NEMESYST_ASSIGN_OR_RETURN(std::unique_ptr<Node> node, Node::Start(options));
  // One line on stdout for whoever started the node (scripts, tests): where it can be reached.
  nlohmann::json ready = {{"ready", true},
                          {"node", options.node_id},
                          {"role", std::string(NodeRoleName(options.role))},
                          {"listen", node->listen_endpoint()},
                          {"client", node->client_endpoint()},
                          {"http", node->http_endpoint()}};
  if (!node->control_endpoint().empty()) ready["control"] = node->control_endpoint();
  if (options.role == NodeRole::kStore) {
    const ServingStatus serving = node->Status().serving;
    ready["ingest"] = serving.ingest_endpoint;
    if (!options.serve_model.empty()) {
      ready["predictions"] = serving.predictions_endpoint;
      ready["predict"] = serving.predict_endpoint;
    }
  }
  std::cout << ready.dump() << std::endl;
  int signal = 0;
  sigwait(&signals, &signal);
  ctx.logger->Log(LogLevel::kInfo, "node", "stopping", {{"signal", std::to_string(signal)}});
  node->Stop();
  return Status::OK();
}

// A field of a status reply as text: a string as it is, anything else as JSON, "?" when absent.
// The reply comes from a peer, so nothing here converts (a wrong type must not throw or wrap).
std::string Field(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end()) return "?";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

bool Flag(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && *it == true;
}

// How a control command reaches the node: its endpoint, and CURVE keys when the node has them
// (--key: this operator's secret key file; --server-key: the node's public key file).
struct ControlFlags {
  std::string connect = "tcp://127.0.0.1:7758";
  std::string key, server_key;
  int64_t deadline_ms = 30000;
  bool json = false;

  void Add(CLI::App* cmd) {
    cmd->add_option("--connect", connect, "The hub's control endpoint (node.control)")
        ->capture_default_str();
    cmd->add_option("--key", key, "This operator's CURVE secret key file (node keygen)");
    cmd->add_option("--server-key", server_key, "The node's CURVE public key file");
    cmd->add_option("--deadline-ms", deadline_ms, "The request's deadline")
        ->capture_default_str()
        ->check(CLI::Range(int64_t{1}, int64_t{86400000}));
    cmd->add_flag("--json", json, "Print the node's JSON answer");
  }
};

// One control request; the reply when "ok", else an error with the node's code and message.
// The reply whatever it says (a dispatch that fell short still tells what it got).
Result<nlohmann::json> ControlExchange(const ControlFlags& f, nlohmann::json request) {
  request["id"] = 1;
  request["deadline_ms"] = f.deadline_ms;
  NodeClientOptions co;
  co.timeout_ms = f.deadline_ms + 2000;  // the node's own deadline answer arrives first
  if (!f.key.empty() || !f.server_key.empty()) {
    NEMESYST_ASSIGN_OR_RETURN(co.curve_secret_key, ReadKeyFile(f.key, "--key"));
    NEMESYST_ASSIGN_OR_RETURN(co.curve_server_key, ReadKeyFile(f.server_key, "--server-key"));
  }
  NEMESYST_ASSIGN_OR_RETURN(std::string reply, NodeRequest(f.connect, request.dump(), "", co));
  nlohmann::json r = nlohmann::json::parse(reply, nullptr, false);
  if (!r.is_object()) return Status::Corruption("node at " + f.connect + ": unreadable reply");
  return r;
}

Result<nlohmann::json> ControlRequest(const ControlFlags& f, nlohmann::json request) {
  NEMESYST_ASSIGN_OR_RETURN(nlohmann::json r, ControlExchange(f, request));
  if (r.value("ok", false) != true) {
    return Status::FailedPrecondition("node at " + f.connect + " refused " +
                                      request.value("op", "") + " (" + Field(r, "code") +
                                      "): " + Field(r, "error"));
  }
  return r;
}

std::string Describe(const nlohmann::json& s) {
  std::ostringstream out;
  out << Field(s, "role") << " node '" << Field(s, "node_id") << "'  history "
      << Field(s, "history_id") << "  position " << Field(s, "last_position") << " (journal from "
      << Field(s, "first_position") << ")\n";
  out << "  ack mode " << Field(s, "ack_mode");
  if (Field(s, "role") == "store") out << "  connected " << (Flag(s, "connected") ? "yes" : "no");
  out << "  epoch " << Field(s, "epoch") << "  client " << Field(s, "client_endpoint") << "\n";
  const auto serving = s.find("serving");
  if (serving != s.end() && serving->is_object() && Field(*serving, "reference") != "" &&
      Field(s, "role") == "store") {
    const nlohmann::json& v = *serving;
    out << "  serving " << Field(v, "reference") << ": "
        << (Field(v, "model").empty() ? std::string("(none yet)") : Field(v, "model"))
        << (Field(v, "building").empty() ? "" : "  building " + Field(v, "building")) << "  on "
        << Field(v, "stream") << "  devices " << Field(v, "devices") << "  predictions "
        << Field(v, "predictions") << "  requests " << Field(v, "requests") << " (p50 "
        << Field(v, "request_p50_us") << " us, p99 " << Field(v, "request_p99_us") << " us)  swaps "
        << Field(v, "swaps") << "\n";
    if (!Field(v, "last_error").empty())
      out << "  serving error: " << Field(v, "last_error") << "\n";
  }
  const auto peers = s.find("peers");
  if (peers == s.end() || !peers->is_array()) return out.str();
  for (const auto& p : *peers) {
    if (!p.is_object()) continue;
    out << "  " << Field(p, "direction") << " of " << Field(p, "channel") << " with "
        << Field(p, "peer") << ": applied " << Field(p, "applied") << " of "
        << Field(p, "leader_last") << "  lag " << Field(p, "lag_changes") << " changes, "
        << Field(p, "lag_bytes") << " bytes, " << Field(p, "lag_seconds") << " s"
        << (Flag(p, "bootstrapping") ? "  (bootstrapping)" : "")
        << (Flag(p, "in_session") ? "" : "  (no session)");
    if (p.contains("serving_model") && !Field(p, "serving_model").empty()) {
      out << "  serves " << Field(p, "serving_model") << " (" << Field(p, "serving_devices")
          << " devices)";
    }
    const auto error = p.find("last_error");
    if (error != p.end() && error->is_string() && !error->get<std::string>().empty()) {
      out << "  last error: " << error->get<std::string>();
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace

void AddNodeCommands(CLI::App& app, CliContext& ctx) {
  CLI::App* node = app.add_subcommand("node", "Run a store or hub node; its status; keys");
  node->require_subcommand(1);

  CLI::App* run = node->add_subcommand(
      "run", "Run a node until SIGINT/SIGTERM (config: node.*; prints a ready line on stdout)");
  auto role = std::make_shared<std::string>();
  auto hub = std::make_shared<std::string>();
  auto listen = std::make_shared<std::string>();
  auto client = std::make_shared<std::string>();
  auto ack = std::make_shared<std::string>();
  run->add_option("--role", *role, "store | hub (config node.role)");
  run->add_option("--hub", *hub, "Store role: the hub's endpoint (config node.hub)");
  run->add_option("--listen", *listen, "Hub role: where to listen (config node.listen)");
  run->add_option("--client", *client, "Client endpoint (config node.client)");
  run->add_option("--ack-mode", *ack, "async | semi-sync (config node.ack_mode)");
  run->callback([&ctx, role, hub, listen, client, ack] {
    ctx.action = [&ctx, role, hub, listen, client, ack]() -> Status {
      const std::pair<const char*, std::shared_ptr<std::string>> flags[] = {{"node.role", role},
                                                                            {"node.hub", hub},
                                                                            {"node.listen", listen},
                                                                            {"node.client", client},
                                                                            {"node.ack_mode", ack}};
      for (const auto& [key, value] : flags) {
        if (!value->empty()) NEMESYST_RETURN_IF_ERROR(ctx.config.ApplyFlag(key, *value, key));
      }
      return RunNode(ctx);
    };
  });

  CLI::App* status = node->add_subcommand(
      "status", "A running node's status (its client endpoint, or the hub's control endpoint)");
  auto status_flags = std::make_shared<ControlFlags>();
  status_flags->connect.clear();
  status_flags->deadline_ms = 5000;
  status_flags->Add(status);
  status->callback([&ctx, status_flags] {
    ctx.action = [&ctx, status_flags]() -> Status {
      ControlFlags f = *status_flags;
      if (f.connect.empty()) f.connect = DefaultClientEndpoint(ctx);
      NEMESYST_ASSIGN_OR_RETURN(nlohmann::json s, ControlRequest(f, {{"op", "status"}}));
      s.erase("id");
      std::cout << (f.json ? s.dump(2) + "\n" : Describe(s));
      return Status::OK();
    };
  });

  CLI::App* predict =
      node->add_subcommand("predict", "Ask a serving store node for its live predictions");
  auto predict_connect = std::make_shared<std::string>("tcp://127.0.0.1:7755");
  auto devices = std::make_shared<std::vector<std::string>>();
  auto predict_json = std::make_shared<bool>(false);
  auto predict_timeout = std::make_shared<int64_t>(5000);
  predict->add_option("--connect", *predict_connect, "The node's predict endpoint (node.predict)")
      ->capture_default_str();
  predict->add_option("--device", *devices, "A device to predict (repeat for several)")->required();
  predict->add_flag("--json", *predict_json, "Print the node's JSON answer");
  predict->add_option("--timeout-ms", *predict_timeout, "How long to wait for the answer")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{3600000}));
  predict->callback([&ctx, predict_connect, devices, predict_json, predict_timeout] {
    ctx.action = [predict_connect, devices, predict_json, predict_timeout]() -> Status {
      NodeClientOptions co;
      co.timeout_ms = *predict_timeout;
      const nlohmann::json request = {{"op", "predict"}, {"devices", *devices}};
      NEMESYST_ASSIGN_OR_RETURN(std::string reply,
                                NodeRequest(*predict_connect, request.dump(), "", co));
      nlohmann::json r = nlohmann::json::parse(reply, nullptr, false);
      if (!r.is_object() || !r.value("ok", false)) {
        return Status::FailedPrecondition("node at " + *predict_connect + " answered: " + reply);
      }
      if (*predict_json) {
        std::cout << r.dump(2) << "\n";
        return Status::OK();
      }
      std::cout << "device,timestamp_us,prediction_s,model\n";
      const auto rows = r.find("predictions");
      if (rows != r.end() && rows->is_array()) {
        for (const auto& p : *rows) {
          if (!p.is_object()) continue;
          std::cout << Field(p, "device") << "," << Field(p, "timestamp_us") << ","
                    << Field(p, "prediction_s") << "," << Field(r, "model") << "\n";
        }
      }
      const auto unknown = r.find("unknown");
      if (unknown != r.end() && unknown->is_array() && !unknown->empty()) {
        std::cerr << "no live prediction (unknown device, or not a full window yet): "
                  << unknown->dump() << "\n";
      }
      return Status::OK();
    };
  });

  CLI::App* promote = node->add_subcommand(
      "promote", "Point a model's alias at a version on the hub (replicated to every store)");
  auto promote_args = std::make_shared<std::tuple<std::string, std::string, uint32_t>>();
  auto promote_flags = std::make_shared<ControlFlags>();
  promote->add_option("model", std::get<0>(*promote_args), "Model name")->required();
  promote->add_option("alias", std::get<1>(*promote_args), "Alias (production, ...)")->required();
  promote->add_option("version", std::get<2>(*promote_args), "Version")->required();
  promote_flags->Add(promote);
  promote->callback([&ctx, promote_args, promote_flags] {
    ctx.action = [promote_args, promote_flags]() -> Status {
      const auto& [model, alias, version] = *promote_args;
      NEMESYST_ASSIGN_OR_RETURN(
          nlohmann::json r,
          ControlRequest(
              *promote_flags,
              {{"op", "promote"}, {"model", model}, {"alias", alias}, {"version", version}}));
      std::cout << (promote_flags->json ? r.dump() + "\n"
                                        : model + ":" + alias + " -> " + model + "@" +
                                              std::to_string(version) + "\n");
      return Status::OK();
    };
  });

  CLI::App* deploy = node->add_subcommand(
      "deploy", "Deploy a model version to stores through the hub; waits until each serves it");
  auto deploy_args =
      std::make_shared<std::tuple<std::string, uint32_t, std::vector<std::string>>>();
  auto deploy_flags = std::make_shared<ControlFlags>();
  deploy_flags->deadline_ms = 60000;
  deploy->add_option("model", std::get<0>(*deploy_args), "Model name")->required();
  deploy->add_option("version", std::get<1>(*deploy_args), "Version (0: undeploy)")->required();
  deploy->add_option("--store", std::get<2>(*deploy_args),
                     "A store to deploy to (repeat; default: every store of the hub)");
  deploy_flags->Add(deploy);
  deploy->callback([&ctx, deploy_args, deploy_flags] {
    ctx.action = [deploy_args, deploy_flags]() -> Status {
      const auto& [model, version, stores] = *deploy_args;
      nlohmann::json request = {{"op", "deploy"}, {"model", model}, {"version", version}};
      if (!stores.empty()) request["stores"] = stores;
      NEMESYST_ASSIGN_OR_RETURN(nlohmann::json r, ControlRequest(*deploy_flags, request));
      if (deploy_flags->json) {
        std::cout << r.dump() << "\n";
      } else if (version == 0) {
        std::cout << "undeployed " << model << " from " << r["undeployed"].dump() << "\n";
      } else {
        std::cout << Field(r, "model") << " served by " << r["serving"].dump() << "\n";
      }
      return Status::OK();
    };
  });

  CLI::App* dispatch = node->add_subcommand(
      "dispatch",
      "A demand-response request through the hub: stores choose cases from their live "
      "predictions and confirm the kW they will shed");
  struct DispatchArgs {
    double shed_kw = 0, duration_min = 20, margin_s = 300, retry_ms = 250;
    std::vector<std::string> stores;
  };
  auto dispatch_args = std::make_shared<DispatchArgs>();
  auto dispatch_flags = std::make_shared<ControlFlags>();
  dispatch_flags->deadline_ms = 5000;
  dispatch->add_option("--shed-kw", dispatch_args->shed_kw, "Power to shed, kW")->required();
  dispatch->add_option("--duration-min", dispatch_args->duration_min, "How long, minutes")
      ->capture_default_str();
  dispatch
      ->add_option("--margin-s", dispatch_args->margin_s,
                   "Safety margin below each predicted safe off-time, seconds")
      ->capture_default_str();
  dispatch->add_option("--store", dispatch_args->stores,
                       "A store to ask (repeat; default: every store serving a model)");
  dispatch->add_option("--retry-ms", dispatch_args->retry_ms, "Re-send to silent stores every")
      ->capture_default_str();
  dispatch_flags->Add(dispatch);
  dispatch->callback([&ctx, dispatch_args, dispatch_flags] {
    ctx.action = [dispatch_args, dispatch_flags]() -> Status {
      const DispatchArgs& a = *dispatch_args;
      nlohmann::json request = {{"op", "dispatch"},
                                {"shed_kw", a.shed_kw},
                                {"duration_s", a.duration_min * 60},
                                {"margin_s", a.margin_s},
                                {"retry_ms", a.retry_ms}};
      if (!a.stores.empty()) request["stores"] = a.stores;
      NEMESYST_ASSIGN_OR_RETURN(nlohmann::json r, ControlExchange(*dispatch_flags, request));
      const bool ok = r.value("ok", false);
      if (dispatch_flags->json) {
        std::cout << r.dump() << "\n";
      } else if (r.contains("requested_kw")) {
        std::cout << "dispatch " << Field(r, "dispatch") << ": confirmed "
                  << Field(r, "confirmed_kw") << " of " << Field(r, "requested_kw") << " kW"
                  << (Flag(r, "met") ? "" : " (NOT met)") << " in " << Field(r, "rounds")
                  << " round(s)\n";
        for (const nlohmann::json& st : r["stores"]) {
          std::cout << "  " << Field(st, "store") << ": ";
          if (st.contains("error")) {
            std::cout << "refused: " << Field(st, "error") << "\n";
          } else if (!st.contains("confirmed_kw")) {
            std::cout << "no answer\n";
          } else {
            std::cout << Field(st, "confirmed_kw") << " kW from " << st["cases"].size()
                      << " case(s) (asked " << Field(st, "asked_kw") << ", could "
                      << Field(st, "available_kw") << "; " << Field(st, "model") << ")\n";
          }
        }
      }
      if (!ok) {
        return Status::FailedPrecondition("dispatch (" + Field(r, "code") +
                                          "): " + Field(r, "error"));
      }
      return Status::OK();
    };
  });

  CLI::App* train = node->add_subcommand(
      "train",
      "Train on the hub over every store's replicated stream; the candidate is registered "
      "and replicated");
  struct TrainArgs {
    std::string name, pipeline, spec, stream;
    int learners = 1, epochs = 0, batch_size = 0;
  };
  auto train_args = std::make_shared<TrainArgs>();
  auto train_flags = std::make_shared<ControlFlags>();
  train_flags->deadline_ms = 3600000;
  train->add_option("--name", train_args->name, "Model name")->required();
  train->add_option("--pipeline", train_args->pipeline, "Pipeline spec file (TOML/JSON)")
      ->required();
  train->add_option("--spec", train_args->spec, "Model spec file (JSON)")->required();
  train->add_option("--stream", train_args->stream, "Stream (default: the pipeline's)");
  train->add_option("--learners", train_args->learners, "Parallel learners")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  train->add_option("--epochs", train_args->epochs, "Epochs (default: the job's)");
  train->add_option("--batch-size", train_args->batch_size, "Batch size (default: the job's)");
  train_flags->Add(train);
  train->callback([&ctx, train_args, train_flags] {
    ctx.action = [train_args, train_flags]() -> Status {
      const TrainArgs& a = *train_args;
      NEMESYST_ASSIGN_OR_RETURN(std::string pipeline, ReadInput(a.pipeline));
      NEMESYST_ASSIGN_OR_RETURN(std::string spec, ReadInput(a.spec));
      nlohmann::json request = {{"op", "train"},
                                {"name", a.name},
                                {"pipeline", pipeline},
                                {"spec", spec},
                                {"learners", a.learners}};
      if (!a.stream.empty()) request["stream"] = a.stream;
      if (a.epochs > 0) request["epochs"] = a.epochs;
      if (a.batch_size > 0) request["batch_size"] = a.batch_size;
      NEMESYST_ASSIGN_OR_RETURN(nlohmann::json r, ControlRequest(*train_flags, request));
      if (train_flags->json) {
        std::cout << r.dump() << "\n";
      } else {
        std::cout << "registered " << Field(r, "model") << " (candidate) after "
                  << Field(r, "seconds") << " s on " << Field(r, "gathered_records")
                  << " newly gathered records\n";
      }
      return Status::OK();
    };
  });

  CLI::App* keygen = node->add_subcommand(
      "keygen", "Make a CURVE key pair: PREFIX.key (secret, mode 0600) and PREFIX.pub");
  auto prefix = std::make_shared<std::string>();
  keygen->add_option("--out", *prefix, "Path prefix of the two files")->required();
  keygen->callback([&ctx, prefix] {
    ctx.action = [prefix]() -> Status {
      NEMESYST_ASSIGN_OR_RETURN(CurveKeyPair pair, GenerateCurveKeyPair());
      const std::string secret_path = *prefix + ".key", public_path = *prefix + ".pub";
      {
        // Created owner-only (never readable by others, even for a moment); an existing file
        // is restricted before it is overwritten.
        const int fd = ::open(secret_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) return Status::IOError("cannot create " + secret_path);
        const std::string line = pair.secret_key + "\n";
        const bool written = ::fchmod(fd, 0600) == 0 && ::write(fd, line.data(), line.size()) ==
                                                            static_cast<ssize_t>(line.size());
        const bool closed = ::close(fd) == 0;
        if (!written || !closed) return Status::IOError("cannot write " + secret_path);
      }
      std::ofstream pub(public_path, std::ios::trunc);
      pub << pair.public_key << "\n";
      if (!pub) return Status::IOError("cannot write " + public_path);
      std::cout << pair.public_key << "\n";
      return Status::OK();
    };
  });
}

}  // namespace nemesyst::cli
