// Conformal lower bounds (nemesyst/lower_bound.h): fitting, applying, and their two stored forms.
#include "nemesyst/lower_bound.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "nemesyst/predict_job.h"

namespace nemesyst {
namespace {

using json = nlohmann::json;

constexpr std::string_view kMarginPrefix = "lower_margin_s:";
constexpr std::string_view kCountPrefix = "lower_n:";
constexpr std::string_view kFallbackPrefix = "lower_fallback:";

Status CheckRisk(double risk) {
  if (!(risk > 0.0 && risk < 1.0)) {
    return Status::InvalidArgument("lower bound: risk must be in (0, 1), got " +
                                   std::to_string(risk));
  }
  return Status::OK();
}

json MarginJson(const LowerBoundMargin& m, bool with_fallback) {
  json j = {{"margin_s", m.margin_s}, {"n", m.n}};
  if (with_fallback) j["pooled_fallback"] = m.pooled_fallback;
  return j;
}

Status ParseMargin(const json& j, const std::string& path, bool with_fallback,
                   LowerBoundMargin* m) {
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument("model metadata \"" + std::string(kLowerBoundFileKey) +
                                   "\": " + path + ": " + what);
  };
  if (!j.is_object()) return bad("must be an object");
  if (!j.contains("margin_s") || !j["margin_s"].is_number() ||
      !std::isfinite(j["margin_s"].get<double>())) {
    return bad("margin_s must be a finite number");
  }
  if (!j.contains("n") || !j["n"].is_number_unsigned()) return bad("n must be a count");
  m->margin_s = j["margin_s"].get<double>();
  m->n = j["n"].get<size_t>();
  if (with_fallback && j.contains("pooled_fallback")) {
    if (!j["pooled_fallback"].is_boolean()) return bad("pooled_fallback must be true or false");
    m->pooled_fallback = j["pooled_fallback"].get<bool>();
  }
  return Status::OK();
}

}  // namespace

Result<double> ConformalQuantile(std::vector<double> scores, double risk) {
  NEMESYST_RETURN_IF_ERROR(CheckRisk(risk));
  for (double s : scores) {
    if (!std::isfinite(s)) return Status::InvalidArgument("lower bound: a score is not finite");
  }
  const size_t n = scores.size();
  // k = ⌈(n + 1)(1 − α)⌉, computed with a small tolerance so that an exact integer product
  // (n = 19, α = 0.05: 20 · 0.95 = 19) is not pushed to the next index by rounding.
  const double product = static_cast<double>(n + 1) * (1.0 - risk);
  const size_t k = static_cast<size_t>(std::ceil(product - 1e-9));
  if (k > n || k == 0) {
    return Status::FailedPrecondition("lower bound: " + std::to_string(n) +
                                      " scores are too few for risk " + std::to_string(risk) +
                                      " (the conformal quantile needs the " + std::to_string(k) +
                                      "-th smallest)");
  }
  std::nth_element(scores.begin(), scores.begin() + static_cast<ptrdiff_t>(k - 1), scores.end());
  return scores[k - 1];
}

Result<LowerBoundCalibration> FitLowerBound(const std::vector<double>& predicted_s,
                                            const std::vector<double>& truth_s,
                                            const std::vector<std::string>& group, double risk,
                                            std::string group_field) {
  NEMESYST_RETURN_IF_ERROR(CheckRisk(risk));
  if (predicted_s.size() != truth_s.size() || (!group.empty() && group.size() != truth_s.size())) {
    return Status::InvalidArgument("lower bound: predictions, truths and groups differ in length");
  }
  LowerBoundCalibration c;
  c.risk = risk;
  c.group_field = std::move(group_field);
  std::vector<double> scores(truth_s.size());
  std::map<std::string, std::vector<double>> by_group;
  for (size_t i = 0; i < scores.size(); ++i) {
    scores[i] = predicted_s[i] - truth_s[i];
    if (!group.empty()) by_group[group[i]].push_back(scores[i]);
  }
  c.pooled.n = scores.size();
  NEMESYST_ASSIGN_OR_RETURN(c.pooled.margin_s, ConformalQuantile(std::move(scores), risk));
  for (auto& [g, s] : by_group) {
    LowerBoundMargin m;
    m.n = s.size();
    Result<double> q = ConformalQuantile(std::move(s), risk);
    if (q.ok()) {
      m.margin_s = *q;
    } else if (q.status().code() == StatusCode::kFailedPrecondition) {
      m.margin_s = c.pooled.margin_s;  // too few windows of this group for its own quantile
      m.pooled_fallback = true;
    } else {
      return q.status();
    }
    c.groups[g] = m;
  }
  return c;
}

const LowerBoundMargin& LowerBoundMarginFor(const LowerBoundCalibration& c,
                                            std::string_view group) {
  if (group.empty()) return c.pooled;
  auto it = c.groups.find(std::string(group));
  return it == c.groups.end() ? c.pooled : it->second;
}

