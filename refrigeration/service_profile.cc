#include "nemesyst/refrigeration/service_profile.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "common/read_file.h"

namespace nemesyst::refrigeration {
namespace {

constexpr double kMaxDurationS = 4 * 3600.0;
constexpr size_t kMaxNameLength = 64;

// Every key a profile object may have; anything else is refused (a typo such as "tolerence" must
// not silently fall back to the default).
constexpr const char* kKeys[] = {"name",      "response_s",    "full_s", "duration_s",
                                 "tolerance", "rebound_limit", "min_kw", "description"};

std::vector<ServiceProfile> MakeBuiltIns() {
  // GB public service terms. Where the terms give only "full within", the response must have
  // started by then too (response_s = full_s). Every service's minimum offer is 1 MW.
  auto make = [](const char* name, double response_s, double full_s, double duration_s,
                 const char* description) {
    ServiceProfile p;
    p.name = name;
    p.response_s = response_s;
    p.full_s = full_s;
    p.duration_s = duration_s;
    p.min_kw = 1000;
    p.description = description;
    return p;
  };
  return {
      make("dc", 0.5, 1, 15 * 60,
           "Dynamic Containment: start within 0.5 s, full within 1 s, sustain 15 min"),
      make("dm", 0.5, 1, 30 * 60,
           "Dynamic Moderation: start within 0.5 s, full within 1 s, sustain 30 min"),
      make("dr", 2, 10, 60 * 60,
           "Dynamic Regulation: start within 2 s, full within 10 s, sustain 60 min"),
      make("ffr_primary", 10, 10, 20,
           "FFR primary: full within 10 s, sustained 20 s (replayed as one whole minute)"),
      make("ffr_secondary", 30, 30, 30 * 60, "FFR secondary: full within 30 s, held 30 min"),
      make("static_ffr", 30, 30, 30 * 60, "Static FFR: full within 30 s, held 30 min"),
  };
}

// JSON text of a value; bytes that are not UTF-8 are replaced rather than thrown about (a name
// set in code may hold anything).
std::string Dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// "profile 2 (\"dc\")" or "profile 2 (unnamed)": how messages name a profile in a file.
std::string ProfileLabel(size_t index, const std::string& name) {
  return "profile " + std::to_string(index) + " (" +
         (name.empty() ? std::string("unnamed") : Dump(name)) + ")";
}

// Reads one profile object. Errors name the field only; the caller adds source and profile.
Status ReadProfile(const nlohmann::json& j, ServiceProfile* out) {
  if (!j.is_object()) {
    return Status::InvalidArgument(std::string("must be an object, got ") + j.type_name());
  }
  auto text = [&](const char* key, bool required, std::string* field) -> Status {
    const auto it = j.find(key);
    if (it == j.end()) {
      return required ? Status::InvalidArgument(std::string("missing '") + key + "'")
                      : Status::OK();
    }
    if (!it->is_string()) {
      return Status::InvalidArgument(std::string("'") + key + "' must be a string, got " +
                                     it->type_name());
    }
    *field = it->get<std::string>();
    return Status::OK();
  };
  auto number = [&](const char* key, bool required, double* field) -> Status {
    const auto it = j.find(key);
    if (it == j.end()) {
      return required ? Status::InvalidArgument(std::string("missing '") + key + "'")
                      : Status::OK();
    }
    if (!it->is_number()) {
      return Status::InvalidArgument(std::string("'") + key + "' must be a number, got " +
                                     it->type_name());
    }
    *field = it->get<double>();
    return Status::OK();
  };
  // The name first, so that every later error can name the profile.
  NEMESYST_RETURN_IF_ERROR(text("name", true, &out->name));
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (const char* key : kKeys) known = known || it.key() == key;
    if (!known) {
      std::string list;
      for (const char* key : kKeys) list += std::string(list.empty() ? "" : ", ") + key;
      return Status::InvalidArgument("unknown key '" + it.key() + "' (known: " + list + ")");
    }
  }
  NEMESYST_RETURN_IF_ERROR(number("response_s", true, &out->response_s));
  NEMESYST_RETURN_IF_ERROR(number("full_s", true, &out->full_s));
  NEMESYST_RETURN_IF_ERROR(number("duration_s", true, &out->duration_s));
  NEMESYST_RETURN_IF_ERROR(number("tolerance", false, &out->tolerance));
  NEMESYST_RETURN_IF_ERROR(number("rebound_limit", false, &out->rebound_limit));
  NEMESYST_RETURN_IF_ERROR(number("min_kw", false, &out->min_kw));
  NEMESYST_RETURN_IF_ERROR(text("description", false, &out->description));
  return ValidateProfile(*out);
}

}  // namespace

bool operator==(const ServiceProfile& a, const ServiceProfile& b) {
  return a.name == b.name && a.response_s == b.response_s && a.full_s == b.full_s &&
         a.duration_s == b.duration_s && a.tolerance == b.tolerance &&
         a.rebound_limit == b.rebound_limit && a.min_kw == b.min_kw &&
         a.description == b.description;
}

const std::vector<ServiceProfile>& BuiltInProfiles() {
  static const std::vector<ServiceProfile>* const profiles =
      new std::vector<ServiceProfile>(MakeBuiltIns());
  return *profiles;
}

