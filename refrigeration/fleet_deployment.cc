#include "refrigeration/fleet_deployment.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "nemesyst/refrigeration/fleet.h"
#include "nemesyst/store_json.h"

namespace nemesyst::refrigeration {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kReadyTimeoutMs = 30000;
constexpr size_t kRowsPerAppend = 20000;

Result<nlohmann::json> ParseReply(const std::string& text, const std::string& who) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return Status::Corruption(who + ": unreadable reply");
  return j;
}

Status ReplyStatus(const nlohmann::json& j, const std::string& what) {
  if (j.value("ok", false)) return Status::OK();
  return Status::FailedPrecondition(what + " (" + j.value("code", std::string("?")) +
                                    "): " + j.value("error", std::string("no reason given")));
}

}  // namespace

Result<std::unique_ptr<NodeProcess>> FleetDeployment::Launch(const std::string& name,
                                                             std::vector<std::string> args) {
  const std::string log = (fs::path(options_.dir) / (name + ".log")).string();
  auto node = std::make_unique<NodeProcess>(options_.binary, std::move(args), log);
  if (!node->WaitReady(kReadyTimeoutMs)) {
    return Status::IOError("fleet: node " + name + " did not start (its log: " + log + "):\n" +
                           node->log().substr(0, 2000));
  }
  return node;
}

Result<std::unique_ptr<FleetDeployment>> FleetDeployment::Start(const FleetDeploymentOptions& o) {
  if (o.binary.empty()) return Status::InvalidArgument("fleet: no node binary");
  std::unique_ptr<FleetDeployment> f(new FleetDeployment(o));
  std::error_code ec;
  fs::create_directories(o.dir, ec);
  if (ec) return Status::IOError("fleet: cannot create " + o.dir + ": " + ec.message());
  // Quick heartbeats: the demo waits on reports and replication several times.
  std::vector<std::string> common = {
      "--set", "node.heartbeat_ms=100", "--set", "node.http=127.0.0.1:0",
      "--set", "log.format=json",       "--set", "store.durability=group"};
  for (const std::string& kv : o.settings) {
    common.push_back("--set");
    common.push_back(kv);
  }
  std::vector<std::string> hub = {"--store", (fs::path(o.dir) / "hub").string()};
  hub.insert(hub.end(), common.begin(), common.end());
  hub.push_back("--set");
  hub.push_back("node.id=" + o.hub_id);
  for (const char* a : {"--set", "node.control=tcp://127.0.0.1:*", "node", "run", "--role", "hub",
                        "--listen", "tcp://127.0.0.1:*", "--client", "tcp://127.0.0.1:*"}) {
    hub.push_back(a);
  }
  NEMESYST_ASSIGN_OR_RETURN(f->hub_, f->Launch("hub", hub));
  for (const std::string& id : o.stores) {
    std::vector<std::string> args = {"--store", (fs::path(o.dir) / id).string()};
    args.insert(args.end(), common.begin(), common.end());
    const std::vector<std::string> settings = {"node.id=" + id,
                                               "node.ingest=tcp://127.0.0.1:*",
                                               "node.predictions=tcp://127.0.0.1:*",
                                               "node.predict=tcp://127.0.0.1:*",
                                               "serving.model=" + o.served_model + ":production",
                                               "serving.stream=" + o.stream,
                                               "dispatch.power_field=power_kw",
                                               "dispatch.idle_field=cooling",
                                               "dispatch.skip_field=defrost"};
    for (const std::string& kv : settings) {
      args.push_back("--set");
      args.push_back(kv);
    }
    for (const std::string& a : {std::string("node"), std::string("run"), std::string("--role"),
                                 std::string("store"), std::string("--hub"), f->hub_->listen(),
                                 std::string("--client"), std::string("tcp://127.0.0.1:*")}) {
      args.push_back(a);
    }
    NEMESYST_ASSIGN_OR_RETURN(f->nodes_[id], f->Launch(id, args));
    // The stream every feed appends to.
    const nlohmann::json create = {{"op", "create_stream"},
                                   {"stream", o.stream},
                                   {"schema", nlohmann::json::parse(SchemaToJson(o.schema))}};
    NEMESYST_ASSIGN_OR_RETURN(std::string reply,
                              NodeRequest(f->nodes_[id]->client(), create.dump(), ""));
    NEMESYST_ASSIGN_OR_RETURN(nlohmann::json j, ParseReply(reply, id));
    NEMESYST_RETURN_IF_ERROR(ReplyStatus(j, "creating stream " + o.stream + " on " + id));
  }
  return f;
}

