// Rotating dispatch, one re-plan: which cases to switch off and which to restart for the next
// minute, so that the power the fleet sheds stays at the contracted kW while every case stays
// within its calibrated safe off-time. An open chilled case is safe off for minutes only, so a
// 15–60 minute service is held by rotating which cases are off (docs/dispatch.md has the method).
//
// The planner is a pure function of what the dispatcher knows at the start of a minute — each
// case's phase, its calibrated lower bound of the safe off-time from fresh readings, what it sheds
// when off and what it draws above its baseline while it pulls back down after a restart, and its
// sensed air temperature — so the same inputs always give the same plan. The closed loop that
// feeds it minute by minute is rotation_replay.h.
//
// Rules, in order:
//   1. Safety restarts (always, lockouts notwithstanding): an off case restarts when its remaining
//      bound — min(bound at switch-off − time off, fresh bound) − margin — would not cover the
//      next minute, when its feed delivered no reading this minute, or when its sensed air plus
//      the last minute's rise reaches the guard band (limit − guard_c).
//   2. In the window: the expected delivery of the next minute is Σ shed of the cases kept off
//      − Σ rebound of the cases recovering (including those restarted now). Below
//      target·(1 − aim), eligible cases are switched off, longest bound first, until the target
//      is reached, each only if it does not push the delivery above target·(1 + aim); above
//      target·(1 + aim), off cases past their minimum
//      off-time restart, shortest remaining bound first, while the delivery stays above
//      target·(1 − aim). aim = tolerance / 3: the rest absorbs estimation error. Still more than
//      aim / 2 off the target (the cases' sizes did not fit), the one switch-off, surplus
//      restart or swap of the two that lands closest to the target is made, twice at most.
//   3. After the window (the rebound): off cases restart — first those whose sensed air, rising
//      as in the last minute, would reach the guard band next minute, then shortest remaining
//      bound first — only while the fleet's draw above its baseline (Σ rebound − Σ shed of the
//      cases still off) stays within the rebound cap; safety restarts happen whatever the cap.
//   4. (In the closed loop only: HoldReboundCap.) Still above the cap after rule 3, eligible
//      cases are switched off, longest bound first, until the draw is back under it.
// Eligible to switch off: available (never off, or recovered and running at least min_run_s
// since its restart), a usable feed (healthy, not defrosting, a full window), a known bound with
// bound − margin ≥ min_off_s + step_s (so the lockout can always be honoured), sensed air below
// the guard band, and shed_kw > 0.
//
// Thread-safety: pure function.
#ifndef NEMESYST_REFRIGERATION_ROTATION_H_
#define NEMESYST_REFRIGERATION_ROTATION_H_

#include <limits>
#include <string>
#include <vector>

#include "nemesyst/status.h"

