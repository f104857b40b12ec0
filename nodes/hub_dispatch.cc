#include "nodes/hub_dispatch.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "nodes/request_fields.h"
#include "nodes/shed_messages.h"
#include "nodes/wall_clock.h"

namespace nemesyst::nodes {
namespace {

using Clock = DispatchExchange::Clock;
using nlohmann::json;

constexpr int kMaxRounds = 8;
constexpr int kSilentIntervals = 3;  // re-send intervals before a silent store's share moves

// One store's part in a dispatch, as the hub sees it.
struct StorePart {
  uint64_t ask = 1;
  double asked_kw = 0;
  bool answered = false;             // the current ask has its answer
  std::optional<ShedAnswer> answer;  // the latest answer (for this or an earlier ask)
  Clock::time_point last_sent{};
  int sends = 0;
};

// A store's part in the reply: its answer as it sent it, with the hub's side of it.
json PartJson(const std::string& store, const StorePart& p) {
  json j = p.answer ? json::parse(EncodeShedAnswer(*p.answer)) : json::object();
  j.erase("id");
  j.erase("ok");
  j["answered_ask"] = p.answer && p.answer->ask == p.ask;
  j["store"] = store;
  j["asked_kw"] = p.asked_kw;
  j["sends"] = p.sends;
  return j;
}

double Confirmed(const StorePart& p) {
  return p.answer && p.answer->ok ? p.answer->confirmed_kw : 0;
}
double Room(const StorePart& p) {
  return p.answer && p.answer->ok ? std::max(0.0, p.answer->available_kw - p.answer->confirmed_kw)
                                  : 0;
}

}  // namespace

void DispatchExchange::Send(const std::string& store, std::string text) {
  std::lock_guard lock(mu_);
  outgoing_.emplace_back(store, std::move(text));
}

std::vector<DispatchExchange::Message> DispatchExchange::WaitReplies(Clock::time_point until) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, until, [this] { return !replies_.empty(); });
  std::vector<Message> out;
  out.swap(replies_);
  return out;
}

void DispatchExchange::ClearReplies() {
  std::lock_guard lock(mu_);
  replies_.clear();
}

std::vector<DispatchExchange::Message> DispatchExchange::TakeOutgoing() {
  std::lock_guard lock(mu_);
  std::vector<Message> out;
  out.swap(outgoing_);
  return out;
}

void DispatchExchange::OnReply(const std::string& store, std::string text) {
  {
    std::lock_guard lock(mu_);
    if (replies_.size() >= kMaxQueued) return;
    replies_.emplace_back(store, std::move(text));
  }
  cv_.notify_all();
}