FleetDeployment::~FleetDeployment() {
  for (auto& [id, node] : nodes_) {
    if (node) node->Terminate();
  }
  if (hub_) hub_->Terminate();
}

std::string FleetDeployment::client_endpoint(const std::string& store) const {
  return nodes_.at(store)->client();
}
std::string FleetDeployment::predict_endpoint(const std::string& store) const {
  return nodes_.at(store)->endpoint("predict");
}
std::vector<std::string> FleetDeployment::predictions_endpoints() const {
  std::vector<std::string> out;
  for (const auto& [id, node] : nodes_) out.push_back(node->endpoint("predictions"));
  return out;
}

Result<nlohmann::json> FleetDeployment::HubStatus() const {
  NodeClientOptions co;
  co.timeout_ms = 5000;
  NEMESYST_ASSIGN_OR_RETURN(std::string reply,
                            NodeRequest(hub_->client(), R"({"op":"status"})", "", co));
  return ParseReply(reply, "hub status");
}

Result<FleetDeployment::FeedReport> FleetDeployment::FeedAndReplicate(
    const RecordSource& records_of, int parallel, int timeout_ms) {
  FeedReport report;
  const Clock::time_point t0 = Clock::now();
  std::mutex mu;
  Status failed;
  std::map<std::string, uint64_t> positions;
  size_t next = 0;
  // Each store's own feed, `parallel` at a time (as the stores of a fleet would, all at once).
  auto feed_one = [&](const std::string& id) -> Status {
    NEMESYST_ASSIGN_OR_RETURN(std::vector<Record> records, records_of(id));
    NodeClientOptions co;
    co.timeout_ms = 120000;
    NEMESYST_ASSIGN_OR_RETURN(std::unique_ptr<NodeClient> client,
                              NodeClient::Connect(client_endpoint(id), co));
    uint64_t position = 0;
    for (size_t at = 0; at < records.size(); at += kRowsPerAppend) {
      const size_t n = std::min(kRowsPerAppend, records.size() - at);
      const std::string csv = RecordsToCsv(std::span<const Record>(records).subspan(at, n));
      const nlohmann::json request = {{"op", "append"},
                                      {"stream", options_.stream},
                                      {"format", "csv"},
                                      {"timestamp_format", "us"},
                                      {"source", id + " feed"}};
      NEMESYST_ASSIGN_OR_RETURN(std::string reply, client->Request(request.dump(), csv));
      NEMESYST_ASSIGN_OR_RETURN(nlohmann::json j, ParseReply(reply, id));
      NEMESYST_RETURN_IF_ERROR(ReplyStatus(j, "feeding " + id));
      position = j.value("position", uint64_t{0});
    }
    std::lock_guard lock(mu);
    report.records += records.size();
    positions[id] = position;
    return Status::OK();
  };
  std::vector<std::thread> feeds;
  for (int w = 0; w < std::max(1, parallel); ++w) {
    feeds.emplace_back([&] {
      while (true) {
        std::string id;
        {
          std::lock_guard lock(mu);
          if (next >= options_.stores.size() || !failed.ok()) return;
          id = options_.stores[next++];
        }
        Status s = feed_one(id);
        std::lock_guard lock(mu);
        if (!s.ok() && failed.ok()) failed = s.WithContext("feeding " + id);
      }
    });
  }
  // Meanwhile: how far behind the hub each store is, as the store sees it (its data leader knows
  // its newest change and the hub's acknowledgement), sampled from the stores' status.
  std::atomic<bool> feeding{true};
  std::thread sampler([&] {
    NodeClientOptions co;
    co.timeout_ms = 2000;
    while (feeding) {
      for (const std::string& id : options_.stores) {
        Result<std::string> reply = NodeRequest(client_endpoint(id), R"({"op":"status"})", "", co);
        const nlohmann::json s =
            reply.ok() ? nlohmann::json::parse(*reply, nullptr, false) : nlohmann::json();
        if (!s.is_object() || !s.contains("peers") || !s["peers"].is_array()) continue;
        for (const nlohmann::json& p : s["peers"]) {
          if (p.value("channel", "") != "data") continue;
          std::lock_guard lock(mu);
          report.max_lag_seconds = std::max(report.max_lag_seconds, p.value("lag_seconds", 0.0));
          report.max_lag_changes =
              std::max(report.max_lag_changes, p.value("lag_changes", uint64_t{0}));
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  for (std::thread& t : feeds) t.join();
  const Clock::time_point fed = Clock::now();
  Status held = failed;
  // The hub holds everything once each store's data follower has applied its newest position.
  const Clock::time_point deadline = t0 + std::chrono::milliseconds(timeout_ms);
  while (held.ok()) {
    Result<nlohmann::json> s = HubStatus();
    size_t caught_up = 0;
    if (s.ok() && (*s)["peers"].is_array()) {
      for (const nlohmann::json& p : (*s)["peers"]) {
        if (p.value("channel", "") != "data") continue;
        auto it = positions.find(p.value("peer", ""));
        if (it != positions.end() && p.value("applied", uint64_t{0}) >= it->second) ++caught_up;
      }
    }
    if (caught_up == positions.size()) break;
    if (Clock::now() > deadline) {
      held = Status::DeadlineExceeded("fleet: the hub did not hold every store's data within " +
                                      std::to_string(timeout_ms) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  feeding = false;
  sampler.join();
  NEMESYST_RETURN_IF_ERROR(held);
  report.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  report.catch_up_seconds = std::chrono::duration<double>(Clock::now() - fed).count();
  return report;
}

Result<nlohmann::json> FleetDeployment::ControlReply(nlohmann::json request, int64_t deadline_ms) {
  request["id"] = request.value("op", std::string("request"));
  request["deadline_ms"] = deadline_ms;
  NodeClientOptions co;
  co.timeout_ms = deadline_ms + 5000;  // the hub's own deadline answer comes first
  NEMESYST_ASSIGN_OR_RETURN(std::string reply,
                            NodeRequest(hub_->endpoint("control"), request.dump(), "", co));
  return ParseReply(reply, "hub control");
}

Result<nlohmann::json> FleetDeployment::Control(nlohmann::json request, int64_t deadline_ms) {
  const std::string op = request.value("op", std::string("?"));
  NEMESYST_ASSIGN_OR_RETURN(nlohmann::json j, ControlReply(std::move(request), deadline_ms));
  NEMESYST_RETURN_IF_ERROR(ReplyStatus(j, "hub " + op));
  return j;
}

Result<uint32_t> FleetDeployment::CopyModelFromHub(const std::string& name, uint32_t version,
                                                   Store& local) {
  StoreOptions ro;
  ro.read_only = true;
  std::unique_ptr<Store> hub;
  NEMESYST_RETURN_IF_ERROR(
      Store::Open(ro, (fs::path(options_.dir) / "hub").string(), &hub).WithContext("hub store"));
  NEMESYST_ASSIGN_OR_RETURN(std::string blob, hub->ReadModelBlob(name, version));
  NEMESYST_ASSIGN_OR_RETURN(ModelInfo info, hub->GetModelInfo(name, version));
  return local.PutModel(name, blob, info.metadata);
}

Result<uint32_t> FleetDeployment::PublishServed(const std::string& blob,
                                                const ModelMetadata& metadata) {
  const nlohmann::json request = {
      {"op", "import_model"},
      {"name", options_.served_model},
      {"metadata", nlohmann::json::parse(ModelMetadataToJson(metadata))}};
  NodeClientOptions co;
  co.timeout_ms = 30000;
  NEMESYST_ASSIGN_OR_RETURN(std::string reply,
                            NodeRequest(hub_->client(), request.dump(), blob, co));
  NEMESYST_ASSIGN_OR_RETURN(nlohmann::json j, ParseReply(reply, "hub import_model"));
  NEMESYST_RETURN_IF_ERROR(ReplyStatus(j, "hub import_model"));
  return j.value("version", uint32_t{0});
}

Status FleetDeployment::WaitServing(uint32_t version, int timeout_ms) {
  const std::string want = options_.served_model + "@" + std::to_string(version);
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    size_t serving = 0;
    std::string last;
    if (Result<nlohmann::json> s = HubStatus(); s.ok() && (*s)["peers"].is_array()) {
      for (const nlohmann::json& p : (*s)["peers"]) {
        if (p.value("channel", "") != "data") continue;
        if (p.value("serving_model", "") == want) {
          ++serving;
        } else if (!p.value("serving_error", "").empty()) {
          last = p.value("peer", "") + ": " + p.value("serving_error", "");
        }
      }
    }
    if (serving == options_.stores.size()) return Status::OK();
    if (Clock::now() > deadline) {
      return Status::DeadlineExceeded("fleet: " + std::to_string(serving) + " of " +
                                      std::to_string(options_.stores.size()) + " stores serve " +
                                      want + " after " + std::to_string(timeout_ms) + " ms" +
                                      (last.empty() ? "" : " (" + last + ")"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace nemesyst::refrigeration