namespace nemesyst::refrigeration {

struct RotationSettings {
  double margin_s = 60;     // subtracted from every lower bound, seconds
  double min_off_s = 120;   // compressor lockout: once switched off, off at least this long
  double min_run_s = 60;    // once restarted, running at least this long before the next off
  double guard_c = 1.0;     // restart when sensed air + last minute's rise ≥ limit − guard_c
  double step_s = 60;       // the re-plan period (the feed's interval), seconds
  double tolerance = 0.05;  // the service's band: delivery within ±tolerance of the target
  // An offer holds only where precision_z · DeliverySigmaKw ≤ (tolerance − aim) · kW at every
  // minute of its dry run: the estimation error the planner expects must fit in the part of the
  // band its aim leaves (2.58: 99 % two-sided, were the error normal). 0: not checked.
  double precision_z = 2.58;
  // The fleet's own delivery error that DeliverySigmaKw does not foresee, kW (a 99 % size, learnt
  // from the fleet's settled minutes: DeliveryErrorFloor in rotation_replay.h). The offer's check
  // becomes √((precision_z · DeliverySigmaKw)² + error_floor_kw²) ≤ (tolerance − aim) · kW, the
  // two taken as independent errors. 0: none known.
  double error_floor_kw = 0;
  // Checks ranges; the message names the field.
  Status Validate() const;
};

enum class CasePhase {
  kAvailable,   // running normally (never switched off, or recovered)
  kOff,         // switched off by the dispatch
  kRecovering,  // restarted, still pulling its air back down (compressor running since)
};

inline constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();

// What the dispatcher knows of one case at the start of a minute.
struct RotationCase {
  CasePhase phase = CasePhase::kAvailable;
  // kOff: seconds off so far. kAvailable / kRecovering: seconds since the last restart
  // (infinity when never switched off).
  double phase_s = std::numeric_limits<double>::infinity();
  double lower_s = kUnknown;      // calibrated lower bound of the safe off-time from now, seconds
  double off_lower_s = kUnknown;  // kOff: the bound at switch-off minus the time off since
  double shed_kw = 0;             // baseline − idle draw: what being off sheds
  double rebound_kw = 0;          // draw above baseline while recovering (≥ 0)
  double compressor_kw = 0;       // what its compressor adds to the idle draw while it runs
  double air_c = kUnknown;        // sensed air (warmest air sensor); unknown: no reading now
  double air_rise_c = 0;          // sensed air now minus a minute ago
  double limit_c = 0;
  bool usable = false;  // healthy feed, not defrosting, full window: may be switched off
};

enum class RestartReason { kBound, kGuardBand, kNoReading, kSurplus, kRebound };
std::string_view RestartReasonName(RestartReason reason);

struct RotationStep {
  std::vector<int> switch_off;  // indices into the cases, in the order chosen
  std::vector<int> restart;
  std::vector<RestartReason> restart_reason;  // parallel to restart
  double expected_kw = 0;     // expected delivery over the next minute after the changes
  int lockout_overrides = 0;  // safety restarts of cases off for less than min_off_s
};

// The re-plan for the next minute. `target_kw`: the contracted kW inside the window;
// `in_window` false: the rebound phase, with `rebound_cap_kw` the most the fleet may draw above
// its baseline.
RotationStep PlanRotationStep(const std::vector<RotationCase>& cases, double target_kw,
                              bool in_window, double rebound_cap_kw,
                              const RotationSettings& settings);

// Rule 4, in the closed loop only: after the window, where `step` (rules 1–3 for the same minute)
// still leaves the fleet's draw above its baseline over `rebound_cap_kw` — restarts forced by
// guard bands and bounds coming faster than pull-downs end — eligible cases are switched off,
// longest bound first, until the draw is back under the cap or none is left. Each sheds while
// the burst passes and is restarted by rule 3 once there is room (or by rule 1). They are added to
// `step.switch_off` and their shed to `step.expected_kw`; returns how many. The offer's dry run
// does not count on this rule: it plans an unwind that fits under its cap without it, so the rule
// is a reserve for what the dry run cannot foresee.
int HoldReboundCap(const std::vector<RotationCase>& cases, double rebound_cap_kw,
                   const RotationSettings& settings, RotationStep& step);

// Carries `step` out on the dispatcher's view of the cases: a switched-off case becomes kOff
// with the bound it was switched off with; a restarted one kRecovering (its time off is gone:
// read phase_s before, if needed). Both phase clocks restart at 0.
void ApplyRotationStep(const RotationStep& step, std::vector<RotationCase>& cases);
// One re-plan period passes for a case: its phase clock advances and, if off, its bound at
// switch-off shrinks by as much.
void AdvanceRotationClock(RotationCase& c, const RotationSettings& settings);

// The remaining bound of an off case (rule 1), seconds: what it may still stay off.
double RemainingOffS(const RotationCase& c, const RotationSettings& settings);
// Whether an available case may be switched off now (the eligibility above).
bool EligibleToSwitchOff(const RotationCase& c, const RotationSettings& settings);

// The planner's own estimate of its error over the next minute once `step` is applied, kW (one
// standard deviation): the cases that change state — restarted now, or still pulling down — run
// their compressors for a share of the minute that is known only roughly (when the valve opens,
// when the pull-down ends); each is taken to err by kDrawShareSigma of its compressor's draw,
// independently of the others. Off cases draw their idle (fans), which the look-back knows.
inline constexpr double kDrawShareSigma = 0.15;
double DeliverySigmaKw(const std::vector<RotationCase>& cases, const RotationStep& step);

// How long a case restarted after `off_s` seconds off pulls its air back down, seconds: the heat
// it gained while off, removed at the compressor's surplus — off_s · d / (1 − d), d its duty
// (shed / (shed + rebound), at most 0.9) — times 0.75, the median ratio of the simulated
// pull-downs to that heat balance (the load falls as the air warms, so less heat came in than
// the running load suggests; docs/dispatch.md). The replay corrects it from the sensed air-off.
double PullDownSeconds(double off_s, double shed_kw, double rebound_kw);
// The share of the next minute a pulling-down case is expected to run its compressor, when its
// pull-down is estimated to end `left_s` seconds from now (≤ 0: already due). The estimate, from
// the sensed air-off's fall, is rough: the end is taken as uniform within ±kPullDownEndSpreadS of
// left_s + kPullDownEndLagS, and the share is the expectation of min(end, step) / step over it.
// Taking min(left_s, step) / step instead is biased wherever the end is near: an air-off already
// at its learnt cut-out with the valve still open ran 0.27 of its next minute, not 0; one due in
// 12 s ran 0.37 (docs/dispatch.md). Thread-safety: pure function.
inline constexpr double kPullDownEndLagS = 5;
inline constexpr double kPullDownEndSpreadS = 45;
double ExpectedRunShare(double left_s, double step_s);
// A recovering case is expected to draw at least this share of its surplus in a minute: the
// pull-down estimate is rough, and under-counting a draw is the side that over-delivers.
inline constexpr double kMinRecoveringShare = 0.25;

// What the fleet can offer for a window of `duration_s`: the highest constant kW the planner can
// hold at every minute (within the aim band, with its expected error fitting in the rest of the
// band: precision_z and error_floor_kw above), and then unwind with every draw above baseline
// under `rebound_cap_kw`, in a dry run on the dispatcher's own estimates — each case's bound,
// shed and rebound at the start; a restarted case pulls down for PullDownSeconds, then is
// available again with its starting bound.
// Nothing of the truth is used; the closed-loop replay is what checks the offer.
struct OfferCase {
  double lower_s = kUnknown;
  double shed_kw = 0;
  double rebound_kw = 0;
  bool usable = false;
};
double EstimateOffer(const std::vector<OfferCase>& cases, double duration_s, double rebound_cap_kw,
                     const RotationSettings& settings);
// The highest level ≤ at_most_kw that holds in the same dry run (0 when none does): what to
// contract once a headroom is kept back.
// `sigma_kw`, when given, receives the dry run's largest DeliverySigmaKw over the window at the
// level returned.
double OfferBelow(const std::vector<OfferCase>& cases, double duration_s, double rebound_cap_kw,
                  const RotationSettings& settings, double at_most_kw, double* sigma_kw = nullptr);

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_ROTATION_H_
