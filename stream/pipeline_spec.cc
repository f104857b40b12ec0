// Parsing and serialising pipeline specs. TOML is converted to JSON by toml++'s formatter, so one
// validator (with key paths) serves both. Every key is checked: unknown keys are errors, so a
// typo never silently changes what a model trains on.
#include "stream/pipeline_spec.h"

#include <cmath>
#include <initializer_list>
#include <sstream>

#include <toml++/toml.h>
#include <nlohmann/json.hpp>

#include "nemesyst/timestamp.h"

namespace nemesyst::stream {
namespace {

using nlohmann::json;

Status Bad(const std::string& path, const std::string& why) {
  return Status::InvalidArgument("pipeline spec: " + path + ": " + why);
}

Status CheckKeys(const json& obj, const std::string& path,
                 std::initializer_list<std::string_view> allowed) {
  if (!obj.is_object()) return Bad(path.empty() ? "(root)" : path, "must be a table/object");
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (std::string_view key : allowed) known = known || key == it.key();
    if (!known) {
      std::string list;
      for (std::string_view key : allowed) list += (list.empty() ? "" : ", ") + std::string(key);
      return Bad(path.empty() ? it.key() : path + "." + it.key(),
                 "unknown key (expected one of: " + list + ")");
    }
  }
  return Status::OK();
}

std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

Result<std::string> GetString(const json& obj, const std::string& path, const std::string& key,
                              bool required, std::string fallback = "") {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return Bad(Join(path, key), "is required");
    return fallback;
  }
  if (!it->is_string() || it->get<std::string>().empty()) {
    return Bad(Join(path, key), "must be a non-empty string");
  }
  return it->get<std::string>();
}

Result<double> GetNumber(const json& obj, const std::string& path, const std::string& key,
                         bool required, double fallback, double lo, double hi) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return Bad(Join(path, key), "is required");
    return fallback;
  }
  if (!it->is_number()) return Bad(Join(path, key), "must be a number");
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi) {
    std::ostringstream why;
    why << "must be in [" << lo << ", " << hi << "], got " << v;
    return Bad(Join(path, key), why.str());
  }
  return v;
}

Result<int> GetInt(const json& obj, const std::string& path, const std::string& key, bool required,
                   int fallback, int lo, int hi) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return Bad(Join(path, key), "is required");
    return fallback;
  }
  if (!it->is_number_integer()) return Bad(Join(path, key), "must be an integer");
  const int64_t v = it->get<int64_t>();
  if (v < lo || v > hi) {
    return Bad(Join(path, key), "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                    "], got " + std::to_string(v));
  }
  return static_cast<int>(v);
}

Result<std::vector<std::string>> GetStrings(const json& obj, const std::string& path,
                                            const std::string& key, bool required) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return Bad(Join(path, key), "is required");
    return std::vector<std::string>{};
  }
  if (!it->is_array()) return Bad(Join(path, key), "must be an array of strings");
  std::vector<std::string> out;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& v = (*it)[i];
    if (!v.is_string() || v.get<std::string>().empty()) {
      return Bad(Join(path, key) + "[" + std::to_string(i) + "]", "must be a non-empty string");
    }
    out.push_back(v.get<std::string>());
  }
  if (required && out.empty()) return Bad(Join(path, key), "must not be empty");
  return out;
}

// A timestamp: integer µs since the epoch, or an ISO-8601 string.
Result<int64_t> GetTime(const json& obj, const std::string& path, const std::string& key,
                        int64_t fallback) {
  auto it = obj.find(key);
  if (it == obj.end()) return fallback;
  if (it->is_number_integer()) {
    // Beyond int64 (18446744073709551615) is an error, not a wrap to -1.
    if (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(INT64_MAX)) {
      return Bad(Join(path, key), "is out of range for µs since the epoch");
    }
    return it->get<int64_t>();
  }
  int64_t us = 0;
  if (it->is_string() && ParseIso8601(it->get<std::string>(), &us)) return us;
  return Bad(Join(path, key), "must be µs since the epoch or an ISO-8601 timestamp");
}

