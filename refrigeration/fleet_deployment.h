// The fleet demo's deployment (docs/demo.md, "The fleet form"): a hub and one store node per
// simulated store, each a separate `nemesyst node run` process on loopback, driven the way an
// operator and the stores' feeds would — appends to each store's client endpoint, control
// requests to the hub, predictions read from the stores' PUB endpoints.
//
// Layout under `dir`: hub/ (its store, state and log), store-XXXX/ (each store node's), *.log.
// Every endpoint takes a free port, so several demos (or tests) can run at once.
//
// Thread-safety: one thread drives a FleetDeployment, except LiveFeed, which owns its threads.
#ifndef NEMESYST_REFRIGERATION_FLEET_DEPLOYMENT_H_
#define NEMESYST_REFRIGERATION_FLEET_DEPLOYMENT_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "nemesyst/logger.h"
#include "nemesyst/node.h"
#include "nemesyst/node_process.h"
#include "nemesyst/status.h"
#include "nemesyst/store.h"

namespace nemesyst::refrigeration {

struct FleetDeploymentOptions {
  std::string binary;  // the nemesyst CLI
  std::string dir;
  std::vector<std::string> stores;  // node ids = the simulated stores' ids ("store-0003")
  std::string hub_id = "hub";
  std::vector<std::string> settings;   // "key=value" for every node (--set)
  std::string served_model = "fleet";  // every store serves <served_model>:production
  std::string stream = "fleet";
  StreamSchema schema;  // the stream's, created on every store node
  Logger* logger = nullptr;
};

class FleetDeployment {
 public:
  // Starts the hub, then the store nodes (connected to it, serving served_model:production,
  // dispatch configured for the simulator's fields), and waits until each is ready.
  static Result<std::unique_ptr<FleetDeployment>> Start(const FleetDeploymentOptions& options);
  ~FleetDeployment();  // SIGTERM to every node (SIGKILL when one does not stop)

  // Appends each store's records (`records_of(store)`) to its node (client endpoint, atomic
  // appends of up to 20,000 rows), `parallel` stores at a time, then waits until the hub holds
  // every store's data. Samples the hub's replication lag while it runs.
  struct FeedReport {
    uint64_t records = 0;
    double seconds = 0;  // from the first append to the hub holding everything
    // The largest age, and count, of a store's changes the hub had not acknowledged (sampled
    // from the stores' status every 100 ms).
    double max_lag_seconds = 0;
    uint64_t max_lag_changes = 0;
    double catch_up_seconds = 0;  // from the last append to the hub holding everything
  };
  using RecordSource = std::function<Result<std::vector<Record>>(const std::string& store)>;
  Result<FeedReport> FeedAndReplicate(const RecordSource& records_of, int parallel, int timeout_ms);

  // A control request to the hub; its error when the reply is not ok.
  Result<nlohmann::json> Control(nlohmann::json request, int64_t deadline_ms);
  // The same, returning the reply whatever it says.
  Result<nlohmann::json> ControlReply(nlohmann::json request, int64_t deadline_ms);

  // Copies model name@version from the hub's registry (a read-only open of its store, as any
  // process on the hub's machine may) into `local`; returns the local version.
  Result<uint32_t> CopyModelFromHub(const std::string& name, uint32_t version, Store& local);
  // Registers `blob` as the next version of the served model in the hub's registry (the hub's
  // client endpoint, import_model); returns that version.
  Result<uint32_t> PublishServed(const std::string& blob, const ModelMetadata& metadata);
  // Waits until every store reports serving served_model@version to the hub.
  Status WaitServing(uint32_t version, int timeout_ms);

  const std::vector<std::string>& stores() const { return options_.stores; }
  std::string client_endpoint(const std::string& store) const;
  std::string predict_endpoint(const std::string& store) const;
  std::vector<std::string> predictions_endpoints() const;
  const std::string& served_model() const { return options_.served_model; }
  // The hub's status (its client endpoint).
  Result<nlohmann::json> HubStatus() const;

 private:
  explicit FleetDeployment(FleetDeploymentOptions options) : options_(std::move(options)) {}
  Result<std::unique_ptr<NodeProcess>> Launch(const std::string& name,
                                              std::vector<std::string> args);

  FleetDeploymentOptions options_;
  std::unique_ptr<NodeProcess> hub_;
  std::map<std::string, std::unique_ptr<NodeProcess>> nodes_;
};

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_FLEET_DEPLOYMENT_H_
