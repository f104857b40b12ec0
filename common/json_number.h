// Checked integer reads from parsed JSON.
//
// nlohmann's get<T>() for an integer T converts a float with a plain static_cast — undefined
// behaviour when the value does not fit (the fuzzer found {"batch_rows": 1e72}) — and silently
// wraps an integer that does not fit T (a negative size read as uint64_t, 2^40 read as uint32_t).
// Every integer that comes from a file or a peer is read through these instead: they accept only a
// JSON integer whose value fits T and otherwise throw nlohmann::json::type_error / out_of_range,
// which the parsers already catch and turn into a Status that names the field.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

namespace nemesyst {

template <class T>
T JsonInteger(const nlohmann::json& v) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>, "JsonInteger reads integers");
  if (!v.is_number_integer()) {
    throw nlohmann::json::type_error::create(
        302,
        std::string("expected an integer, got ") + (v.is_number() ? "a fraction" : v.type_name()),
        &v);
  }
  bool fits;
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    fits = u <= static_cast<uint64_t>(std::numeric_limits<T>::max());
  } else {
    const int64_t s = v.get<int64_t>();
    if constexpr (std::is_signed_v<T>) {
      fits = s >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
             s <= static_cast<int64_t>(std::numeric_limits<T>::max());
    } else {
      fits = s >= 0 &&
             static_cast<uint64_t>(s) <= static_cast<uint64_t>(std::numeric_limits<T>::max());
    }
  }
  if (!fits) {
    throw nlohmann::json::out_of_range::create(406, v.dump() + " is out of range for this field",
                                               &v);
  }
  return v.is_number_unsigned() ? static_cast<T>(v.get<uint64_t>())
                                : static_cast<T>(v.get<int64_t>());
}

// `v` as T: an integer type through JsonInteger, anything else (bool, floating point, strings,
// containers) as nlohmann reads it — for readers generic over the field's type.
template <class T>
T JsonValue(const nlohmann::json& v) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    return JsonInteger<T>(v);
  } else {
    return v.get<T>();
  }
}

// object[key] read as JsonInteger<T>, or `fallback` when the key is absent (json::value's contract,
// with the checks above).
template <class T>
T JsonInteger(const nlohmann::json& object, const std::string& key, T fallback) {
  const auto it = object.find(key);
  return it == object.end() ? fallback : JsonInteger<T>(*it);
}

}  // namespace nemesyst
