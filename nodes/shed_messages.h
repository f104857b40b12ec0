// The JSON carried by SHED (hub → store) and SHED_REPLY (store → hub) in their payload frame
// (docs/control.md, "dispatch"), and the store's side of a dispatch: its plan from its own live
// predictions and its stream's recent load.
//
// A dispatch has an id; within it, each new amount the hub asks a store for has a higher `ask`
// number. A store answers every SHED with its whole plan for that amount (a plan replaces the
// one it gave for a lower ask of the same dispatch), so a SHED sent again after a lost reply is
// harmless, and the hub ignores a reply whose ask is not the one it waits for.
//
// Decoding checks every field a peer sent (type, range, finiteness, sizes): a malformed message
// is an InvalidArgument naming the field, never trusted.
//
// Thread-safety: pure functions (PlanStoreShed reads the store, which is thread-safe).
#ifndef NEMESYST_NODES_SHED_MESSAGES_H_
#define NEMESYST_NODES_SHED_MESSAGES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/node.h"
#include "nemesyst/predictions.h"
#include "nemesyst/shed_plan.h"
#include "nemesyst/store.h"

namespace nemesyst::nodes {

// At most this many cases in one store's answer.
inline constexpr size_t kMaxShedCases = 100000;

struct ShedAsk {
  std::string id;    // the dispatch (1..128 bytes)
  uint64_t ask = 0;  // ≥ 1, increasing within a dispatch
  ShedRequest request;
};

struct ShedAnswer {
  std::string id;
  uint64_t ask = 0;
  bool ok = false;
  std::string error;  // when !ok
  std::string model;  // the version whose predictions chose the cases ("lstm@4")
  double asked_kw = 0, confirmed_kw = 0;
  double available_kw = 0;  // what every eligible case together could shed
  uint64_t candidates = 0;  // devices with a fresh prediction and a load estimate
  uint64_t eligible = 0;
  std::vector<ShedChoice> cases;  // chosen, in selection order
};

std::string EncodeShedAsk(const ShedAsk& ask);
Result<ShedAsk> DecodeShedAsk(std::string_view json);
std::string EncodeShedAnswer(const ShedAnswer& answer);
Result<ShedAnswer> DecodeShedAnswer(std::string_view json);

// What a store node serves, as the planner sees it.
struct LivePredictions {
  std::string model, stream;
  std::vector<PredictionRow> latest;  // each device's newest prediction
};

// A store's plan for `ask`: each device with a prediction made within options.dispatch_window_s
// of the stream's newest reading is a candidate, its load estimated from its readings in that
// window (NodeOptions::dispatch_*: power field, idle and skip flags), and PlanShed chooses. An
// answer with ok == false says why not (not serving, no power field configured, a field missing
// from the stream, a bad request).
ShedAnswer PlanStoreShed(const Store& store, const NodeOptions& options,
                         const LivePredictions& live, const ShedAsk& ask);

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_SHED_MESSAGES_H_
