// The rotating-dispatch re-plan (rotation.h has the rules).
#include "nemesyst/refrigeration/rotation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace nemesyst::refrigeration {
namespace {

// The refinement (rule 2c): at most this many moves, each over the best this many candidates.
constexpr int kRefineRounds = 2;
constexpr size_t kRefineWidth = 24;

// Its sensed air, rising as in the last minute for `minutes` more, reaches the guard band (never
// with no reading, nor in a dry run, which senses no air).
bool ReachesGuardBand(const RotationCase& c, double minutes, const RotationSettings& s) {
  return c.air_c + minutes * std::max(0.0, c.air_rise_c) >= c.limit_c - s.guard_c;
}

bool AtGuardBand(const RotationCase& c, const RotationSettings& s) {
  return ReachesGuardBand(c, 1, s);
}

// Indices of `cases` satisfying `keep`, sorted by `key` ascending (ties by index: deterministic).
template <typename Keep, typename Key>
std::vector<int> SortedWhere(const std::vector<RotationCase>& cases, Keep keep, Key key) {
  std::vector<int> out;
  for (int i = 0; i < static_cast<int>(cases.size()); ++i) {
    if (keep(cases[i])) out.push_back(i);
  }
  std::stable_sort(out.begin(), out.end(),
                   [&](int a, int b) { return key(cases[a]) < key(cases[b]); });
  return out;
}

// Cases eligible to switch off, longest bound first: the order every switch-off rule takes them in.
std::vector<int> EligibleLongestBoundFirst(const std::vector<RotationCase>& cases,
                                           const RotationSettings& s) {
  return SortedWhere(
      cases, [&](const RotationCase& c) { return EligibleToSwitchOff(c, s); },
      [](const RotationCase& c) { return -c.lower_s; });
}

}  // namespace

Status RotationSettings::Validate() const {
  auto bad = [](const char* field, const char* why) {
    return Status::InvalidArgument(std::string("rotation setting '") + field + "' " + why);
  };
  if (!(margin_s >= 0 && margin_s <= 3600)) return bad("margin_s", "must be in [0, 3600]");
  if (!(min_off_s >= 0 && min_off_s <= 3600)) return bad("min_off_s", "must be in [0, 3600]");
  if (!(min_run_s >= 0 && min_run_s <= 3600)) return bad("min_run_s", "must be in [0, 3600]");
  if (!(guard_c >= 0 && guard_c <= 20)) return bad("guard_c", "must be in [0, 20]");
  if (!(step_s >= 1 && step_s <= 3600)) return bad("step_s", "must be in [1, 3600]");
  if (!(tolerance > 0 && tolerance <= 0.5)) return bad("tolerance", "must be in (0, 0.5]");
  if (!(precision_z >= 0 && precision_z <= 10)) return bad("precision_z", "must be in [0, 10]");
  if (!(error_floor_kw >= 0 && error_floor_kw <= 1e6)) {
    return bad("error_floor_kw", "must be in [0, 1e6]");
  }
  return Status::OK();
}

std::string_view RestartReasonName(RestartReason reason) {
  switch (reason) {
    case RestartReason::kBound:
      return "bound";
    case RestartReason::kGuardBand:
      return "guard_band";
    case RestartReason::kNoReading:
      return "no_reading";
    case RestartReason::kSurplus:
      return "surplus";
    case RestartReason::kRebound:
      return "rebound";
  }
  return "unknown";
}

double RemainingOffS(const RotationCase& c, const RotationSettings& s) {
  double bound = c.off_lower_s;
  if (std::isnan(bound) || (!std::isnan(c.lower_s) && c.lower_s < bound)) bound = c.lower_s;
  if (std::isnan(bound)) return 0;  // nothing says it is safe: no time left
  return bound - s.margin_s;
}

bool EligibleToSwitchOff(const RotationCase& c, const RotationSettings& s) {
  return c.phase == CasePhase::kAvailable && c.phase_s >= s.min_run_s && c.usable &&
         !std::isnan(c.lower_s) && c.lower_s - s.margin_s >= s.min_off_s + s.step_s &&
         !std::isnan(c.air_c) && !AtGuardBand(c, s) && c.shed_kw > 0;
}