Result<ServiceProfile> FindProfile(std::string_view name,
                                   const std::vector<ServiceProfile>& among) {
  std::string known;
  for (const ServiceProfile& p : among) {
    if (p.name == name) return p;
    known += (known.empty() ? "" : ", ") + p.name;
  }
  return Status::NotFound("unknown service profile '" + std::string(name) +
                          "' (known: " + (known.empty() ? std::string("none") : known) + ")");
}

int ReplayMinutes(const ServiceProfile& profile) {
  const double minutes = std::ceil(profile.duration_s / 60.0);
  return minutes < 1 ? 1 : static_cast<int>(minutes);
}

Status ValidateProfile(const ServiceProfile& p) {
  auto bad = [](const char* field, const std::string& rule, double got) {
    return Status::InvalidArgument(std::string("'") + field + "' must be " + rule + ", got " +
                                   Number(got));
  };
  if (!ValidName(p.name)) {
    return Status::InvalidArgument("'name' must be 1.." + std::to_string(kMaxNameLength) +
                                   " characters of [A-Za-z0-9_.-], got " + Dump(p.name));
  }
  // NaN fails every comparison below, so each check is written as "not (valid)".
  if (!(std::isfinite(p.duration_s) && p.duration_s > 0 && p.duration_s <= kMaxDurationS)) {
    return bad("duration_s", "in (0, 14400] (4 h)", p.duration_s);
  }
  if (!(std::isfinite(p.full_s) && p.full_s >= 0 && p.full_s <= p.duration_s)) {
    return bad("full_s", "in [0, duration_s = " + Number(p.duration_s) + "]", p.full_s);
  }
  if (!(std::isfinite(p.response_s) && p.response_s >= 0 && p.response_s <= p.full_s)) {
    return bad("response_s", "in [0, full_s = " + Number(p.full_s) + "]", p.response_s);
  }
  if (!(std::isfinite(p.tolerance) && p.tolerance > 0 && p.tolerance <= 0.5)) {
    return bad("tolerance", "in (0, 0.5]", p.tolerance);
  }
  if (!(std::isfinite(p.rebound_limit) && p.rebound_limit >= 0 && p.rebound_limit <= 1)) {
    return bad("rebound_limit", "in [0, 1]", p.rebound_limit);
  }
  if (!(std::isfinite(p.min_kw) && p.min_kw >= 0)) {
    return bad("min_kw", "finite and >= 0", p.min_kw);
  }
  return Status::OK();
}

Result<std::vector<ServiceProfile>> ParseProfiles(std::string_view text, std::string_view source) {
  const std::string where(source);
  std::vector<ServiceProfile> profiles;
  try {
    const nlohmann::json doc = nlohmann::json::parse(text);
    const nlohmann::json* list = &doc;
    if (doc.is_object()) {
      for (auto it = doc.begin(); it != doc.end(); ++it) {
        if (it.key() != "profiles") {
          return Status::InvalidArgument(where + ": unknown key '" + it.key() +
                                         "' (expected only 'profiles')");
        }
      }
      const auto it = doc.find("profiles");
      if (it == doc.end()) return Status::InvalidArgument(where + ": missing 'profiles'");
      list = &*it;
    }
    if (!list->is_array()) {
      return Status::InvalidArgument(where +
                                     ": expected an array of profiles or {\"profiles\": "
                                     "[...]}, got " +
                                     list->type_name());
    }
    if (list->empty()) return Status::InvalidArgument(where + ": no profiles");
    std::set<std::string> names;
    for (size_t i = 0; i < list->size(); ++i) {
      const nlohmann::json& item = (*list)[i];
      ServiceProfile p;
      Status s = ReadProfile(item, &p);
      // p.name is read first, so the label shows the name as written even when it is the name
      // itself that is wrong.
      if (!s.ok()) return s.WithContext(where + ": " + ProfileLabel(i, p.name));
      if (!names.insert(p.name).second) {
        return Status::InvalidArgument(where + ": " + ProfileLabel(i, p.name) +
                                       ": 'name' repeats an earlier profile's");
      }
      profiles.push_back(std::move(p));
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(where + ": " + e.what());
  }
  return profiles;
}

Result<std::vector<ServiceProfile>> ReadProfilesFile(const std::string& path) {
  NEMESYST_ASSIGN_OR_RETURN(const std::string text, ReadWholeFile(path, "service profiles file"));
  return ParseProfiles(text, path);
}

std::string ProfileToJson(const ServiceProfile& profile) {
  nlohmann::ordered_json j;
  j["name"] = profile.name;
  j["response_s"] = profile.response_s;
  j["full_s"] = profile.full_s;
  j["duration_s"] = profile.duration_s;
  j["tolerance"] = profile.tolerance;
  j["rebound_limit"] = profile.rebound_limit;
  j["min_kw"] = profile.min_kw;
  j["description"] = profile.description;
  return Dump(j);
}

std::string ProfilesToJson(const std::vector<ServiceProfile>& profiles) {
  std::string out = "{\"profiles\":[";
  for (size_t i = 0; i < profiles.size(); ++i) {
    if (i > 0) out += ',';
    out += ProfileToJson(profiles[i]);
  }
  return out + "]}";
}

}  // namespace nemesyst::refrigeration
