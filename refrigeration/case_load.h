// What the dispatcher knows of one case's draw from its own readings: its declared baseline, idle
// and full-cooling draw and thermostat band (from the look-back before an event), and the share of
// the next minute a restarted or pulling-down case runs its compressor. Both are estimates from
// the same noisy, gappy feeds the dispatch reads; rotation_replay.cc plans on them, and
// docs/dispatch.md has how each was fitted.
//
// Thread-safety: pure functions.
#ifndef NEMESYST_REFRIGERATION_CASE_LOAD_H_
#define NEMESYST_REFRIGERATION_CASE_LOAD_H_

#include <cstdint>
#include <deque>
#include <optional>

#include "nemesyst/refrigeration/rotation.h"
#include "nemesyst/refrigeration/simulator.h"

namespace nemesyst::refrigeration {

// What the look-back says of one case's load (declared baseline, idle and cooling draw).
struct CaseLoad {
  double baseline_kw = 0;  // mean metered power, defrost readings left out
  double idle_kw = 0;      // lowest idle-minute reading: fans only
  double cooling_kw = 0;   // mean full-cooling-minute reading: fans and compressor
  double cut_out_c = 0;    // lowest sensed air-off: where the thermostat stops cooling
  double cut_in_c = 0;     // sensed air-off just before the valve opens: its cut-in
  bool known = false;      // the history shows an idle minute and a full-cooling minute
};

// From `history` (oldest first): the baseline over the readings from `from_us` on, the rest over
// the whole history; `step_us` is the feed's interval.
CaseLoad LoadFromHistory(const std::deque<SimSample>& history, int64_t from_us, int64_t step_us);

// The share of the next minute a case restarted now (phase off) or pulling down (recovering)
// runs its compressor. A shut valve opens once the air (the air-off, the valve shut) reaches the
// thermostat's cut-in, at the last minute's rate of rise; the pull-down then lasts
// PullDownSeconds of the time it was off, or — once two readings while cooling show the air-off
// falling — until that fall reaches the cut-out, an end known only to within about a minute
// (ExpectedRunShare).
// `h` is the case's history, `now` its reading at `now_us` (none: expect the full draw),
// `last_off_s` how long its last switch-off lasted (for a recovering case).
double CoolingShare(const RotationCase& c, const CaseLoad& load, const std::deque<SimSample>& h,
                    const std::optional<SimSample>& now, int64_t now_us, int64_t step_us,
                    double last_off_s, const RotationSettings& s);

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_CASE_LOAD_H_