RotationStep PlanRotationStep(const std::vector<RotationCase>& cases, double target_kw,
                              bool in_window, double rebound_cap_kw, const RotationSettings& s) {
  RotationStep step;
  const int n = static_cast<int>(cases.size());
  std::vector<bool> off(n, false), restarted(n, false);
  auto restart = [&](int i, RestartReason why) {
    off[i] = false;
    restarted[i] = true;
    step.restart.push_back(i);
    step.restart_reason.push_back(why);
  };

  // 1. Safety restarts.
  for (int i = 0; i < n; ++i) {
    const RotationCase& c = cases[i];
    if (c.phase != CasePhase::kOff) continue;
    off[i] = true;
    RestartReason why;
    if (std::isnan(c.air_c)) {
      why = RestartReason::kNoReading;
    } else if (AtGuardBand(c, s)) {
      why = RestartReason::kGuardBand;
    } else if (RemainingOffS(c, s) < s.step_s) {
      why = RestartReason::kBound;
    } else {
      continue;
    }
    if (c.phase_s < s.min_off_s) ++step.lockout_overrides;
    restart(i, why);
  }

  // Expected delivery (or, after the window, draw above baseline) with the current choices.
  auto delivery = [&] {
    double kw = 0;
    for (int i = 0; i < n; ++i) {
      if (off[i]) kw += cases[i].shed_kw;
      if (restarted[i] || cases[i].phase == CasePhase::kRecovering) kw -= cases[i].rebound_kw;
    }
    return kw;
  };
  // Off cases that may restart by choice, shortest remaining bound first.
  auto releasable = [&] {
    std::vector<int> out = SortedWhere(
        cases,
        [&](const RotationCase& c) {
          return c.phase == CasePhase::kOff && c.phase_s >= s.min_off_s;
        },
        [&](const RotationCase& c) { return RemainingOffS(c, s); });
    out.erase(std::remove_if(out.begin(), out.end(), [&](int i) { return !off[i]; }), out.end());
    return out;
  };

  const double aim = s.tolerance / 3;
  if (in_window) {
    double kw = delivery();
    if (kw < target_kw * (1 - aim)) {
      // 2a. Switch more off, longest bound first.
      const std::vector<int> eligible = EligibleLongestBoundFirst(cases, s);
      for (int i : eligible) {
        if (kw >= target_kw) break;
        if (kw + cases[i].shed_kw > target_kw * (1 + aim)) continue;
        off[i] = true;
        kw += cases[i].shed_kw;
        step.switch_off.push_back(i);
      }
    } else if (kw > target_kw * (1 + aim)) {
      // 2b. Restart the surplus, shortest remaining bound first.
      for (int i : releasable()) {
        if (kw <= target_kw * (1 + aim)) break;
        const double after = kw - cases[i].shed_kw - cases[i].rebound_kw;
        if (after < target_kw * (1 - aim)) continue;
        restart(i, RestartReason::kSurplus);
        kw = after;
      }
    }
    // 2c. Still outside the aim band (the cases' sizes did not fit): the one switch-off, surplus
    // restart, or swap of the two that lands closest to the target, while it gets closer.
    for (int round = 0; round < kRefineRounds; ++round) {
      const double error = std::fabs(kw - target_kw);
      if (error <= target_kw * aim / 2) break;
      std::vector<int> adds = EligibleLongestBoundFirst(cases, s);
      adds.erase(std::remove_if(adds.begin(), adds.end(), [&](int i) { return off[i]; }),
                 adds.end());
      std::vector<int> rels = releasable();
      if (adds.size() > kRefineWidth) adds.resize(kRefineWidth);
      if (rels.size() > kRefineWidth) rels.resize(kRefineWidth);
      int best_add = -1, best_rel = -1;
      double best = error;
      auto consider = [&](int a, int r) {
        double after = kw;
        if (a >= 0) after += cases[a].shed_kw;
        if (r >= 0) after -= cases[r].shed_kw + cases[r].rebound_kw;
        if (std::fabs(after - target_kw) < best - 1e-12) {
          best = std::fabs(after - target_kw);
          best_add = a;
          best_rel = r;
        }
      };
      for (int a : adds) consider(a, -1);
      for (int r : rels) {
        consider(-1, r);
        for (int a : adds) consider(a, r);
      }
      if (best_add < 0 && best_rel < 0) break;
      if (best_add >= 0) {
        off[best_add] = true;
        kw += cases[best_add].shed_kw;
        step.switch_off.push_back(best_add);
      }
      if (best_rel >= 0) {
        kw -= cases[best_rel].shed_kw + cases[best_rel].rebound_kw;
        restart(best_rel, RestartReason::kSurplus);
      }
    }
  } else {
    // 3. The rebound: restart while the draw above baseline stays within the cap. A case its
    // guard band would restart next minute goes first: restarted now, under the cap, it is not
    // one of a burst of forced restarts above it then. Only a minute ahead — ordering the whole
    // rebound by guard-band time restarts warm cases early, whose long pull-downs crowd the cap
    // while the cool ones left waiting reach their bounds together (docs/dispatch.md).
    double above = -delivery();
    std::vector<int> order = releasable();
    std::stable_partition(order.begin(), order.end(),
                          [&](int i) { return ReachesGuardBand(cases[i], 2, s); });
    for (int i : order) {
      const double after = above + cases[i].shed_kw + cases[i].rebound_kw;
      if (after > rebound_cap_kw) continue;
      restart(i, RestartReason::kRebound);
      above = after;
    }
  }
  step.expected_kw = delivery();
  return step;
}