template <typename E>
Result<E> GetEnum(const json& obj, const std::string& path, const std::string& key,
                  const std::vector<std::pair<std::string_view, E>>& names, bool required,
                  E fallback) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return Bad(Join(path, key), "is required");
    return fallback;
  }
  std::string list;
  for (const auto& [name, value] : names) {
    if (it->is_string() && it->get<std::string>() == name) return value;
    list += (list.empty() ? "" : ", ") + std::string(name);
  }
  return Bad(Join(path, key), "must be one of: " + list);
}

const std::vector<std::pair<std::string_view, StepOp>> kOps = {{"filter", StepOp::kFilter},
                                                               {"select", StepOp::kSelect},
                                                               {"derive", StepOp::kDerive},
                                                               {"fill", StepOp::kFill},
                                                               {"normalise", StepOp::kNormalise}};
const std::vector<std::pair<std::string_view, CompareOp>> kCompares = {
    {"==", CompareOp::kEq}, {"!=", CompareOp::kNe}, {"<", CompareOp::kLt},
    {"<=", CompareOp::kLe}, {">", CompareOp::kGt},  {">=", CompareOp::kGe}};
const std::vector<std::pair<std::string_view, DeriveKind>> kKinds = {
    {"difference", DeriveKind::kDifference},     {"rate", DeriveKind::kRate},
    {"rolling_mean", DeriveKind::kRollingMean},  {"rolling_min", DeriveKind::kRollingMin},
    {"rolling_max", DeriveKind::kRollingMax},    {"time_of_day", DeriveKind::kTimeOfDay},
    {"since_defrost", DeriveKind::kSinceDefrost}};
const std::vector<std::pair<std::string_view, NormaliseMethod>> kMethods = {
    {"zscore", NormaliseMethod::kZScore}, {"minmax", NormaliseMethod::kMinMax}};
const std::vector<std::pair<std::string_view, SplitBy>> kSplits = {{"none", SplitBy::kNone},
                                                                   {"store", SplitBy::kStore},
                                                                   {"device", SplitBy::kDevice},
                                                                   {"time", SplitBy::kTime}};

template <typename E>
std::string NameOf(const std::vector<std::pair<std::string_view, E>>& names, E value) {
  for (const auto& [name, v] : names) {
    if (v == value) return std::string(name);
  }
  return "?";
}

