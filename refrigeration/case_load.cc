// A case's load and its compressor's share of the next minute (case_load.h).
#include "refrigeration/case_load.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace nemesyst::refrigeration {
namespace {

// The sensed air-off's fall over-states how soon a pull-down ends: its extrapolation is stretched
// by this factor, the one that left no bias in the simulated pull-downs (docs/dispatch.md).
constexpr double kFallStretch = 1.5;

}  // namespace

CaseLoad LoadFromHistory(const std::deque<SimSample>& history, int64_t from_us, int64_t step_us) {
  CaseLoad load;
  double sum = 0, cooling_sum = 0;
  int n = 0, cooling_n = 0;
  load.idle_kw = std::numeric_limits<double>::infinity();
  double lowest_kw = std::numeric_limits<double>::infinity();
  double lowest_air_off_c = std::numeric_limits<double>::infinity();
  std::vector<double> cut_in;
  const SimSample* previous = nullptr;
  for (const SimSample& s : history) {
    const SimSample* before = previous;
    previous = &s;
    if (s.values[kDefrost] > 0.5) continue;
    const double kw = s.values[kPowerKw];
    // A meter reading is the mean over the minute before it: the valve in the same state at both
    // ends of that minute (no defrost) is a minute of idle, or of full cooling, draw. The whole
    // history serves (a case pulling down after a defrost may not have idled in the last hour).
    if (before && before->values[kDefrost] < 0.5 && s.time_us - before->time_us <= step_us) {
      const bool cooling = s.values[kCooling] > 0.5, was_cooling = before->values[kCooling] > 0.5;
      if (!was_cooling && cooling) cut_in.push_back(before->values[kAirOffC]);
      if (cooling && was_cooling) {
        cooling_sum += kw;
        ++cooling_n;
      } else if (!cooling && !was_cooling) {
        load.idle_kw = std::min(load.idle_kw, kw);
      }
    }
    lowest_kw = std::min(lowest_kw, kw);
    if (s.time_us < from_us) continue;
    sum += kw;
    ++n;
    lowest_air_off_c = std::min(lowest_air_off_c, static_cast<double>(s.values[kAirOffC]));
  }
  auto mean = [](const std::vector<double>& v) {
    double total = 0;
    for (double x : v) total += x;
    return total / static_cast<double>(v.size());
  };
  load.cut_out_c = lowest_air_off_c;
  load.cut_in_c = cut_in.empty() ? -std::numeric_limits<double>::infinity() : mean(cut_in);
  if (n > 0) load.baseline_kw = sum / n;
  if (cooling_n > 0) load.cooling_kw = cooling_sum / cooling_n;
  // A case whose valve never stayed shut for a whole minute (short cycles at peak load) shows
  // its idle draw only mixed with some cooling: the lowest reading, which under-states the shed
  // (the safe side). A case that never idled at all (a long pull-down) is not known.
  if (!std::isfinite(load.idle_kw)) load.idle_kw = lowest_kw;
  load.known = n > 0 && cooling_n > 0 && load.cooling_kw - load.idle_kw > 0.2 * load.cooling_kw;
  return load;
}

double CoolingShare(const RotationCase& c, const CaseLoad& load, const std::deque<SimSample>& h,
                    const std::optional<SimSample>& now, int64_t now_us, int64_t step_us,
                    double last_off_s, const RotationSettings& s) {
  if (!now) return 1.0;  // no reading: expect the full draw
  const double air_off = now->values[kAirOffC];
  const bool have_previous = h.size() >= 2 && h[h.size() - 2].time_us == now_us - step_us;
  const double previous_air_off = have_previous ? h[h.size() - 2].values[kAirOffC] : air_off;
  const double off_s = c.phase == CasePhase::kOff ? c.phase_s : last_off_s;
  const double since_restart_s = c.phase == CasePhase::kOff ? 0 : c.phase_s;
  double left_s =
      PullDownSeconds(off_s, c.shed_kw, load.cooling_kw - load.baseline_kw) - since_restart_s;
  double start_s = 0;
  if (c.phase == CasePhase::kOff || now->values[kCooling] < 0.5) {
    if (air_off < load.cut_in_c) {
      const double rise = air_off - previous_air_off;
      start_s = rise > 0.01 ? (load.cut_in_c - air_off) / rise * s.step_s : s.step_s;
    }
  } else if (c.phase_s >= 2 * s.step_s && have_previous) {
    // (Both readings while cooling: the first minute's fall also holds the coil's offset.) The
    // fall slows as the air nears the coil's temperature: with a third reading, the falls are
    // taken to shrink geometrically (ratio q per minute), so the air-off reaches the cut-out
    // after log(1 − D(1 − q)/f) / log q minutes, D the distance left and f the last fall.
    const double fall = previous_air_off - air_off;
    const double distance = air_off - load.cut_out_c;
    if (fall > 0.05) {
      left_s = kFallStretch * distance / fall * s.step_s;
      const bool have_third = c.phase_s >= 3 * s.step_s && h.size() >= 3 &&
                              h[h.size() - 3].time_us == now_us - 2 * step_us;
      if (have_third) {
        const double q = fall / (h[h.size() - 3].values[kAirOffC] - previous_air_off);
        if (q > 0 && q < 0.95) {
          const double inside = 1 - distance * (1 - q) / fall;
          left_s =
              inside > 0 ? kFallStretch * std::log(inside) / std::log(q) * s.step_s : 10 * s.step_s;
        }
      }
      return ExpectedRunShare(left_s, s.step_s);  // the valve is open: no start to wait for
    }
  } else {
    // Cooling for a minute, no fall to go by yet: a pull-down after a switch-off outlasts its
    // first minute far more often than the heat balance says.
    left_s = std::max(left_s, s.step_s);
  }
  const double run_s = std::clamp(std::min(left_s, s.step_s - start_s), 0.0, s.step_s);
  return run_s / s.step_s;
}

}  // namespace nemesyst::refrigeration
