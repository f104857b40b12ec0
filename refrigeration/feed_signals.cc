#include "refrigeration/feed_signals.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nemesyst::refrigeration {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Air-off this far above the type's cut-in means the case is pulling down after a defrost or a
// stop (outside the thermostat's band), °C.
constexpr double kPullDownMarginC = 2.0;

double Median(std::vector<double> v) {
  if (v.empty()) return kNaN;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  return v[mid];
}

bool On(const SimSample& s, SimField field) { return s.values[field] > 0.5f; }

}  // namespace

TypeSettings NominalSettings(CaseType type) {
  // refrigeration/case_model.cc's nominal table (docs/simulator.md): the thermostat settings of
  // chilled and frozen cases as installed.
  switch (type) {
    case CaseType::kChilledMultideck:
    case CaseType::kChilledGlassDoor:
      return {-1.0, 3.0, 2.0};
    case CaseType::kFrozenWell:
    case CaseType::kFrozenGlassDoor:
      return {-25.0, -20.0, 2.5};
  }
  return {-1.0, 3.0, 2.0};
}

FeedSignals MeasureFeed(const SimSample* window, size_t count, CaseType type,
                        double stuck_resolution_c) {
  FeedSignals out;
  out.readings = static_cast<int>(count);
  const TypeSettings nominal = NominalSettings(type);

  std::vector<double> values(count);
  for (int f = 0; f < kTemperatureFieldCount; ++f) {
    for (size_t i = 0; i < count; ++i) values[i] = window[i].values[f];
    std::sort(values.begin(), values.end());
    size_t best = 0, lo = 0;
    double best_value = kNaN;
    for (size_t hi = 0; hi < count; ++hi) {
      while (values[hi] - values[lo] > stuck_resolution_c) ++lo;
      if (hi - lo + 1 > best) {
        best = hi - lo + 1;
        best_value = values[lo];
      }
    }
    out.mode_fraction[f] = count == 0 ? 0.0 : static_cast<double>(best) / count;
    out.mode_value[f] = best_value;
  }

  // Thermostat transitions: between two consecutive readings of the window, neither in defrost.
  double close_min = kNaN, close_max = kNaN, open_min = kNaN, open_max = kNaN;
  for (size_t i = 0; i + 1 < count; ++i) {
    const SimSample& a = window[i];
    const SimSample& b = window[i + 1];
    if (On(a, kDefrost) || On(b, kDefrost)) continue;
    const double air_off = a.values[kAirOffC];
    if (On(a, kCooling) && !On(b, kCooling)) {
      const double d = air_off - nominal.cut_out_c;
      close_min = out.closes == 0 ? d : std::min(close_min, d);
      close_max = out.closes == 0 ? d : std::max(close_max, d);
      ++out.closes;
    } else if (!On(a, kCooling) && On(b, kCooling)) {
      const double d = air_off - nominal.cut_in_c;
      open_min = out.opens == 0 ? d : std::min(open_min, d);
      open_max = out.opens == 0 ? d : std::max(open_max, d);
      ++out.opens;
    }
  }
  out.close_min = close_min;
  out.close_max = close_max;
  out.open_min = open_min;
  out.open_max = open_max;

  // Readings in the thermostat's normal cycle: not in defrost, not in the pull-down after one
  // (from a defrost reading to the next thermostat close), not far above the cut-in.
  std::vector<double> off_diff, on_diff, ambient;
  double product_sum = 0, air_sum = 0;
  int cycle_readings = 0;
  bool pulling_down = false;
  for (size_t i = 0; i < count; ++i) {
    const SimSample& s = window[i];
    ambient.push_back(s.values[kAmbientC]);
    if (On(s, kDefrost)) {
      pulling_down = true;
      continue;
    }
    if (pulling_down && i > 0 && On(window[i - 1], kCooling) && !On(s, kCooling)) {
      pulling_down = false;
    }
    const double air_off = s.values[kAirOffC];
    if (pulling_down || air_off > nominal.cut_in_c + kPullDownMarginC) continue;
    const bool cooling = On(s, kCooling);
    const double diff = s.values[kAirOnC] - air_off;
    (cooling ? on_diff : off_diff).push_back(diff);
    product_sum += s.values[kProductC];
    air_sum += air_off + (cooling ? nominal.coil_delta_c : 0.0);
    ++cycle_readings;
  }
  out.off_cycle_diff = Median(std::move(off_diff));
  out.cooling_diff = Median(std::move(on_diff));
  out.ambient = Median(std::move(ambient));
  out.product_minus_air = cycle_readings == 0 ? kNaN : (product_sum - air_sum) / cycle_readings;
  return out;
}

}  // namespace nemesyst::refrigeration
