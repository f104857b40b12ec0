// Replaying a grid service in the fleet simulator with rotating dispatch, closed loop: every
// minute the dispatcher reads the fleet's feeds (the same noisy, gappy, sometimes faulty sensors
// as the stored history), asks the model for each case's calibrated lower bound, checks each
// feed, re-plans (rotation.h) and switches cases off and on; the simulator steps the physics
// and says what truly happened: each case's true air temperature (RotationCaseOutcome::violation)
// and its true power.
//
// Delivery is settled the way aggregated demand response is in GB, against declared asset
// baselines: each case's baseline b is its mean metered power over the look-back before the
// event (defrost readings left out), and in minute k the fleet delivers
//     Σ over cases in the event (b − true mean power in minute k),
// a case being in the event from its first switch-off until its first pull-down after a restart
// ends (its compressor cycles off again: it is back to normal running). Cases the dispatch never
// touched count at their baseline (they contribute nothing, however their thermostats cycle).
// The rebound after the window is the same sum's opposite: how far the fleet draws above its
// baseline, against the cap rebound_limit × Σ b over the whole fleet. The physical shed — the
// same fleet left alone (a fork of the simulation) minus the dispatched fleet — is reported
// beside it, as an honesty check on the settlement.
//
// Thread-safety: pure function of its inputs (the simulator is immutable; the bound source is
// called from the calling thread only).
#ifndef NEMESYST_REFRIGERATION_ROTATION_REPLAY_H_
#define NEMESYST_REFRIGERATION_ROTATION_REPLAY_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "nemesyst/refrigeration/rotation.h"
#include "nemesyst/refrigeration/service_profile.h"
#include "nemesyst/refrigeration/simulator.h"
#include "nemesyst/status.h"

namespace nemesyst::refrigeration {

// Calibrated lower bounds of the safe off-time at `now_us`, one per case (seconds; NaN where
// the source cannot say, e.g. no full window of readings). `readings[i]` are case `cases[i]`'s
// delivered readings, oldest first, the last at or before now_us.
using LowerBoundSource = std::function<Result<std::vector<double>>(
    const std::vector<const CaseInfo*>& cases,
    const std::vector<const std::deque<SimSample>*>& readings, int64_t now_us)>;

struct RotationEventOptions {
  ServiceProfile profile;
  // The contracted kW; 0: what the fleet offers (EstimateOffer, less `headroom`).
  double contracted_kw = 0;
  double headroom = 0.15;     // fraction of the estimated capacity kept back when offering
  double min_offer_kw = 1.0;  // offers below this are not made (the ±band is below one case)
  // The offer's dry run unwinds under offer_rebound_aim × the profile's rebound limit × Σ b, a
  // tighter cap than the closed loop's: its bounds do not shrink as the fresh readings of a
  // warming case do, so the real rebound bunches more than the dry run's (ReboundOvershoot learns
  // by how much). Never looser than the closed loop's own cap (RotationEventResult::
  // rebound_cap_kw): an offer must not count on rebound room the dispatch will not use — on a
  // fleet so small that one case's pull-down fills most of its rebound limit, that cap is near
  // zero and nothing is offered. In (0, 1].
  double offer_rebound_aim = 0.5;
  RotationSettings settings;
  // After the window, switch fresh cases off while the draw above baseline is over the closed
  // loop's cap (rule 4, HoldReboundCap in rotation.h). false: rules 1–3 only, for comparison.
  bool hold_rebound_cap = true;
  int lookback_minutes = 60;  // baseline and feed checks
  int max_rebound_minutes = 90;
  // After its pull-down a touched case's defrost is held this long (a window that opens while
  // held is skipped, so at most one defrost is missed): its product is still warm from the event
  // — the product's time constant is over an hour — and a chilled glass-door case's own defrost
  // already lifts its air to within a few tenths of 8 °C, so a defrost soon after an event
  // crosses the limit although the same case left alone does not. Three hours leave a tenth of
  // the product's excess.
  int defrost_hold_minutes = 180;
  // Leave out cases whose feed is suspect (feed_check.h). Off only to measure what the check is
  // worth; a dispatch never runs without it.
  bool check_feeds = true;
};

struct RotationMinute {
  double t_s = 0;  // seconds since the event start
  bool in_window = false;
  double contracted_kw = 0;      // 0 outside the window
  double expected_kw = 0;        // the planner's expectation
  double sigma_kw = 0;           // the planner's own error estimate (DeliverySigmaKw)
  double delivered_kw = 0;       // settled against the baselines
  double physical_shed_kw = 0;   // the fleet left alone minus the dispatched fleet
  double above_baseline_kw = 0;  // −delivered: the rebound measure
  int off = 0, recovering = 0, switched_off = 0, restarted = 0, safety_restarts = 0;
};

// One stretch a case spent switched off.
struct OffPeriod {
  double start_s = 0;  // seconds since the event start
  double end_s = 0;    // when it was restarted
  double bound_s = 0;  // its calibrated lower bound when it was switched off
  RestartReason ended_by = RestartReason::kSurplus;
};

struct RotationCaseOutcome {
  std::string device;
  CaseType type = CaseType::kChilledMultideck;
  int times_off = 0;
  double off_s = 0;      // total time off
  double max_air_c = 0;  // highest true air from its first switch-off to the replay's end
  double limit_c = 0;
  // Its true air reached its limit while off, pulling down, or with its defrost held by the
  // dispatch (RotationEventOptions::defrost_hold_minutes).
  bool violation = false;
  double available_s = -1;  // seconds after the window's end when it was back to normal (−1:
                            // never touched; 0: before the end)
  bool suspect = false;     // its feed was suspect at the event start
  std::string suspect_reason;
  std::vector<OffPeriod> off_periods;
};

struct RotationEventResult {
  std::string profile;
  int64_t start_us = 0;
  double hour_of_day = 0;
  double capacity_kw = 0;           // EstimateOffer before the headroom
  double contracted_kw = 0;         // 0: no offer (capacity below min_offer_kw)
  double offer_sigma_kw = 0;        // the offer's dry run: its largest expected error (rotation.h)
  double offer_rebound_cap_kw = 0;  // the offer's dry run unwound under this (offer_rebound_aim)
  double baseline_kw = 0;           // Σ b over the fleet
  // The closed loop's cap on the draw above baseline in the rebound: 0.8 of the profile's
  // limit, less the largest case's pull-down surplus (its estimate could be that far off).
  double rebound_cap_kw = 0;
  // Cases switched off after the window to keep the draw under the cap (rule 4, HoldReboundCap).
  int rebound_switch_offs = 0;
  int window_minutes = 0;
  int minutes_within = 0;  // window minutes with |delivered − contracted| ≤ tolerance·contracted
  double worst_deviation = 0;        // max |delivered − contracted| / contracted over the window
  double mean_physical_shed_kw = 0;  // over the window
  int violations = 0;
  // Touched cases whose air crossed their limit after the defrost hold, in their own scheduled
  // defrost, and the same cases left alone over the same minutes (not violations: the cases'
  // own behaviour; reported so the two can be compared).
  int own_schedule_crossings = 0, alone_crossings = 0;
  double rebound_peak = 0;  // max above-baseline draw after the window / Σ b
  int rebound_minutes = 0;  // until every touched case was back to normal
  int watched_minutes = 0;  // the whole replay: window, rebound and the watch after it
  int safety_restarts = 0, guard_band_restarts = 0, lockout_overrides = 0;
  int suspect_cases = 0;
  std::vector<RotationMinute> minutes;
  std::vector<RotationCaseOutcome> cases;
};

// What a fleet learns from its own settled events: how far its delivery strays from the contract,
// for RotationSettings::error_floor_kw. The offer's dry run keeps a switched-off case off until
// its bound, while in the closed loop the guard band restarts most cases long before it (at a
// median 0.4 of it), so the dry run misses restarts — all of them at night, when bounds outlast
// the window — and their errors. Those errors do not shrink with the offer: on 480-case fleets
// the 99th percentile of |delivered − contracted| was 0.5–1.5 kW for offers of 5 to 80 kW. So a
// fleet cannot hold ±tolerance on an offer much smaller than about floor / (tolerance − aim),
// whatever its dry run says, and the floor tells it so.
// The floor is learnt per profile: a profile's duration sets how hard the fleet rotates, and
// the fleet's largest offers (a night DC of hundreds of kW on 2,400 cases) err by more kilowatts
// than its smaller ones, so one floor for all would decline services their own minutes show held.
// Thread-safety: none (one fleet's learner, on one thread).
class DeliveryErrorFloor {
 public:
  // A profile's own floor needs this many settled minutes; with fewer, the fleet's is used.
  static constexpr int kMinProfileMinutes = 30;
  // Adds the window minutes of `event` (nothing when it made no offer).
  void Add(const RotationEventResult& event);
  // The 99th percentile (nearest rank) of |delivered − contracted| over the minutes added for
  // `profile` when it has at least kMinProfileMinutes, else over every minute added; kW, 0 before
  // any.
  double Kw(const std::string& profile) const;
  int minutes() const;  // over every profile