Result<json> RunDispatch(const DispatchContext& c, const json& j, Clock::time_point deadline) {
  ShedRequest request;
  NEMESYST_ASSIGN_OR_RETURN(request.shed_kw, NumberField(j, "shed_kw", NAN, 1e-9, 1e9));
  NEMESYST_ASSIGN_OR_RETURN(request.duration_s, NumberField(j, "duration_s", NAN, 1e-3, 1e7));
  NEMESYST_ASSIGN_OR_RETURN(request.margin_s, NumberField(j, "margin_s", 300, 0, 1e7));
  NEMESYST_ASSIGN_OR_RETURN(double retry_ms, NumberField(j, "retry_ms", 250, 10, 60000));
  NEMESYST_ASSIGN_OR_RETURN(std::vector<std::string> stores, StoreListField(j));
  if (stores.empty()) {
    for (const auto& [id, model] : c.served) {
      if (!model.empty()) stores.push_back(id);
    }
    if (stores.empty()) return Status::FailedPrecondition("no store reports serving a model");
  }
  static std::atomic<uint64_t> counter{0};
  const std::string id =
      c.node_id + "-" + std::to_string(NowMicros() / 1000) + "-" + std::to_string(++counter);
  const auto retry = std::chrono::microseconds(static_cast<int64_t>(retry_ms * 1000));
  std::map<std::string, StorePart> parts;
  for (const std::string& s : stores) parts[s].asked_kw = request.shed_kw / stores.size();
  c.exchange->ClearReplies();

  const Clock::time_point started = Clock::now();
  Clock::time_point round_started = started;
  int rounds = 1;
  uint64_t malformed = 0;
  double first_answer_ms = -1, all_answered_ms = -1;
  auto send = [&](const std::string& store, StorePart& p, const ShedRequest& r) {
    c.exchange->Send(store, EncodeShedAsk({id, p.ask, r}));
    p.last_sent = Clock::now();
    ++p.sends;
  };
  while (true) {
    const Clock::time_point now = Clock::now();
    if (now >= deadline) break;
    bool sent = false;
    for (auto& [store, p] : parts) {
      if (p.answered || now - p.last_sent < retry) continue;
      ShedRequest r = request;
      r.shed_kw = p.asked_kw;
      send(store, p, r);
      sent = true;
    }
    if (sent) c.wake_network();
    for (auto& [store, text] : c.exchange->WaitReplies(std::min(deadline, now + retry))) {
      Result<ShedAnswer> a = DecodeShedAnswer(text);
      auto it = parts.find(store);
      if (!a.ok()) {
        ++malformed;
        continue;
      }
      if (a->id != id || it == parts.end() || a->ask != it->second.ask) continue;  // stale
      it->second.answered = true;
      it->second.answer = std::move(*a);
      if (first_answer_ms < 0) {
        first_answer_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
      }
    }
    double confirmed = 0;
    size_t answered = 0;
    for (const auto& [store, p] : parts) {
      confirmed += Confirmed(p);
      answered += p.answered ? 1 : 0;
    }
    if (answered == parts.size() && all_answered_ms < 0) {
      all_answered_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    }
    if (confirmed >= request.shed_kw) break;
    const bool settled =
        answered == parts.size() || Clock::now() - round_started >= kSilentIntervals * retry;
    if (!settled || answered == 0) continue;
    // Short: the stores with room are asked for more.
    double room = 0;
    for (const auto& [store, p] : parts) room += p.answered ? Room(p) : 0;
    if (room <= 1e-9 || rounds >= kMaxRounds) {
      if (answered == parts.size()) break;  // nothing more to get; nobody left to hear from
      continue;                             // silent stores may still answer
    }
    const double shortfall = request.shed_kw - confirmed;
    for (auto& [store, p] : parts) {
      if (!p.answered || Room(p) <= 1e-9) continue;
      p.asked_kw = Confirmed(p) + std::min(Room(p), shortfall * Room(p) / room);
      ++p.ask;
      p.answered = false;
      p.last_sent = {};
    }
    ++rounds;
    round_started = Clock::now();
  }
  // Silent stores are released so a late plan sheds nothing nobody counted.
  json missing = json::array(), refused = json::array(), per_store = json::array();
  double confirmed = 0;
  bool released = false;
  for (auto& [store, p] : parts) {
    per_store.push_back(PartJson(store, p));
    confirmed += Confirmed(p);
    if (!p.answer) {
      missing.push_back(store);
      ++p.ask;
      ShedRequest release = request;
      release.shed_kw = 0;
      c.exchange->Send(store, EncodeShedAsk({id, p.ask, release}));
      released = true;
    } else if (!p.answer->ok) {
      refused.push_back({{"store", store}, {"error", p.answer->error}});
    }
  }
  if (released) c.wake_network();
  json reply = {{"dispatch", id},
                {"requested_kw", request.shed_kw},
                {"confirmed_kw", confirmed},
                {"met", confirmed >= request.shed_kw},
                {"duration_s", request.duration_s},
                {"margin_s", request.margin_s},
                {"rounds", rounds},
                {"first_answer_ms", first_answer_ms},
                {"all_answered_ms", all_answered_ms},
                {"stores", per_store},
                {"missing", missing},
                {"refused", refused},
                {"malformed_replies", malformed}};
  if (!missing.empty()) {
    reply["ok"] = false;
    reply["code"] = "deadline_exceeded";
    reply["error"] = std::to_string(missing.size()) + " of " + std::to_string(parts.size()) +
                     " stores did not answer before the deadline (released); " +
                     std::to_string(confirmed) + " of " + std::to_string(request.shed_kw) +
                     " kW confirmed";
  }
  return reply;
}

}  // namespace nemesyst::nodes