int HoldReboundCap(const std::vector<RotationCase>& cases, double rebound_cap_kw,
                   const RotationSettings& s, RotationStep& step) {
  double above = -step.expected_kw;
  if (above <= rebound_cap_kw) return 0;
  int switched = 0;
  for (int i : EligibleLongestBoundFirst(cases, s)) {
    if (above <= rebound_cap_kw) break;
    step.switch_off.push_back(i);
    above -= cases[i].shed_kw;
    ++switched;
  }
  step.expected_kw = -above;
  return switched;
}

void ApplyRotationStep(const RotationStep& step, std::vector<RotationCase>& cases) {
  for (int i : step.switch_off) {
    cases[i].phase = CasePhase::kOff;
    cases[i].phase_s = 0;
    cases[i].off_lower_s = cases[i].lower_s;
  }
  for (int i : step.restart) {
    cases[i].phase = CasePhase::kRecovering;
    cases[i].phase_s = 0;
    cases[i].off_lower_s = kUnknown;
  }
}

void AdvanceRotationClock(RotationCase& c, const RotationSettings& s) {
  c.phase_s += s.step_s;
  if (c.phase == CasePhase::kOff) c.off_lower_s -= s.step_s;
}

double DeliverySigmaKw(const std::vector<RotationCase>& cases, const RotationStep& step) {
  double variance = 0;
  auto add = [&](const RotationCase& c) {
    const double sigma = kDrawShareSigma * c.compressor_kw;
    variance += sigma * sigma;
  };
  for (const RotationCase& c : cases) {
    if (c.phase == CasePhase::kRecovering) add(c);
  }
  for (int i : step.restart) add(cases[i]);
  return std::sqrt(variance);
}

double PullDownSeconds(double off_s, double shed_kw, double rebound_kw) {
  constexpr double kSimulatedShare = 0.75;
  const double duty = std::min(0.9, shed_kw / std::max(1e-9, shed_kw + rebound_kw));
  return kSimulatedShare * off_s * duty / (1 - duty);
}

double ExpectedRunShare(double left_s, double step_s) {
  // ∫ clamp(t, 0, step) dt, from 0 to x.
  auto integral = [step_s](double x) {
    if (x <= 0) return 0.0;
    if (x <= step_s) return x * x / 2;
    return step_s * step_s / 2 + step_s * (x - step_s);
  };
  const double centre = left_s + kPullDownEndLagS;
  const double spread = kPullDownEndSpreadS;
  return (integral(centre + spread) - integral(centre - spread)) / (2 * spread) / step_s;
}

