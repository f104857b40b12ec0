#include "nemesyst/refrigeration/feed_check.h"

#include <cmath>
#include <string>

#include "common/number_format.h"
#include "refrigeration/feed_signals.h"

namespace nemesyst::refrigeration {
namespace {

// Bands of the consistency checks, °C, relative to the type's nominal settings (feed_signals.h):
// the healthy fleet's extremes over 20 stores x 24 cases x 3 days (seed 19, 60-reading windows
// every 20 min; FeedCheckTest.DISABLED_HealthySignalRanges prints them) widened by 0.3 °C, so a
// healthy case is flagged only by a reading its physics cannot produce. Each band bounds the side
// of a signal that a drift moves and the case's settings do not: the lowest air-off before a
// close sits just above the cut-out whatever the fall rate, the highest before an open just
// below the cut-in.
struct Band {
  double lo, hi;
  bool Contains(double v) const { return std::isnan(v) || (v >= lo && v <= hi); }
};
struct Bands {
  Band close_min;     // lowest air-off before a close, minus the cut-out
  Band open_max;      // highest air-off before an open, minus the cut-in
  Band off_diff;      // air-on - air-off, valve shut (median)
  Band cooling_diff;  // air-on - air-off, cooling (median)
  Band ambient;       // store ambient, absolute (median)
  Band product;       // product - mean air
};
//                                 healthy: close_min [-0.8, 2.5], open_max [-2.0, 0.7],
//                                 off [0.1, 1.2], cooling [1.9, 5.1], product [-0.5, 4.5]
constexpr Bands kChilled = {{-1.1, 2.8}, {-2.3, 1.0},  {-0.2, 1.5},
                            {1.6, 5.4},  {18.2, 23.1}, {-1.3, 5.1}};
//                                 healthy: close_min [-0.7, 1.8], open_max [-1.6, 0.7],
//                                 off [0.2, 1.8], cooling [2.7, 7.0], product [-1.0, 4.8]
constexpr Bands kFrozen = {{-1.0, 2.1}, {-1.9, 1.0},  {-0.1, 2.1},
                           {2.4, 7.3},  {18.2, 23.1}, {-1.3, 5.1}};

std::string BandText(const Band& band, double offset) {
  return "[" + Fixed(band.lo + offset, 1) + ", " + Fixed(band.hi + offset, 1) + "]";
}

FeedVerdict Suspect(FeedIssue issue, int field, std::string reason) {
  FeedVerdict v;
  v.suspect = true;
  v.issue = issue;
  v.field = field;
  v.reason = std::move(reason);
  return v;
}

}  // namespace

std::string_view FeedIssueName(FeedIssue issue) {
  switch (issue) {
    case FeedIssue::kNone:
      return "none";
    case FeedIssue::kGap:
      return "gap";
    case FeedIssue::kStale:
      return "stale";
    case FeedIssue::kStuck:
      return "stuck";
    case FeedIssue::kInconsistent:
      return "inconsistent";
  }
  return "unknown";
}

Result<FeedVerdict> CheckFeed(const std::vector<SimSample>& readings, CaseType type, int64_t now_us,
                              const FeedCheckOptions& options) {
  if (options.interval_s <= 0) return Status::InvalidArgument("feed check: interval_s must be > 0");
  if (options.lookback_s < 2 * options.interval_s) {
    return Status::InvalidArgument("feed check: lookback_s must be at least 2 intervals");
  }
  if (!(options.stuck_fraction > 0 && options.stuck_fraction <= 1)) {
    return Status::InvalidArgument("feed check: stuck_fraction must be in (0, 1]");
  }
  if (!(options.stuck_resolution_c >= 0 && std::isfinite(options.stuck_resolution_c))) {
    return Status::InvalidArgument("feed check: stuck_resolution_c must be >= 0");
  }
  if (options.min_readings < 2) {
    return Status::InvalidArgument("feed check: min_readings must be >= 2");
  }
  for (size_t i = 1; i < readings.size(); ++i) {
    if (readings[i].case_index != readings[0].case_index) {
      return Status::InvalidArgument("feed check: readings of cases " +
                                     std::to_string(readings[0].case_index) + " and " +
                                     std::to_string(readings[i].case_index) + " mixed");
    }
    if (readings[i].time_us <= readings[i - 1].time_us) {
      return Status::InvalidArgument("feed check: readings out of time order at index " +
                                     std::to_string(i));
    }
  }

  const int64_t interval_us = static_cast<int64_t>(options.interval_s) * 1000000;
  const int64_t window_start_us = now_us - static_cast<int64_t>(options.lookback_s) * 1000000;
  const std::string minutes = std::to_string(options.lookback_s / 60) + " min";
  // The window: readings in (now - lookback, now].
  size_t first = 0;
  while (first < readings.size() && readings[first].time_us <= window_start_us) ++first;
  size_t end = first;
  while (end < readings.size() && readings[end].time_us <= now_us) ++end;
  const size_t count = end - first;
  if (count == 0) {
    return Suspect(FeedIssue::kGap, -1, "gap: no readings in the last " + minutes);
  }
  const SimSample* window = readings.data() + first;

  // Gaps. A quarter of an interval of slack for clock jitter between a reading and its slot.
  const int64_t slack_us = interval_us / 4;
  const int64_t age_us = now_us - window[count - 1].time_us;
  if (age_us > interval_us + slack_us) {
    return Suspect(FeedIssue::kStale, -1,
                   "stale: latest reading " + std::to_string(age_us / 1000000) + " s old");
  }
  int64_t missing = (window[0].time_us - window_start_us - slack_us) / interval_us;
  for (size_t i = 1; i < count; ++i) {
    missing += (window[i].time_us - window[i - 1].time_us - slack_us) / interval_us;
  }
  if (missing > 0) {
    return Suspect(FeedIssue::kGap, -1,
                   "gap: " + std::to_string(missing) + " readings missing in the last " + minutes);
  }
  if (count < static_cast<size_t>(options.min_readings)) {
    return Suspect(FeedIssue::kGap, -1,
                   "gap: only " + std::to_string(count) + " readings in the last " + minutes);
  }

  const FeedSignals s = MeasureFeed(window, count, type, options.stuck_resolution_c);
  const std::vector<std::string>& names = SimulatorFields();
  for (int f = 0; f < kTemperatureFieldCount; ++f) {
    if (s.mode_fraction[f] >= options.stuck_fraction) {
      const int same = static_cast<int>(std::lround(s.mode_fraction[f] * s.readings));
      return Suspect(FeedIssue::kStuck, f,
                     names[f] + " reads " + Fixed(s.mode_value[f], 1) + " °C in " +
                         std::to_string(same) + " of " + std::to_string(s.readings) + " readings");
    }
  }

  const TypeSettings nominal = NominalSettings(type);
  const bool frozen = type == CaseType::kFrozenWell || type == CaseType::kFrozenGlassDoor;
  const Bands& bands = frozen ? kFrozen : kChilled;
  if (!bands.close_min.Contains(s.close_min)) {
    return Suspect(FeedIssue::kInconsistent, kAirOffC,
                   "air_off_c at valve close reads " + Fixed(s.close_min + nominal.cut_out_c, 1) +
                       " °C, the type's cut-out band is " +
                       BandText(bands.close_min, nominal.cut_out_c));
  }
  if (!bands.open_max.Contains(s.open_max)) {
    return Suspect(FeedIssue::kInconsistent, kAirOffC,
                   "air_off_c at valve open reads " + Fixed(s.open_max + nominal.cut_in_c, 1) +
                       " °C, the type's cut-in band is " +
                       BandText(bands.open_max, nominal.cut_in_c));
  }
  if (!bands.off_diff.Contains(s.off_cycle_diff)) {
    return Suspect(FeedIssue::kInconsistent, -1,
                   "air_on_c - air_off_c with the valve shut reads " + Fixed(s.off_cycle_diff, 1) +
                       " °C, expected " + BandText(bands.off_diff, 0));
  }
  if (!bands.cooling_diff.Contains(s.cooling_diff)) {
    return Suspect(FeedIssue::kInconsistent, -1,
                   "air_on_c - air_off_c while cooling reads " + Fixed(s.cooling_diff, 1) +
                       " °C, expected " + BandText(bands.cooling_diff, 0));
  }
  if (!bands.ambient.Contains(s.ambient)) {
    return Suspect(FeedIssue::kInconsistent, kAmbientC,
                   "ambient_c reads " + Fixed(s.ambient, 1) + " °C, a store's band is " +
                       BandText(bands.ambient, 0));
  }
  if (!bands.product.Contains(s.product_minus_air)) {
    return Suspect(FeedIssue::kInconsistent, -1,
                   "product_c is " + Fixed(s.product_minus_air, 1) +
                       " °C from the air's mean, expected " + BandText(bands.product, 0));
  }
  return FeedVerdict{};
}

}  // namespace nemesyst::refrigeration
