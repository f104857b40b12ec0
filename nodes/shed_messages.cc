#include "nodes/shed_messages.h"

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "common/json_number.h"
#include "nemesyst/pipeline.h"

namespace nemesyst::nodes {
namespace {

using nlohmann::json;

Status Bad(std::string_view what, const std::string& why) {
  return Status::InvalidArgument(std::string(what) + ": " + why);
}

Result<json> ParseObject(std::string_view text, std::string_view what) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return Bad(what, "not a JSON object");
  return j;
}

Result<std::string> Text(const json& j, const char* key, std::string_view what, size_t max_bytes) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return Bad(what, std::string("needs \"") + key + "\"");
  std::string s = it->get<std::string>();
  if (s.size() > max_bytes) {
    return Bad(what, std::string("\"") + key + "\" is longer than " + std::to_string(max_bytes));
  }
  return s;
}

Result<double> Number(const json& j, const char* key, std::string_view what) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return Bad(what, std::string("needs \"") + key + "\"");
  const double v = it->get<double>();
  if (!std::isfinite(v)) return Bad(what, std::string("\"") + key + "\" is not finite");
  return v;
}

Result<uint64_t> Count(const json& j, const char* key, std::string_view what) {
  const auto it = j.find(key);
  if (it == j.end()) return Bad(what, std::string("needs \"") + key + "\"");
  try {
    return JsonInteger<uint64_t>(*it);
  } catch (const json::exception&) {
    return Bad(what, std::string("\"") + key + "\" must be a non-negative integer");
  }
}

Result<uint64_t> AskNumber(const json& j, std::string_view what) {
  NEMESYST_ASSIGN_OR_RETURN(uint64_t ask, Count(j, "ask", what));
  if (ask == 0) return Bad(what, "\"ask\" must be ≥ 1");
  return ask;
}

}  // namespace

std::string EncodeShedAsk(const ShedAsk& a) {
  return json{{"id", a.id},
              {"ask", a.ask},
              {"shed_kw", a.request.shed_kw},
              {"duration_s", a.request.duration_s},
              {"margin_s", a.request.margin_s}}
      .dump();
}

Result<ShedAsk> DecodeShedAsk(std::string_view text) {
  constexpr std::string_view kWhat = "SHED";
  NEMESYST_ASSIGN_OR_RETURN(json j, ParseObject(text, kWhat));
  ShedAsk a;
  NEMESYST_ASSIGN_OR_RETURN(a.id, Text(j, "id", kWhat, 128));
  if (a.id.empty()) return Bad(kWhat, "\"id\" is empty");
  NEMESYST_ASSIGN_OR_RETURN(a.ask, AskNumber(j, kWhat));
  NEMESYST_ASSIGN_OR_RETURN(a.request.shed_kw, Number(j, "shed_kw", kWhat));
  NEMESYST_ASSIGN_OR_RETURN(a.request.duration_s, Number(j, "duration_s", kWhat));
  NEMESYST_ASSIGN_OR_RETURN(a.request.margin_s, Number(j, "margin_s", kWhat));
  if (a.request.shed_kw < 0) return Bad(kWhat, "\"shed_kw\" must be ≥ 0 (0: release)");
  return a;
}

std::string EncodeShedAnswer(const ShedAnswer& a) {
  json j = {{"id", a.id}, {"ask", a.ask}, {"ok", a.ok}};
  if (!a.ok) {
    j["error"] = a.error;
    return j.dump();
  }
  json cases = json::array();
  for (const ShedChoice& c : a.cases) {
    cases.push_back({{"device", c.device},
                     {"kw", c.power_kw},
                     {"predicted_s", c.predicted_safe_off_s},
                     {"slack_s", c.slack_s}});
  }
  j.update({{"model", a.model},
            {"asked_kw", a.asked_kw},
            {"confirmed_kw", a.confirmed_kw},
            {"available_kw", a.available_kw},
            {"candidates", a.candidates},
            {"eligible", a.eligible},
            {"cases", cases}});
  return j.dump();
}