double LowerBound(const LowerBoundCalibration& c, double prediction_s, std::string_view group) {
  return std::clamp(prediction_s - LowerBoundMarginFor(c, group).margin_s, 0.0, kMaxPredictionS);
}

std::string LowerBoundGroupValue(double value) {
  if (value == 0) return "0";  // also -0
  if (std::isfinite(value) && std::abs(value) < 1e15 && value == std::trunc(value)) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  return ec == std::errc() ? std::string(buf, end) : std::string("nan");
}

std::string LowerBoundToJson(const LowerBoundCalibration& c) {
  json groups = json::object();
  for (const auto& [g, m] : c.groups) groups[g] = MarginJson(m, true);
  json doc = {{"method", "conformal"},
              {"risk", c.risk},
              {"group_field", c.group_field},
              {"pooled", MarginJson(c.pooled, false)},
              {"groups", groups}};
  return doc.dump();
}

Result<LowerBoundCalibration> ParseLowerBound(std::string_view text) {
  const std::string where = "model metadata \"" + std::string(kLowerBoundFileKey) + "\": ";
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::InvalidArgument(where + "not a JSON object");
  }
  if (!doc.contains("method") || doc["method"] != "conformal") {
    return Status::InvalidArgument(where + "method must be \"conformal\"");
  }
  LowerBoundCalibration c;
  if (!doc.contains("risk") || !doc["risk"].is_number()) {
    return Status::InvalidArgument(where + "risk must be a number");
  }
  c.risk = doc["risk"].get<double>();
  NEMESYST_RETURN_IF_ERROR(CheckRisk(c.risk).WithContext(where + "risk"));
  if (doc.contains("group_field")) {
    if (!doc["group_field"].is_string()) {
      return Status::InvalidArgument(where + "group_field must be a string");
    }
    c.group_field = doc["group_field"].get<std::string>();
  }
  if (!doc.contains("pooled")) return Status::InvalidArgument(where + "pooled is required");
  NEMESYST_RETURN_IF_ERROR(ParseMargin(doc["pooled"], "pooled", false, &c.pooled));
  if (doc.contains("groups")) {
    if (!doc["groups"].is_object()) {
      return Status::InvalidArgument(where + "groups must be an object");
    }
    for (const auto& [g, m] : doc["groups"].items()) {
      NEMESYST_RETURN_IF_ERROR(ParseMargin(m, "groups." + g, true, &c.groups[g]));
    }
  }
  return c;
}

void AddLowerBoundMetadata(const LowerBoundCalibration& c, ModelMetadata* meta) {
  meta->metrics["lower_risk"] = c.risk;
  meta->metrics["lower_margin_s"] = c.pooled.margin_s;
  meta->metrics["lower_n"] = static_cast<double>(c.pooled.n);
  for (const auto& [g, m] : c.groups) {
    meta->metrics[std::string(kMarginPrefix) + g] = m.margin_s;
    meta->metrics[std::string(kCountPrefix) + g] = static_cast<double>(m.n);
    meta->metrics[std::string(kFallbackPrefix) + g] = m.pooled_fallback ? 1.0 : 0.0;
  }
  meta->hyper_parameters["lower_group_field"] = c.group_field;
}

Result<std::optional<LowerBoundCalibration>> LowerBoundFromMetadata(const ModelMetadata& meta) {
  const auto& mx = meta.metrics;
  auto risk = mx.find("lower_risk");
  if (risk == mx.end()) return std::optional<LowerBoundCalibration>();
  LowerBoundCalibration c;
  c.risk = risk->second;
  NEMESYST_RETURN_IF_ERROR(CheckRisk(c.risk).WithContext("registry metric lower_risk"));
  auto margin = mx.find("lower_margin_s");
  if (margin == mx.end()) {
    return Status::InvalidArgument("registry metrics: lower_risk without lower_margin_s");
  }
  c.pooled.margin_s = margin->second;
  if (auto n = mx.find("lower_n"); n != mx.end()) c.pooled.n = static_cast<size_t>(n->second);
  if (auto f = meta.hyper_parameters.find("lower_group_field"); f != meta.hyper_parameters.end()) {
    c.group_field = f->second;
  }
  for (const auto& [key, value] : mx) {
    if (key.rfind(kMarginPrefix, 0) != 0) continue;
    const std::string g = key.substr(kMarginPrefix.size());
    LowerBoundMargin& m = c.groups[g];
    m.margin_s = value;
    if (auto n = mx.find(std::string(kCountPrefix) + g); n != mx.end()) {
      m.n = static_cast<size_t>(n->second);
    }
    if (auto f = mx.find(std::string(kFallbackPrefix) + g); f != mx.end()) {
      m.pooled_fallback = f->second != 0;
    }
  }
  return std::optional<LowerBoundCalibration>(std::move(c));
}

}  // namespace nemesyst