Result<PipelineStep> ParseStep(const json& j, const std::string& path) {
  if (!j.is_object()) return Bad(path, "must be a table/object");
  PipelineStep step;
  NEMESYST_ASSIGN_OR_RETURN(step.op, GetEnum(j, path, "op", kOps, true, StepOp::kFilter));
  switch (step.op) {
    case StepOp::kFilter: {
      NEMESYST_RETURN_IF_ERROR(CheckKeys(j, path, {"op", "where", "devices", "from", "to"}));
      if (auto it = j.find("where"); it != j.end()) {
        if (!it->is_array()) return Bad(path + ".where", "must be an array of {field, cmp, value}");
        for (size_t i = 0; i < it->size(); ++i) {
          const std::string p = path + ".where[" + std::to_string(i) + "]";
          const json& w = (*it)[i];
          NEMESYST_RETURN_IF_ERROR(CheckKeys(w, p, {"field", "cmp", "value"}));
          Predicate pred;
          NEMESYST_ASSIGN_OR_RETURN(pred.field, GetString(w, p, "field", true));
          NEMESYST_ASSIGN_OR_RETURN(pred.op, GetEnum(w, p, "cmp", kCompares, true, CompareOp::kEq));
          NEMESYST_ASSIGN_OR_RETURN(pred.value, GetNumber(w, p, "value", true, 0, -1e300, 1e300));
          step.where.push_back(pred);
        }
      }
      NEMESYST_ASSIGN_OR_RETURN(step.device_prefixes, GetStrings(j, path, "devices", false));
      NEMESYST_ASSIGN_OR_RETURN(step.from_us, GetTime(j, path, "from", step.from_us));
      NEMESYST_ASSIGN_OR_RETURN(step.to_us, GetTime(j, path, "to", step.to_us));
      if (step.from_us >= step.to_us) return Bad(path + ".to", "must be after 'from'");
      break;
    }
    case StepOp::kSelect: {
      NEMESYST_RETURN_IF_ERROR(CheckKeys(j, path, {"op", "fields"}));
      NEMESYST_ASSIGN_OR_RETURN(step.fields, GetStrings(j, path, "fields", true));
      break;
    }
    case StepOp::kDerive: {
      NEMESYST_RETURN_IF_ERROR(
          CheckKeys(j, path, {"op", "name", "kind", "field", "k", "encoding", "max_s"}));
      NEMESYST_ASSIGN_OR_RETURN(step.name, GetString(j, path, "name", true));
      NEMESYST_ASSIGN_OR_RETURN(step.kind,
                                GetEnum(j, path, "kind", kKinds, true, DeriveKind::kDifference));
      const bool needs_field = step.kind != DeriveKind::kTimeOfDay;
      NEMESYST_ASSIGN_OR_RETURN(
          step.field,
          GetString(j, path, "field", needs_field && step.kind != DeriveKind::kSinceDefrost,
                    step.kind == DeriveKind::kSinceDefrost ? "defrost" : ""));
      const bool rolling = step.kind == DeriveKind::kRollingMean ||
                           step.kind == DeriveKind::kRollingMin ||
                           step.kind == DeriveKind::kRollingMax;
      NEMESYST_ASSIGN_OR_RETURN(step.k, GetInt(j, path, "k", rolling, 1, 1, 100000));
      NEMESYST_ASSIGN_OR_RETURN(step.encoding, GetString(j, path, "encoding", false, "hours"));
      if (step.encoding != "hours" && step.encoding != "sin" && step.encoding != "cos") {
        return Bad(path + ".encoding", "must be one of: hours, sin, cos");
      }
      NEMESYST_ASSIGN_OR_RETURN(step.max_s, GetNumber(j, path, "max_s", false, 43200, 1, 1e9));
      break;
    }
    case StepOp::kFill: {
      NEMESYST_RETURN_IF_ERROR(CheckKeys(j, path, {"op", "max_gap_s"}));
      NEMESYST_ASSIGN_OR_RETURN(step.max_gap_s, GetNumber(j, path, "max_gap_s", true, 0, 0, 1e9));
      break;
    }
    case StepOp::kNormalise: {
      NEMESYST_RETURN_IF_ERROR(CheckKeys(j, path, {"op", "method", "fields", "stats"}));
      NEMESYST_ASSIGN_OR_RETURN(
          step.method, GetEnum(j, path, "method", kMethods, false, NormaliseMethod::kZScore));
      NEMESYST_ASSIGN_OR_RETURN(step.fields, GetStrings(j, path, "fields", false));
      const bool zscore = step.method == NormaliseMethod::kZScore;
      if (auto it = j.find("stats"); it != j.end()) {
        if (!it->is_array()) return Bad(path + ".stats", "must be an array");
        for (size_t i = 0; i < it->size(); ++i) {
          const std::string p = path + ".stats[" + std::to_string(i) + "]";
          const json& s = (*it)[i];
          NEMESYST_RETURN_IF_ERROR(zscore ? CheckKeys(s, p, {"field", "mean", "std"})
                                          : CheckKeys(s, p, {"field", "min", "max"}));
          FieldStats stats;
          NEMESYST_ASSIGN_OR_RETURN(stats.field, GetString(s, p, "field", true));
          NEMESYST_ASSIGN_OR_RETURN(
              stats.a, GetNumber(s, p, zscore ? "mean" : "min", true, 0, -1e300, 1e300));
          NEMESYST_ASSIGN_OR_RETURN(
              stats.b, GetNumber(s, p, zscore ? "std" : "max", true, 0, -1e300, 1e300));
          if (zscore && !(stats.b > 0)) return Bad(p + ".std", "must be > 0");
          if (!zscore && !(stats.b > stats.a)) return Bad(p + ".max", "must be > min");
          step.stats.push_back(stats);
        }
      }
      break;
    }
  }
  return step;
}