Result<ShedAnswer> DecodeShedAnswer(std::string_view text) {
  constexpr std::string_view kWhat = "SHED_REPLY";
  NEMESYST_ASSIGN_OR_RETURN(json j, ParseObject(text, kWhat));
  ShedAnswer a;
  NEMESYST_ASSIGN_OR_RETURN(a.id, Text(j, "id", kWhat, 128));
  NEMESYST_ASSIGN_OR_RETURN(a.ask, AskNumber(j, kWhat));
  const auto ok = j.find("ok");
  if (ok == j.end() || !ok->is_boolean()) return Bad(kWhat, "needs \"ok\"");
  a.ok = ok->get<bool>();
  if (!a.ok) {
    NEMESYST_ASSIGN_OR_RETURN(a.error, Text(j, "error", kWhat, 4096));
    return a;
  }
  NEMESYST_ASSIGN_OR_RETURN(a.model, Text(j, "model", kWhat, 256));
  NEMESYST_ASSIGN_OR_RETURN(a.asked_kw, Number(j, "asked_kw", kWhat));
  NEMESYST_ASSIGN_OR_RETURN(a.confirmed_kw, Number(j, "confirmed_kw", kWhat));
  NEMESYST_ASSIGN_OR_RETURN(a.available_kw, Number(j, "available_kw", kWhat));
  NEMESYST_ASSIGN_OR_RETURN(a.candidates, Count(j, "candidates", kWhat));
  NEMESYST_ASSIGN_OR_RETURN(a.eligible, Count(j, "eligible", kWhat));
  if (a.confirmed_kw < 0 || a.available_kw < a.confirmed_kw - 1e-9) {
    return Bad(kWhat, "confirmed_kw must be in 0..available_kw");
  }
  const auto cases = j.find("cases");
  if (cases == j.end() || !cases->is_array() || cases->size() > kMaxShedCases) {
    return Bad(kWhat, "\"cases\" is an array of at most " + std::to_string(kMaxShedCases));
  }
  double sum = 0;
  for (const json& c : *cases) {
    if (!c.is_object()) return Bad(kWhat, "each case is an object");
    ShedChoice choice;
    NEMESYST_ASSIGN_OR_RETURN(choice.device, Text(c, "device", "SHED_REPLY case", 256));
    NEMESYST_ASSIGN_OR_RETURN(choice.power_kw, Number(c, "kw", "SHED_REPLY case"));
    NEMESYST_ASSIGN_OR_RETURN(choice.predicted_safe_off_s,
                              Number(c, "predicted_s", "SHED_REPLY case"));
    NEMESYST_ASSIGN_OR_RETURN(choice.slack_s, Number(c, "slack_s", "SHED_REPLY case"));
    if (choice.power_kw <= 0) return Bad(kWhat, "case '" + choice.device + "' sheds no power");
    sum += choice.power_kw;
    a.cases.push_back(std::move(choice));
  }
  // The total is what the cases add up to: a reply cannot confirm power it did not plan.
  if (std::fabs(sum - a.confirmed_kw) > 1e-6 * std::max(1.0, sum)) {
    return Bad(kWhat, "confirmed_kw is not the sum of its cases' kW");
  }
  return a;
}

ShedAnswer PlanStoreShed(const Store& store, const NodeOptions& options,
                         const LivePredictions& live, const ShedAsk& ask) {
  ShedAnswer answer;
  answer.id = ask.id;
  answer.ask = ask.ask;
  answer.asked_kw = ask.request.shed_kw;
  auto fail = [&](const std::string& why) {
    answer.ok = false;
    answer.error = options.node_id + ": " + why;
    return answer;
  };
  if (ask.request.shed_kw == 0) {  // a release: nothing to shed for this dispatch any more
    answer.ok = true;
    answer.model = live.model;
    return answer;
  }
  if (live.model.empty()) return fail("not serving a model (serving.model), so no predictions");
  if (options.dispatch_power_field.empty()) {
    return fail("no dispatch.power_field configured: the node cannot estimate what a case sheds");
  }
  Result<StreamInfo> info = store.GetStreamInfo(live.stream);
  if (!info.ok()) return fail(info.status().ToString());
  auto index_of = [&](const std::string& name) {
    for (size_t i = 0; i < info->schema.fields.size(); ++i) {
      if (info->schema.fields[i].name == name) return static_cast<int>(i);
    }
    return -1;
  };
  const int power = index_of(options.dispatch_power_field);
  const int idle = options.dispatch_idle_field.empty() ? -1 : index_of(options.dispatch_idle_field);
  const int skip = options.dispatch_skip_field.empty() ? -1 : index_of(options.dispatch_skip_field);
  for (const auto& [field, index] : {std::pair{options.dispatch_power_field, power},
                                     std::pair{options.dispatch_idle_field, idle},
                                     std::pair{options.dispatch_skip_field, skip}}) {
    if (!field.empty() && index < 0) {
      return fail("stream '" + live.stream + "' has no field '" + field + "' (dispatch.*_field)");
    }
  }
  Result<std::vector<Record>> recent =
      ReadRecentRecords(store, live.stream, info->last_seq, options.dispatch_window_s);
  if (!recent.ok()) return fail(recent.status().ToString());
  std::map<std::string, LoadEstimate> load;
  int64_t newest_us = std::numeric_limits<int64_t>::min();
  for (const Record& r : *recent) {
    newest_us = std::max(newest_us, r.timestamp_us);
    if (skip >= 0 && r.values[skip] > 0.5) continue;
    load[r.device_id].Add(r.values[power], idle >= 0 && r.values[idle] < 0.5);
  }
  const int64_t stale_before_us =
      newest_us - static_cast<int64_t>(std::ceil(options.dispatch_window_s * 1e6));
  std::vector<ShedCandidate> candidates;
  for (const PredictionRow& p : live.latest) {
    const auto it = load.find(p.device);
    if (it == load.end() || p.timestamp_us < stale_before_us) continue;
    candidates.push_back({p.device, p.prediction_s, it->second.SheddableKw()});
  }
  Result<ShedPlan> plan = PlanShed(ask.request, candidates);
  if (!plan.ok()) return fail(plan.status().ToString());
  answer.ok = true;
  answer.model = live.model;
  answer.candidates = candidates.size();
  answer.eligible = plan->eligible;
  answer.available_kw = plan->eligible_kw;
  answer.confirmed_kw = plan->selected_kw;
  answer.cases = std::move(plan->chosen);
  return answer;
}

}  // namespace nemesyst::nodes
