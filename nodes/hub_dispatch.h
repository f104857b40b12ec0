// The hub's `dispatch` control op (docs/control.md): a demand-response request fanned out to the
// stores, each choosing cases from its own live predictions (PlanStoreShed) and confirming the kW
// it will shed; the hub aggregates, asks stores with room for more when the first answers fall
// short, re-sends to stores that have not answered, and at the deadline reports requested vs
// confirmed kW, per store and case.
//
// How the request is shared: every chosen store is first asked for an equal share. Once every
// store has answered (or after three re-send intervals, when some are silent), the shortfall is
// shared among the stores that could shed more (available − confirmed), in proportion to that
// room; at most eight rounds. A store's answer replaces its earlier one for the same dispatch. A
// store still silent at the end is sent a release (shed_kw 0: drop any plan for this dispatch),
// so one that wakes up late does not shed power nobody counted on.
//
// Thread-safety: DispatchExchange is the hand-off between the control worker (RunDispatch) and
// the network thread (which owns the socket); both sides may call from their own thread.
#ifndef NEMESYST_NODES_HUB_DISPATCH_H_
#define NEMESYST_NODES_HUB_DISPATCH_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "nemesyst/status.h"

namespace nemesyst::nodes {

class DispatchExchange {
 public:
  using Clock = std::chrono::steady_clock;
  // (store id, JSON)
  using Message = std::pair<std::string, std::string>;

  // Control worker: a SHED for `store`, sent by the network thread.
  void Send(const std::string& store, std::string json);
  // Control worker: the replies that arrived since the last call, waiting for one until `until`.
  std::vector<Message> WaitReplies(Clock::time_point until);
  void ClearReplies();
  // Network thread.
  std::vector<Message> TakeOutgoing();
  void OnReply(const std::string& store, std::string json);

 private:
  static constexpr size_t kMaxQueued = 100000;  // a flood of replies is dropped, not kept
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Message> outgoing_, replies_;
};

struct DispatchContext {
  DispatchExchange* exchange = nullptr;
  std::function<void()> wake_network;  // the network thread sends what is queued now
  // Store id → the version it last reported serving (empty: not serving).
  std::map<std::string, std::string> served;
  std::string node_id;  // names the dispatch ids
};

// `request`: {"shed_kw" (> 0), "duration_s" (> 0), "margin_s" (≥ 0, default 300), "stores"
// (default: every store serving a model), "retry_ms" (10..60000, default 250)}.
Result<nlohmann::json> RunDispatch(const DispatchContext& context, const nlohmann::json& request,
                                   DispatchExchange::Clock::time_point deadline);

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_HUB_DISPATCH_H_
