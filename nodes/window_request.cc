#include "nodes/window_request.h"

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/json_number.h"

namespace nemesyst::nodes {
namespace {

std::string FieldList(const std::vector<std::string>& fields) {
  std::string out;
  for (const std::string& f : fields) out += (out.empty() ? "" : ",") + f;
  return out;
}

Result<std::vector<Record>> FromJson(const std::string& device, const nlohmann::json& readings,
                                     const std::vector<std::string>& fields) {
  if (!readings.is_array()) return Status::InvalidArgument("window: \"readings\" is an array");
  if (readings.size() > kMaxWindowReadings) {
    return Status::InvalidArgument("window: at most 100000 readings");
  }
  std::vector<Record> window;
  window.reserve(readings.size());
  for (size_t i = 0; i < readings.size(); ++i) {
    const nlohmann::json& r = readings[i];
    const std::string where = "window reading " + std::to_string(i);
    if (!r.is_object()) return Status::InvalidArgument(where + ": not an object");
    Record rec;
    rec.device_id = device;
    const auto ts = r.find("timestamp_us");
    if (ts == r.end()) return Status::InvalidArgument(where + ": no \"timestamp_us\"");
    try {
      rec.timestamp_us = JsonInteger<int64_t>(*ts);
    } catch (const nlohmann::json::exception& e) {
      return Status::InvalidArgument(where + ": timestamp_us: " + e.what());
    }
    rec.values.reserve(fields.size());
    for (const std::string& f : fields) {
      const auto v = r.find(f);
      if (v == r.end()) {
        return Status::InvalidArgument(where + ": no field '" + f + "' (the model takes " +
                                       FieldList(fields) + ")");
      }
      if (v->is_null()) {
        rec.values.push_back(std::nan(""));
      } else if (v->is_number()) {
        rec.values.push_back(v->get<double>());
      } else {
        return Status::InvalidArgument(where + ": field '" + f + "' is not a number");
      }
    }
    window.push_back(std::move(rec));
  }
  return window;
}

Result<std::vector<Record>> FromBinary(const std::string& device, const nlohmann::json& columns,
                                       std::string_view data,
                                       const std::vector<std::string>& fields) {
  if (!columns.is_array() || columns.size() != fields.size() + 1) {
    return Status::InvalidArgument("window: \"fields\" lists timestamp_us and the model's " +
                                   std::to_string(fields.size()) + " fields (" + FieldList(fields) +
                                   ")");
  }
  // For each column of a row, where its value goes: -1 = the timestamp, else the field index.
  std::vector<int> target(columns.size(), -2);
  std::vector<bool> seen(fields.size(), false);
  bool timestamp_seen = false;
  for (size_t c = 0; c < columns.size(); ++c) {
    if (!columns[c].is_string()) return Status::InvalidArgument("window: \"fields\" holds strings");
    const std::string& name = columns[c].get_ref<const std::string&>();
    if (name == "timestamp_us" && !timestamp_seen) {
      target[c] = -1;
      timestamp_seen = true;
      continue;
    }
    for (size_t f = 0; f < fields.size(); ++f) {
      if (fields[f] == name && !seen[f]) {
        target[c] = static_cast<int>(f);
        seen[f] = true;
        break;
      }
    }
    if (target[c] == -2) {
      return Status::InvalidArgument("window: field '" + name +
                                     "' is not the model's, or is listed twice (the model takes " +
                                     FieldList(fields) + ")");
    }
  }
  const size_t row_bytes = 8 * columns.size();
  if (data.size() % row_bytes != 0) {
    return Status::InvalidArgument("window: the data frame has " + std::to_string(data.size()) +
                                   " bytes, not a whole number of " + std::to_string(row_bytes) +
                                   "-byte rows");
  }
  const size_t rows = data.size() / row_bytes;
  if (rows > kMaxWindowReadings) return Status::InvalidArgument("window: at most 100000 readings");
  std::vector<Record> window(rows);
  for (size_t i = 0; i < rows; ++i) {
    Record& rec = window[i];
    rec.device_id = device;
    rec.values.resize(fields.size());
    const char* row = data.data() + i * row_bytes;
    for (size_t c = 0; c < columns.size(); ++c) {
      if (target[c] == -1) {
        std::memcpy(&rec.timestamp_us, row + 8 * c, 8);
      } else {
        std::memcpy(&rec.values[static_cast<size_t>(target[c])], row + 8 * c, 8);
      }
    }
  }
  return window;
}

}  // namespace

Result<std::vector<Record>> DecodeWindow(const nlohmann::json& window, std::string_view data,
                                         const std::vector<std::string>& model_fields) {
  if (!window.is_object() || !window.contains("device") || !window["device"].is_string()) {
    return Status::InvalidArgument("window: needs \"device\" (a string)");
  }
  const std::string& device = window["device"].get_ref<const std::string&>();
  if (window.contains("fields")) {
    return FromBinary(device, window["fields"], data, model_fields);
  }
  if (!data.empty()) {
    return Status::InvalidArgument("window: a data frame needs \"fields\" naming its columns");
  }
  if (!window.contains("readings")) {
    return Status::InvalidArgument("window: needs \"readings\" (or \"fields\" and a data frame)");
  }
  return FromJson(device, window["readings"], model_fields);
}

}  // namespace nemesyst::nodes
