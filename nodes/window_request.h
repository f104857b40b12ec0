// The readings of a window predict request (docs/serving.md, "Predict requests"), decoded and
// checked against the served model's input fields. Two forms:
//
//  JSON:   "window": {"device": D, "readings": [{"timestamp_us": T, "<field>": V | null, ...},
//  ...]}
//          every model field in every reading (null = missing); other keys are ignored.
//  Binary: "window": {"device": D, "fields": ["timestamp_us", "<field>", ...]} and a data frame of
//          rows, each row the listed columns in that order as little-endian 8-byte values:
//          timestamp_us an int64, every field a float64 (NaN = missing). "fields" names
//          timestamp_us once and every model field once, in any order. The form for callers
//          that care about latency: nothing is parsed per value.
//
// Errors are InvalidArgument naming the reading (or byte offset) and field.
// Thread-safety: pure functions.
#ifndef NEMESYST_NODES_WINDOW_REQUEST_H_
#define NEMESYST_NODES_WINDOW_REQUEST_H_

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/status.h"
#include "nemesyst/store_types.h"

namespace nemesyst::nodes {

inline constexpr size_t kMaxWindowReadings = 100000;

// `window` is the request's "window" object; `data` its data frame (empty for the JSON form).
Result<std::vector<Record>> DecodeWindow(const nlohmann::json& window, std::string_view data,
                                         const std::vector<std::string>& model_fields);

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_WINDOW_REQUEST_H_
