// Is a case's sensor feed trustworthy enough to dispatch on? A dispatcher that switches a case
// off on the strength of a stuck or drifting air sensor can breach the food-safety limit without
// seeing it, so a case whose feed is suspect is left out (or given a larger margin). CheckFeed
// looks only at what a real dispatcher sees — the case's recent readings and its type — never at
// the simulator's truth or the safe_off_s label.
//
// Detectors, over the look-back window (default the last 60 min):
//  - gap: a reading missing in the window (timestamps not contiguous at interval_s, or the first
//    reading later than one interval after the window opens), or the latest reading older than
//    one interval (+25 % for jitter) at `now`;
//  - stuck: a temperature sensor repeating one value (>= 90 % of the window's readings equal).
//    The simulator's sensors carry 0.1 °C noise at 0.1 °C resolution, as real ones do, so a
//    healthy sensor never repeats itself for long; a feed with no noise would be flagged;
//  - inconsistent (drift): readings that the physics of the case cannot produce —
//     * air-off where the thermostat switches: the valve closes when the true air-off reaches
//       the cut-out and opens when the air reaches the cut-in (nominal per type, each case's
//       setting within ±0.5 °C), so the air-off just before a close and just before an open must
//       sit in bands around the type's cut-out and cut-in;
//     * air-on minus air-off: positive when the valve is shut (return air is warmer than the
//       coil's outlet) and a coil's worth (> ~1.5 °C) while it cools;
//     * ambient within the store band (18–23 °C, ± a margin);
//     * product within a band of the air's window mean (the product follows the air with an
//       hour's time constant).
//    The bands are the healthy fleet's extremes plus a margin (docs/simulator.md, "Suspect
//    feeds", has the measured rates); a drift smaller than the case-to-case spread of the
//    settings (~0.5–1 °C) cannot be told from a healthy case with another setting from one hour
//    of one case's readings, and is not caught.
//
// Thread-safety: pure functions.
#ifndef NEMESYST_REFRIGERATION_FEED_CHECK_H_
#define NEMESYST_REFRIGERATION_FEED_CHECK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "nemesyst/refrigeration/simulator.h"
#include "nemesyst/status.h"

namespace nemesyst::refrigeration {

struct FeedCheckOptions {
  // Expected reading interval, seconds (> 0).
  int interval_s = 60;
  // Look-back window, seconds (>= 2 intervals). Readings older than now - lookback_s are ignored.
  int lookback_s = 3600;
  // Stuck: at least this fraction of the window's readings of one temperature sensor share one
  // value (readings within stuck_resolution_c of each other count as one value).
  double stuck_fraction = 0.9;
  double stuck_resolution_c = 0.05;
  // A window needs at least this many readings for the stuck and consistency checks (fewer are
  // already a gap).
  int min_readings = 20;
};

enum class FeedIssue : uint8_t {
  kNone = 0,
  kGap = 1,           // readings missing in the window
  kStale = 2,         // no reading for more than an interval at `now`
  kStuck = 3,         // a sensor repeats one value
  kInconsistent = 4,  // readings the case's physics cannot produce (a drifting sensor)
};

struct FeedVerdict {
  bool suspect = false;
  FeedIssue issue = FeedIssue::kNone;
  // The sensor blamed (a SimField index: kAirOnC .. kAmbientC), -1 when none or not one sensor.
  int field = -1;
  // Empty when not suspect; else one sentence for logs and reports, e.g. "air_off_c unchanged
  // over 60 readings", "gap: 3 readings missing in the last 60 min", "air_off_c at valve close
  // reads 4.1 °C, the type's cut-out band is [-2.5, 0.5]".
  std::string reason;
};

// Checks the feed of one case of type `type` at `now_us`. `readings` are that case's readings
// (any length; those outside (now_us - lookback, now_us] are ignored), in strictly increasing
// time order, all of one case_index. The safe_off_s field is not read.
// InvalidArgument for bad options, readings out of order or of several cases; no readings in the
// window is a verdict (suspect, kGap), not an error.
Result<FeedVerdict> CheckFeed(const std::vector<SimSample>& readings, CaseType type, int64_t now_us,
                              const FeedCheckOptions& options = {});

// "none" | "gap" | "stale" | "stuck" | "inconsistent".
std::string_view FeedIssueName(FeedIssue issue);

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_FEED_CHECK_H_