 private:
  std::map<std::string, std::vector<double>> by_profile_kw_;
};

// What a fleet learns of its rebound from its own settled events: how far the rebound passed the
// cap its offer's dry run unwound under (RotationEventOptions::offer_rebound_aim). The dry run
// keeps a switched-off case off until its bound; in the closed loop the guard band restarts most
// cases long before. A fleet with many cases off when the window ends (about 200 in a 480-case
// fleet's morning DC) then restarts them for safety faster than the capped unwind plans, and its
// rebound overshoots the plan — once by 2.8 times the dry run's cap (14 % against 5 %). (A rebound
// normally peaks near the closed loop's own cap, 0.8 of the limit: a ratio of about 1.6, which
// leaves the aim as it was.) How far depends on the fleet and the profile, so it is learnt per
// profile, like DeliveryErrorFloor, and the offers are made under an aim lowered to match.
// Thread-safety: none (one fleet's learner, on one thread).
class ReboundOvershoot {
 public:
  // Where the learnt aim places the rebound, as a share of the profile's limit: the closed loop's
  // own aim, so one more event like the worst seen still lands under the limit.
  static constexpr double kLandAt = 0.8;
  // Adds `event` (nothing when it made no offer).
  void Add(const RotationEventResult& event);
  // The largest rebound_peak × Σ b / offer_rebound_cap_kw over the offered events added for
  // `profile`, or over every offered event when it has none; 0 before any.
  double Ratio(const std::string& profile) const;
  // `aim`, lowered where the profile's Ratio says a rebound would pass kLandAt of the limit:
  // min(aim, kLandAt / Ratio). Never raised: a rebound that stayed low at a few events says
  // little about the next, larger one.
  double OfferAim(const std::string& profile, double aim) const;

 private:
  std::map<std::string, double> by_profile_;
};

// Replays `options.profile` on cases `case_indices` of `simulator`, starting at `start_us` (an
// instant of its sampling grid, at least lookback_minutes after its start).
Result<RotationEventResult> ReplayRotation(const FleetSimulator& simulator,
                                           const std::vector<int>& case_indices, int64_t start_us,
                                           const RotationEventOptions& options,
                                           const LowerBoundSource& bounds);

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_ROTATION_REPLAY_H_
