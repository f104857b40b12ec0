// The closed-loop replay of a grid service with rotating dispatch (rotation_replay.h).
#include "nemesyst/refrigeration/rotation_replay.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "nemesyst/refrigeration/feed_check.h"
#include "refrigeration/case_load.h"
#include "refrigeration/case_model.h"
#include "refrigeration/rotation_event.h"

namespace nemesyst::refrigeration {
namespace {

// Why a case's feed cannot be trusted now (CheckFeed over the look-back), or nothing.
Result<std::optional<std::string>> SuspectFeed(const std::deque<SimSample>& history, CaseType type,
                                               int64_t now_us, int interval_s,
                                               int lookback_minutes) {
  FeedCheckOptions options;
  options.interval_s = interval_s;
  options.lookback_s = lookback_minutes * interval_s;
  const std::vector<SimSample> readings(history.begin(), history.end());
  NEMESYST_ASSIGN_OR_RETURN(FeedVerdict verdict, CheckFeed(readings, type, now_us, options));
  if (!verdict.suspect) return std::optional<std::string>();
  return std::optional<std::string>(verdict.reason);
}

constexpr double kReboundAim = 0.8;
static_assert(ReboundOvershoot::kLandAt == kReboundAim,
              "the learnt offer aim lands a rebound at the closed loop's own aim");
// A case is left alone this long after a defrost (its air settling back into its band).
constexpr int64_t kSettleMinutes = 20;
// The watch runs this long past the last defrost hold (a chilled off-cycle defrost lasts about
// half an hour).
constexpr int kWatchAfterHoldMinutes = 45;
// The weight of the last minute's estimation error in its moving average, which is taken off
// the next minute's aim (the errors of recovering cases' draws persist from minute to minute).
constexpr double kFeedbackGain = 0.5;

// Whether a case is in its normal thermostat cycle: no defrost in the last kSettleMinutes (after
// an off-cycle defrost its air is near the top of the band and still warm inside), and its
// air-off no higher than its cut-in plus half a degree. A case outside it warms faster than its
// bound and the guard band's one-minute look-ahead assume.
bool InNormalRunning(const std::deque<SimSample>& h, const SimSample& now, const CaseLoad& load,
                     int64_t now_us, int64_t step_us) {
  if (now.values[kAirOffC] > load.cut_in_c + 0.5) return false;
  for (auto it = h.rbegin(); it != h.rend(); ++it) {
    if (it->time_us < now_us - kSettleMinutes * step_us) break;
    if (it->values[kDefrost] > 0.5) return false;
  }
  return true;
}

double WarmestAir(const SimSample& s) { return std::max(s.values[kAirOnC], s.values[kAirOffC]); }

}  // namespace

Result<RotationEventResult> RunRotationEvent(const FleetBranch& at_start,
                                             const RotationEventOptions& o,
                                             const LowerBoundSource& bounds) {
  NEMESYST_RETURN_IF_ERROR(o.settings.Validate());
  if (!(o.offer_rebound_aim > 0 && o.offer_rebound_aim <= 1)) {
    return Status::InvalidArgument("rotation replay: 'offer_rebound_aim' must be in (0, 1]");
  }
  const RotationSettings& s = o.settings;
  const int n = static_cast<int>(at_start.size());
  const int64_t start_us = at_start.now_us();
  const int64_t step_us = static_cast<int64_t>(at_start.interval_s()) * 1000000;
  if (static_cast<double>(at_start.interval_s()) != s.step_s) {
    return Status::InvalidArgument("rotation replay: the feed's interval (" +
                                   std::to_string(at_start.interval_s()) +
                                   " s) must equal the re-plan step");
  }
  const int window = std::max(1, static_cast<int>(std::ceil(o.profile.duration_s / s.step_s)));

  RotationEventResult r;
  r.profile = o.profile.name;
  r.start_us = start_us;
  r.hour_of_day = HourOfDay(start_us);
  r.window_minutes = window;

  // The declared baselines, from the look-back before the event.
  const int64_t lookback_from = start_us - static_cast<int64_t>(o.lookback_minutes) * step_us;
  std::vector<CaseLoad> load(n);
  for (int i = 0; i < n; ++i) {
    load[i] = LoadFromHistory(at_start.history(i), lookback_from, step_us);
    r.baseline_kw += load[i].baseline_kw;
  }

  FleetBranch fleet = at_start;  // dispatched
  FleetBranch alone = at_start;  // the counterfactual: the same fleet left alone
  std::vector<RotationCase> cases(n);
  std::vector<bool> touched(n, false);
  // Minute until which each case's defrost is held after its pull-down (0: never touched).
  std::vector<int> hold_until(n, 0);
  std::vector<double> last_off_s(n, 0);  // how long each case's last switch-off lasted
  std::vector<std::optional<std::string>> suspect_at_start(n);
  std::vector<std::optional<std::string>> suspect(n);
  r.cases.resize(n);
  for (int i = 0; i < n; ++i) {
    const CaseInfo& info = at_start.info(i);
    RotationCaseOutcome& c = r.cases[i];
    c.device = info.device;
    c.type = info.params.type;
    c.limit_c = info.params.limit_c;
    c.max_air_c = -1e9;
    cases[i].limit_c = info.params.limit_c;
    cases[i].shed_kw = std::max(0.0, load[i].baseline_kw - load[i].idle_kw);
    cases[i].compressor_kw = std::max(0.0, load[i].cooling_kw - load[i].idle_kw);
  }

  // The planner aims under the service's rebound limit by a fifth, and by one case's whole
  // surplus more: its draw estimates of recovering cases are rough, and one pull-down guessed
  // wrong is what a small fleet's rebound cannot absorb.
  double largest_surplus_kw = 0;
  for (int i = 0; i < n; ++i) {
    largest_surplus_kw = std::max(largest_surplus_kw, load[i].cooling_kw - load[i].baseline_kw);
  }
  const double rebound_cap_kw =
      std::max(0.0, kReboundAim * o.profile.rebound_limit * r.baseline_kw - largest_surplus_kw);
  r.rebound_cap_kw = rebound_cap_kw;
  double physical_sum = 0;
  double contracted = 0;
  std::vector<double> expected_last(n, 0);
  double bias_kw = 0;  // the planner's recent estimation error (a moving average)
  std::vector<bool> in_event_last(n, false);  // off or recovering in the last minute
  // A touched case is watched to the end of the replay. Off, pulling down, or with its defrost
  // held by the dispatch, any crossing of its limit is the dispatch's: a violation. After the
  // hold it runs its own schedule, whose defrosts can lift the air past the limit by themselves
  // (by the thermostat's phase when the defrost starts): those crossings are counted apart, and
  // so are the same cases' crossings when left alone over the same minutes, for comparison.
  int k = 0;
  std::vector<bool> own_crossing(n, false), alone_crossing(n, false);
  auto watch = [&](int i, bool in_event) {
    if (!touched[i]) return;
    RotationCaseOutcome& out = r.cases[i];
    const double air = fleet.generator(i).last_interval_max_air_c();
    out.max_air_c = std::max(out.max_air_c, air);
    if (in_event || k < hold_until[i]) {
      if (air >= out.limit_c) out.violation = true;
    } else {
      if (air >= out.limit_c) own_crossing[i] = true;
      if (alone.generator(i).last_interval_max_air_c() >= out.limit_c) alone_crossing[i] = true;
    }
  };
  for (; k < window + o.max_rebound_minutes; ++k) {
    const bool in_window = k < window;
    const int64_t now_us = fleet.now_us();
    fleet.Observe();
    alone.Observe();

    // Fresh bounds for every case with a reading now.
    std::vector<const CaseInfo*> ask_cases;
    std::vector<const std::deque<SimSample>*> ask_readings;
    std::vector<int> asked;
    for (int i = 0; i < n; ++i) {
      if (!fleet.latest(i)) continue;
      ask_cases.push_back(&fleet.info(i));
      ask_readings.push_back(&fleet.history(i));
      asked.push_back(i);
    }
    std::vector<double> lower(n, kUnknown);
    if (!asked.empty()) {
      NEMESYST_ASSIGN_OR_RETURN(std::vector<double> got, bounds(ask_cases, ask_readings, now_us));
      if (got.size() != asked.size()) {
        return Status::Internal("rotation replay: the bound source answered " +
                                std::to_string(got.size()) + " bounds for " +
                                std::to_string(asked.size()) + " cases");
      }
      for (size_t j = 0; j < asked.size(); ++j) lower[asked[j]] = got[j];
    }

    // What the dispatcher sees of each case.
    for (int i = 0; i < n; ++i) {
      RotationCase& c = cases[i];
      const std::deque<SimSample>& h = fleet.history(i);
      // A feed is judged on readings of normal running: once the dispatch has switched a case
      // off, its readings show what the thermostat never does (air-off far past the cut-in), so
      // a touched case keeps the verdict it had when it was first switched off.
      // Once suspect, a case stays out for the rest of the event: a drift check that passes a
      // minute after it failed has not made the sensor right.
      if (!touched[i] && o.check_feeds && !suspect[i]) {
        NEMESYST_ASSIGN_OR_RETURN(suspect[i], SuspectFeed(h, fleet.info(i).params.type, now_us,
                                                          fleet.interval_s(), o.lookback_minutes));
        if (k == 0) suspect_at_start[i] = suspect[i];
      }
      c.lower_s = lower[i];
      const std::optional<SimSample>& now = fleet.latest(i);
      c.air_c = now ? WarmestAir(*now) : kUnknown;
      c.air_rise_c = 0;
      if (now && h.size() >= 2 && h[h.size() - 2].time_us == now_us - step_us) {
        c.air_rise_c = WarmestAir(*now) - WarmestAir(h[h.size() - 2]);
      }
      // What a case restarted now (if off) or pulling down (if recovering) is expected to draw
      // above its baseline over the next minute: idle while its valve stays shut, full cooling
      // draw while it runs — negative when it idles most of the minute.
      if (c.phase == CasePhase::kOff && k >= window) {
        // The rebound is planned on the full surplus: a restarted case that idles this minute
        // still pulls down in the next ones.
        c.rebound_kw = std::max(0.0, load[i].cooling_kw - load[i].baseline_kw);
      } else if (c.phase != CasePhase::kAvailable) {
        const double share = CoolingShare(c, load[i], h, now, now_us, step_us, last_off_s[i], s);
        c.rebound_kw = c.compressor_kw * share - c.shed_kw;
      } else {
        c.rebound_kw = std::max(0.0, load[i].cooling_kw - load[i].baseline_kw);
      }
      c.usable = now && load[i].known && !suspect[i] && !std::isnan(lower[i]) &&
                 InNormalRunning(h, *now, load[i], now_us, step_us);
    }

    if (k == 0) {
      // The offer, from the dispatcher's estimates at the start (EstimateOffer).
      std::vector<OfferCase> offer(n);
      for (int i = 0; i < n; ++i) {
        offer[i] = {cases[i].lower_s, cases[i].shed_kw, cases[i].rebound_kw,
                    EligibleToSwitchOff(cases[i], s)};
      }
      // Never more room than the closed loop will use (RotationEventOptions::offer_rebound_aim).
      const double offer_cap_kw =
          std::min(rebound_cap_kw, o.offer_rebound_aim * o.profile.rebound_limit * r.baseline_kw);
      r.offer_rebound_cap_kw = offer_cap_kw;
      r.capacity_kw = EstimateOffer(offer, o.profile.duration_s, offer_cap_kw, s);
      contracted = o.contracted_kw > 0
                       ? o.contracted_kw
                       : OfferBelow(offer, o.profile.duration_s, offer_cap_kw, s,
                                    r.capacity_kw * (1 - o.headroom), &r.offer_sigma_kw);
      if (contracted < o.min_offer_kw) {
        r.contracted_kw = 0;  // nothing offered: nothing dispatched
        for (int i = 0; i < n; ++i) {
          r.cases[i].suspect = suspect[i].has_value();
          r.cases[i].suspect_reason = suspect[i].value_or("");
          r.suspect_cases += r.cases[i].suspect ? 1 : 0;
          r.cases[i].max_air_c = 0;
        }
        return r;
      }
      r.contracted_kw = contracted;
    }
    // Feedback: the meters say what the last minute delivered; part of the gap between that and
    // what the planner expected is carried into this minute's aim (the estimation errors of
    // recovering cases persist from one minute to the next). After the window it tightens the
    // rebound's cap where the cases drew more than planned; it never loosens it (the limit is
    // one-sided, and the error flips sign as pull-downs end).
    double correction_kw = 0;
    if (k > 0) {
      double error = 0;  // over the cases whose meter reading arrived
      for (int i = 0; i < n; ++i) {
        const std::optional<SimSample>& now = fleet.latest(i);
        if (!in_event_last[i] || !now) continue;
        error += load[i].baseline_kw - now->values[kPowerKw] - expected_last[i];
      }
      bias_kw += kFeedbackGain * (error - bias_kw);
      correction_kw = bias_kw;
    }
    const double target = in_window ? contracted - correction_kw : 0;
    const double cap_kw = std::max(0.0, rebound_cap_kw + std::min(0.0, correction_kw));
    RotationStep step = PlanRotationStep(cases, target, in_window, cap_kw, s);
    if (!in_window && o.hold_rebound_cap) {
      r.rebound_switch_offs += HoldReboundCap(cases, cap_kw, s, step);
    }

    RotationMinute minute;
    minute.t_s = k * s.step_s;
    minute.in_window = in_window;
    minute.contracted_kw = target;
    minute.expected_kw = step.expected_kw;
    minute.sigma_kw = DeliverySigmaKw(cases, step);
    minute.switched_off = static_cast<int>(step.switch_off.size());
    minute.restarted = static_cast<int>(step.restart.size());
    r.lockout_overrides += step.lockout_overrides;
    for (int i : step.switch_off) {
      touched[i] = true;
      ++r.cases[i].times_off;
      r.cases[i].off_periods.push_back(
          {k * s.step_s, 0, cases[i].lower_s, RestartReason::kSurplus});
    }
    for (size_t j = 0; j < step.restart.size(); ++j) {
      const int i = step.restart[j];
      const RestartReason why = step.restart_reason[j];
      if (why == RestartReason::kBound || why == RestartReason::kGuardBand ||
          why == RestartReason::kNoReading) {
        ++minute.safety_restarts;
        ++r.safety_restarts;
        if (why == RestartReason::kGuardBand) ++r.guard_band_restarts;
      }
      last_off_s[i] = cases[i].phase_s;
      r.cases[i].off_periods.back().end_s = k * s.step_s;
      r.cases[i].off_periods.back().ended_by = why;
    }
    ApplyRotationStep(step, cases);

    std::vector<bool> off(n);
    std::vector<CaseControl> control(n, CaseControl::kNormal);
    for (int i = 0; i < n; ++i) {
      off[i] = cases[i].phase == CasePhase::kOff;
      if (off[i]) control[i] = CaseControl::kForcedOff;
      if (!off[i] && (cases[i].phase == CasePhase::kRecovering || k < hold_until[i])) {
        control[i] = CaseControl::kDefrostInhibited;
      }
      in_event_last[i] = off[i] || cases[i].phase == CasePhase::kRecovering;
      expected_last[i] =
          off[i] ? cases[i].shed_kw : (in_event_last[i] ? -cases[i].rebound_kw : 0.0);
    }
    fleet.Advance(control);
    alone.Advance({});

    // What truly happened in the minute.
    for (int i = 0; i < n; ++i) {
      const double kw = fleet.generator(i).last_interval_kw();
      minute.physical_shed_kw += alone.generator(i).last_interval_kw() - kw;
      RotationCase& c = cases[i];
      const bool in_event = c.phase == CasePhase::kOff || c.phase == CasePhase::kRecovering;
      watch(i, in_event);
      if (in_event) {
        RotationCaseOutcome& out = r.cases[i];
        minute.delivered_kw += load[i].baseline_kw - kw;
        if (c.phase == CasePhase::kOff) {
          out.off_s += s.step_s;
          ++minute.off;
        } else {
          ++minute.recovering;
        }
      }
      AdvanceRotationClock(c, s);
      // Back to normal running once its thermostat stops the cooling (its defrost was held).
      const CaseRunner& runner = fleet.generator(i).runner();
      if (c.phase == CasePhase::kRecovering && !runner.cooling()) {
        c.phase = CasePhase::kAvailable;
        hold_until[i] = k + 1 + o.defrost_hold_minutes;
        r.cases[i].available_s = std::max(0.0, (k + 1 - window) * s.step_s);
      }
    }
    minute.above_baseline_kw = -minute.delivered_kw;
    if (in_window) {
      physical_sum += minute.physical_shed_kw;
      const double deviation = std::fabs(minute.delivered_kw - contracted) / contracted;
      r.worst_deviation = std::max(r.worst_deviation, deviation);
      if (deviation <= o.profile.tolerance + 1e-9) ++r.minutes_within;
    } else {
      r.rebound_peak = std::max(r.rebound_peak,
                                r.baseline_kw > 0 ? minute.above_baseline_kw / r.baseline_kw : 0.0);
    }
    r.minutes.push_back(minute);
    if (!in_window) {
      bool busy = false;
      for (const RotationCase& c : cases) busy = busy || c.phase != CasePhase::kAvailable;
      r.rebound_minutes = k + 1 - window;
      if (!busy) {
        ++k;
        break;
      }
    }
  }
  // The watch: the touched cases run on (their defrost held as commanded) until the last hold
  // has ended and one more defrost could have come and gone, so a crossing the event causes
  // later — its product still warm when a defrost starts — is seen.
  int watch_until = k;
  for (int i = 0; i < n; ++i) {
    if (touched[i]) watch_until = std::max(watch_until, hold_until[i] + kWatchAfterHoldMinutes);
  }
  for (; k < watch_until; ++k) {
    fleet.Observe();
    alone.Observe();
    std::vector<CaseControl> control(n, CaseControl::kNormal);
    for (int i = 0; i < n; ++i) {
      if (k < hold_until[i]) control[i] = CaseControl::kDefrostInhibited;
    }
    fleet.Advance(control);
    alone.Advance({});
    for (int i = 0; i < n; ++i) watch(i, /*in_event=*/false);
  }
  r.watched_minutes = k;
  r.mean_physical_shed_kw = physical_sum / window;
  for (int i = 0; i < n; ++i) {  // still off when the replay gave up waiting for the rebound
    if (cases[i].phase == CasePhase::kOff) {
      r.cases[i].off_periods.back().end_s = static_cast<double>(r.minutes.size()) * s.step_s;
      r.cases[i].off_periods.back().ended_by = RestartReason::kRebound;
    }
  }
  for (int i = 0; i < n; ++i) {
    RotationCaseOutcome& c = r.cases[i];
    c.suspect = suspect_at_start[i].has_value();
    c.suspect_reason = suspect_at_start[i].value_or("");
    r.suspect_cases += c.suspect ? 1 : 0;
    if (!touched[i]) {
      c.max_air_c = 0;
      continue;
    }
    r.violations += c.violation ? 1 : 0;
    r.own_schedule_crossings += own_crossing[i] ? 1 : 0;
    r.alone_crossings += alone_crossing[i] ? 1 : 0;
  }
  return r;
}

Result<RotationEventResult> ReplayRotation(const FleetSimulator& simulator,
                                           const std::vector<int>& case_indices, int64_t start_us,
                                           const RotationEventOptions& options,
                                           const LowerBoundSource& bounds) {
  const SimulatorOptions& so = simulator.options();
  const int64_t step_us = static_cast<int64_t>(so.interval_s) * 1000000;
  if ((start_us - so.start_us) % step_us != 0 ||
      start_us < so.start_us + static_cast<int64_t>(options.lookback_minutes) * step_us) {
    return Status::InvalidArgument(
        "rotation replay: the start must be an instant of the sampling grid at least " +
        std::to_string(options.lookback_minutes) + " intervals after the simulation's start");
  }
  NEMESYST_ASSIGN_OR_RETURN(
      FleetBranch fleet, FleetBranch::Create(simulator, case_indices,
                                             static_cast<size_t>(options.lookback_minutes) + 60));
  fleet.AdvanceTo(start_us);
  return RunRotationEvent(fleet, options, bounds);
}

}  // namespace nemesyst::refrigeration