namespace {

// One dry run at `target_kw`: true when every window minute's expected delivery is within the aim
// band and the restarts after it fit under the rebound cap.
bool HoldsInDryRun(const std::vector<OfferCase>& offer, double target_kw, int minutes,
                   double rebound_cap_kw, const RotationSettings& s, double* max_sigma_kw) {
  *max_sigma_kw = 0;
  const int n = static_cast<int>(offer.size());
  std::vector<RotationCase> cases(n);
  std::vector<double> recover_left_s(n, 0);
  for (int i = 0; i < n; ++i) {
    RotationCase& c = cases[i];
    c.lower_s = offer[i].lower_s;
    c.shed_kw = offer[i].shed_kw;
    c.rebound_kw = offer[i].rebound_kw;
    c.compressor_kw =
        offer[i].shed_kw + offer[i].rebound_kw;  // (cooling − baseline) + (baseline − idle)
    c.usable = offer[i].usable;
    c.air_c = -1e9;  // no sensed air in a dry run: bounds only
    c.limit_c = 0;
  }
  const double aim = s.tolerance / 3;
  const int max_minutes = minutes + static_cast<int>(std::ceil(3 * 3600 / s.step_s));
  for (int m = 0; m < max_minutes; ++m) {
    const bool in_window = m < minutes;
    const RotationStep step = PlanRotationStep(cases, target_kw, in_window, rebound_cap_kw, s);
    if (in_window) {
      const double sigma_kw = DeliverySigmaKw(cases, step);
      *max_sigma_kw = std::max(*max_sigma_kw, sigma_kw);
      if (step.expected_kw < target_kw * (1 - aim) - 1e-9 ||
          step.expected_kw > target_kw * (1 + aim) + 1e-9 ||
          std::hypot(s.precision_z * sigma_kw, s.error_floor_kw) >
              (s.tolerance - aim) * target_kw) {
        return false;
      }
    }
    if (!in_window && -step.expected_kw > rebound_cap_kw + 1e-9) return false;
    for (int i : step.restart) {
      const RotationCase& c = cases[i];
      recover_left_s[i] = PullDownSeconds(c.phase_s, c.shed_kw, c.rebound_kw);
    }
    ApplyRotationStep(step, cases);
    bool busy = false;
    for (int i = 0; i < n; ++i) {  // a minute passes
      RotationCase& c = cases[i];
      AdvanceRotationClock(c, s);
      if (c.phase == CasePhase::kRecovering) {
        recover_left_s[i] -= s.step_s;
        if (recover_left_s[i] <= 0) c.phase = CasePhase::kAvailable;
        // The minute a pull-down ends in draws only part of the surplus (as the replay expects).
        c.rebound_kw = offer[i].rebound_kw *
                       std::clamp(recover_left_s[i] / s.step_s, kMinRecoveringShare, 1.0);
      } else {
        c.rebound_kw = offer[i].rebound_kw;
      }
      busy = busy || c.phase != CasePhase::kAvailable;
    }
    if (!in_window && !busy) return true;
  }
  return false;  // never unwound
}

}  // namespace

double OfferBelow(const std::vector<OfferCase>& cases, double duration_s, double rebound_cap_kw,
                  const RotationSettings& settings, double at_most_kw, double* sigma_kw) {
  const int minutes = std::max(1, static_cast<int>(std::ceil(duration_s / settings.step_s)));
  double total = 0;
  for (const OfferCase& c : cases) {
    if (c.usable && c.shed_kw > 0) total += c.shed_kw;
  }
  // Holding is not monotone in the kW (a small target can fall between the cases' sizes), so
  // scan down from the top and keep the first level that holds.
  const double step_kw = std::max(0.05, total / 200);
  for (double kw = std::min(total, at_most_kw); kw >= step_kw; kw -= step_kw) {
    double max_sigma_kw = 0;
    if (HoldsInDryRun(cases, kw, minutes, rebound_cap_kw, settings, &max_sigma_kw)) {
      if (sigma_kw) *sigma_kw = max_sigma_kw;
      return kw;
    }
  }
  if (sigma_kw) *sigma_kw = 0;
  return 0;
}

double EstimateOffer(const std::vector<OfferCase>& cases, double duration_s, double rebound_cap_kw,
                     const RotationSettings& settings) {
  return OfferBelow(cases, duration_s, rebound_cap_kw, settings,
                    std::numeric_limits<double>::infinity());
}

}  // namespace nemesyst::refrigeration
