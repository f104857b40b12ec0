// The hub's control ops (docs/control.md), run by its ControlService:
//
//  status  (quick; operator, store): the hub's NodeStatus, as `node status` prints it.
//  promote (operator): {"model": N, "alias": A (default "production"), "version": V} — one
//          atomic registry write, replicated to every store; stores serving N:A swap to V.
//  deploy  (operator): {"model": N, "version": V, "stores": [ids] (default: every store the hub
//          has a replica of)} — the per-store alias N:deploy.<store id> → V, replicated; each
//          store serving N verifies the version's digest, builds, warms and swaps to it (it takes
//          precedence over serving.model's alias), and reports what it serves. The reply waits
//          until every chosen store reports V, or the deadline: then it lists the stores still
//          pending — each takes the version when it returns (the alias is in the registry).
//          {"version": 0} removes the stores' deploy alias (back to serving.model).
//  train   (operator): {"name": N, "pipeline": TOML/JSON text, "spec": JSON text, "stream": S
//          (default: the pipeline's), "learners", "epochs", "batch_size", "seed", "group",
//          "learning_rate", "records_per_claim", "fit_hours", "augment_gan" (a GAN reference in
//          the training store), "augment_fraction", "code_version"} —
//          the replicated streams of every store are gathered into the hub's training store,
//          the existing train job runs there with its parallel learners on a consumer group (so
//          a later train gets the readings that arrived since), and the candidate is registered
//          in the hub's registry (replicated) with its lineage. The deadline bounds the whole
//          op: the learners stop between two steps once it passes, nothing is registered, their
//          batches go back to the group, and the reply is deadline_exceeded.
//  dispatch (operator): {"shed_kw", "duration_s", "margin_s", "stores", "retry_ms"} — a
//          demand-response request fanned out to the stores (hub_dispatch.h): each plans from
//          its live predictions and confirms kW; the reply has requested vs confirmed kW, per
//          store and case, and the stores that did not answer before the deadline.
//
// Thread-safety: handlers run on the control worker thread (status on the network thread);
// they touch the hub's store (thread-safe), read-only opens of the replicas, and the training
// store, which only this worker opens.
#ifndef NEMESYST_NODES_HUB_CONTROL_H_
#define NEMESYST_NODES_HUB_CONTROL_H_

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "nemesyst/node.h"
#include "nemesyst/store.h"
#include "nodes/control_service.h"
#include "nodes/hub_dispatch.h"

namespace nemesyst::nodes {

struct HubControlContext {
  Store* registry = nullptr;        // the hub's own store
  std::filesystem::path state_dir;  // replicas/<store id>/, training/
  std::string node_id;
  ModelOptions model_options;  // backend and threads `train` runs with (the node's kernels.*)
  std::function<std::string()> status;  // the hub's status JSON (network thread)
  // Store id → the version it last reported serving ("lstm@4"); any thread.
  std::function<std::map<std::string, std::string>()> served;
  Logger* logger = nullptr;
  // Dispatch: the hand-off to the network thread, and how to wake it.
  DispatchExchange* dispatch = nullptr;
  std::function<void()> wake_network;
};

std::vector<ControlOp> HubControlOps(HubControlContext context);

// Appends to `training`'s stream `stream` every record of that stream in the replicas under
// `replicas_dir` not gathered before (per replica, the last seq gathered is kept in `training`'s
// node state), creating the stream from the first replica's schema. Replicas whose stream has
// another schema are an error naming them. Returns the number of records gathered.
Result<uint64_t> GatherReplicatedStream(const std::filesystem::path& replicas_dir,
                                        const std::string& stream, Store& training);

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_HUB_CONTROL_H_