Result<PipelineSpec> ParseJsonSpec(const json& root) {
  NEMESYST_RETURN_IF_ERROR(CheckKeys(
      root, "", {"format", "stream", "interval_s", "steps", "window", "label", "split", "fitted"}));
  PipelineSpec spec;
  NEMESYST_ASSIGN_OR_RETURN(int format,
                            GetInt(root, "", "format", false, kPipelineFormatVersion, 1, 1000));
  if (format != kPipelineFormatVersion) {
    return Bad("format", "version " + std::to_string(format) +
                             " is not supported (this build reads " +
                             std::to_string(kPipelineFormatVersion) + ")");
  }
  NEMESYST_ASSIGN_OR_RETURN(spec.stream, GetString(root, "", "stream", false));
  NEMESYST_ASSIGN_OR_RETURN(spec.interval_s,
                            GetNumber(root, "", "interval_s", false, 60, 1e-3, 86400));
  if (auto it = root.find("steps"); it != root.end()) {
    if (!it->is_array()) return Bad("steps", "must be an array of tables");
    for (size_t i = 0; i < it->size(); ++i) {
      NEMESYST_ASSIGN_OR_RETURN(PipelineStep step,
                                ParseStep((*it)[i], "steps[" + std::to_string(i) + "]"));
      spec.steps.push_back(std::move(step));
    }
  }
  const json empty = json::object();
  const json& window = root.contains("window") ? root["window"] : empty;
  NEMESYST_RETURN_IF_ERROR(CheckKeys(window, "window", {"length", "stride", "horizon"}));
  NEMESYST_ASSIGN_OR_RETURN(spec.window_length,
                            GetInt(window, "window", "length", true, 1, 1, 100000));
  NEMESYST_ASSIGN_OR_RETURN(spec.window_stride,
                            GetInt(window, "window", "stride", false, 1, 1, 100000));
  NEMESYST_ASSIGN_OR_RETURN(spec.window_horizon,
                            GetInt(window, "window", "horizon", false, 0, 0, 100000));
  if (auto it = root.find("label"); it != root.end()) {
    NEMESYST_RETURN_IF_ERROR(CheckKeys(*it, "label", {"field", "fields"}));
    if (it->contains("field") == it->contains("fields")) {
      return Bad("label", "needs exactly one of 'field' or 'fields'");
    }
    if (it->contains("field")) {
      NEMESYST_ASSIGN_OR_RETURN(std::string field, GetString(*it, "label", "field", true));
      spec.label_fields.push_back(field);
    } else {
      NEMESYST_ASSIGN_OR_RETURN(spec.label_fields, GetStrings(*it, "label", "fields", true));
    }
  }
  if (auto it = root.find("split"); it != root.end()) {
    NEMESYST_RETURN_IF_ERROR(CheckKeys(
        *it, "split",
        {"by", "train", "validation", "test", "seed", "train_until", "validation_until"}));
    NEMESYST_ASSIGN_OR_RETURN(spec.split_by,
                              GetEnum(*it, "split", "by", kSplits, true, SplitBy::kNone));
    NEMESYST_ASSIGN_OR_RETURN(spec.train, GetNumber(*it, "split", "train", false, 0.7, 0, 1));
    NEMESYST_ASSIGN_OR_RETURN(spec.validation,
                              GetNumber(*it, "split", "validation", false, 0.15, 0, 1));
    NEMESYST_ASSIGN_OR_RETURN(spec.test, GetNumber(*it, "split", "test", false, 0.15, 0, 1));
    if (std::fabs(spec.train + spec.validation + spec.test - 1.0) > 1e-6) {
      return Bad("split", "train + validation + test must be 1");
    }
    NEMESYST_ASSIGN_OR_RETURN(int seed, GetInt(*it, "split", "seed", false, 0, 0, 2147483647));
    spec.split_seed = static_cast<uint64_t>(seed);
    NEMESYST_ASSIGN_OR_RETURN(spec.train_until_us, GetTime(*it, "split", "train_until", 0));
    NEMESYST_ASSIGN_OR_RETURN(spec.validation_until_us,
                              GetTime(*it, "split", "validation_until", 0));
  }
  if (auto it = root.find("fitted"); it != root.end()) {
    if (!it->is_boolean()) return Bad("fitted", "must be true or false");
    spec.fitted = it->get<bool>();
  }
  int normalise_steps = 0;
  for (size_t i = 0; i < spec.steps.size(); ++i) {
    if (spec.steps[i].op != StepOp::kNormalise) continue;
    if (++normalise_steps > 1)
      return Bad("steps[" + std::to_string(i) + "]", "only one normalise step is allowed");
    if (spec.fitted && spec.steps[i].stats.empty()) {
      return Bad("steps[" + std::to_string(i) + "].stats",
                 "a fitted pipeline needs its statistics");
    }
  }
  if (spec.fitted && spec.split_by == SplitBy::kTime && spec.train_until_us == 0) {
    return Bad("split.train_until", "a fitted time split needs its cut times");
  }
  return spec;
}

}  // namespace

