// Reading the fields of a JSON request from a peer (control ops): each either present with the
// right type and range, or absent with a default — errors name the field, nothing throws.
//
// Thread-safety: pure functions.
#ifndef NEMESYST_NODES_REQUEST_FIELDS_H_
#define NEMESYST_NODES_REQUEST_FIELDS_H_

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/json_number.h"
#include "nemesyst/status.h"

namespace nemesyst::nodes {

// A string field; `fallback` null: required.
inline Result<std::string> StringField(const nlohmann::json& j, const char* key,
                                       const char* fallback) {
  const auto it = j.find(key);
  if (it == j.end()) {
    if (fallback != nullptr) return std::string(fallback);
    return Status::InvalidArgument(std::string("needs \"") + key + "\"");
  }
  if (!it->is_string()) return Status::InvalidArgument(std::string("\"") + key + "\" is a string");
  return it->get<std::string>();
}

// An integer field in [lo, hi], or its default.
template <class T>
Result<T> IntField(const nlohmann::json& j, const char* key, T fallback, T lo, T hi) {
  const auto it = j.find(key);
  if (it == j.end()) return fallback;
  T v;
  try {
    v = JsonInteger<T>(*it);
  } catch (const nlohmann::json::exception&) {
    return Status::InvalidArgument(std::string("\"") + key + "\" must be an integer");
  }
  if (v < lo || v > hi) {
    return Status::InvalidArgument(std::string("\"") + key + "\" must be in " + std::to_string(lo) +
                                   ".." + std::to_string(hi));
  }
  return v;
}

// A finite number in [lo, hi]; `fallback` NaN: required.
inline Result<double> NumberField(const nlohmann::json& j, const char* key, double fallback,
                                  double lo, double hi) {
  const auto it = j.find(key);
  if (it == j.end()) {
    if (std::isnan(fallback)) return Status::InvalidArgument(std::string("needs \"") + key + "\"");
    return fallback;
  }
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    return Status::InvalidArgument(std::string("\"") + key + "\" must be a number");
  }
  const double v = it->get<double>();
  if (!(v >= lo && v <= hi)) {
    return Status::InvalidArgument(std::string("\"") + key + "\" must be in " + std::to_string(lo) +
                                   ".." + std::to_string(hi));
  }
  return v;
}

// "stores": a non-empty array of store ids, sorted, each once; empty when absent.
inline Result<std::vector<std::string>> StoreListField(const nlohmann::json& j) {
  std::vector<std::string> stores;
  const auto it = j.find("stores");
  if (it == j.end()) return stores;
  if (!it->is_array() || it->empty() || it->size() > 10000) {
    return Status::InvalidArgument("\"stores\" is a non-empty array of store ids");
  }
  for (const nlohmann::json& s : *it) {
    if (!s.is_string()) return Status::InvalidArgument("\"stores\" holds store ids (strings)");
    stores.push_back(s.get<std::string>());
  }
  std::sort(stores.begin(), stores.end());
  stores.erase(std::unique(stores.begin(), stores.end()), stores.end());
  return stores;
}

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_REQUEST_FIELDS_H_