Result<PipelineSpec> ParsePipelineSpec(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  json root;
  try {
    if (first != std::string_view::npos && text[first] == '{') {
      root = json::parse(text);
    } else {
      toml::table table = toml::parse(text);
      std::ostringstream out;
      out << toml::json_formatter{table};
      root = json::parse(out.str());
    }
  } catch (const toml::parse_error& e) {
    std::ostringstream why;
    why << "pipeline spec: TOML line " << e.source().begin.line << ", column "
        << e.source().begin.column << ": " << e.description();
    return Status::InvalidArgument(why.str());
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("pipeline spec: ") + e.what());
  }
  return ParseJsonSpec(root);
}

std::string SerializePipelineSpec(const PipelineSpec& spec) {
  json root = json::object();
  root["format"] = kPipelineFormatVersion;
  if (!spec.stream.empty()) root["stream"] = spec.stream;
  root["interval_s"] = spec.interval_s;
  json steps = json::array();
  for (const PipelineStep& s : spec.steps) {
    json j = json::object();
    j["op"] = NameOf(kOps, s.op);
    switch (s.op) {
      case StepOp::kFilter: {
        json where = json::array();
        for (const Predicate& p : s.where) {
          where.push_back(
              {{"field", p.field}, {"cmp", NameOf(kCompares, p.op)}, {"value", p.value}});
        }
        if (!where.empty()) j["where"] = where;
        if (!s.device_prefixes.empty()) j["devices"] = s.device_prefixes;
        if (s.from_us != std::numeric_limits<int64_t>::min()) j["from"] = s.from_us;
        if (s.to_us != std::numeric_limits<int64_t>::max()) j["to"] = s.to_us;
        break;
      }
      case StepOp::kSelect:
        j["fields"] = s.fields;
        break;
      case StepOp::kDerive:
        j["name"] = s.name;
        j["kind"] = NameOf(kKinds, s.kind);
        if (!s.field.empty()) j["field"] = s.field;
        j["k"] = s.k;
        j["encoding"] = s.encoding;
        j["max_s"] = s.max_s;
        break;
      case StepOp::kFill:
        j["max_gap_s"] = s.max_gap_s;
        break;
      case StepOp::kNormalise: {
        const bool zscore = s.method == NormaliseMethod::kZScore;
        j["method"] = NameOf(kMethods, s.method);
        if (!s.fields.empty()) j["fields"] = s.fields;
        if (!s.stats.empty()) {
          json stats = json::array();
          for (const FieldStats& f : s.stats) {
            stats.push_back({{"field", f.field},
                             {zscore ? "mean" : "min", f.a},
                             {zscore ? "std" : "max", f.b}});
          }
          j["stats"] = stats;
        }
        break;
      }
    }
    steps.push_back(j);
  }
  root["steps"] = steps;
  root["window"] = {{"length", spec.window_length},
                    {"stride", spec.window_stride},
                    {"horizon", spec.window_horizon}};
  if (!spec.label_fields.empty()) root["label"] = {{"fields", spec.label_fields}};
  if (spec.split_by != SplitBy::kNone) {
    json split = {{"by", NameOf(kSplits, spec.split_by)},
                  {"train", spec.train},
                  {"validation", spec.validation},
                  {"test", spec.test},
                  {"seed", spec.split_seed}};
    if (spec.train_until_us != 0) split["train_until"] = spec.train_until_us;
    if (spec.validation_until_us != 0) split["validation_until"] = spec.validation_until_us;
    root["split"] = split;
  }
  root["fitted"] = spec.fitted;
  return root.dump(2);
}

}  // namespace nemesyst::stream
