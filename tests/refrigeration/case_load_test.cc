// What the dispatcher reads of a case's draw from its own readings (refrigeration/case_load.h).
#include "refrigeration/case_load.h"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <optional>

namespace nemesyst::refrigeration {
namespace {

constexpr int64_t kStepUs = 60'000'000;

SimSample Reading(int minute, double air_off_c, bool cooling, double power_kw) {
  SimSample s;
  s.time_us = minute * kStepUs;
  s.values[kAirOnC] = static_cast<float>(air_off_c + 2);
  s.values[kAirOffC] = static_cast<float>(air_off_c);
  s.values[kCooling] = cooling ? 1.0f : 0.0f;
  s.values[kPowerKw] = static_cast<float>(power_kw);
  return s;
}

// A thermostat cycle repeated: 3 idle minutes rising 0 → 1.5 °C (0.3 kW: fans), 2 cooling
// minutes falling back (2.3 kW).
std::deque<SimSample> Cycles(int minutes) {
  std::deque<SimSample> h;
  for (int m = 0; m < minutes; ++m) {
    const int phase = m % 5;
    if (phase < 3) {
      h.push_back(Reading(m, 0.5 * phase, false, 0.3));
    } else {
      h.push_back(Reading(m, 1.5 - 0.75 * (phase - 2), true, 2.3));
    }
  }
  return h;
}

TEST(CaseLoadTest, TheLookBackGivesBaselineIdleCoolingAndTheThermostatBand) {
  const std::deque<SimSample> h = Cycles(60);
  const CaseLoad load = LoadFromHistory(h, 0, kStepUs);
  ASSERT_TRUE(load.known);
  EXPECT_NEAR(load.baseline_kw, (3 * 0.3 + 2 * 2.3) / 5, 1e-6);
  EXPECT_NEAR(load.idle_kw, 0.3, 1e-6);
  EXPECT_NEAR(load.cooling_kw, 2.3, 1e-6);
  EXPECT_NEAR(load.cut_in_c, 1.0, 1e-6);  // the air-off just before the valve opened
  EXPECT_NEAR(load.cut_out_c, 0.0, 1e-6);
  // A defrost's readings are not normal running: left out of the baseline.
  std::deque<SimSample> with_defrost = h;
  for (int m = 60; m < 70; ++m) {
    SimSample s = Reading(m, 6.0, false, 1.8);
    s.values[kDefrost] = 1;
    with_defrost.push_back(s);
  }
  EXPECT_NEAR(LoadFromHistory(with_defrost, 0, kStepUs).baseline_kw, load.baseline_kw, 1e-6);
  // A case that never idled shows no shed: not known.
  std::deque<SimSample> always_cooling;
  for (int m = 0; m < 30; ++m) always_cooling.push_back(Reading(m, 3.0 - 0.01 * m, true, 2.3));
  EXPECT_FALSE(LoadFromHistory(always_cooling, 0, kStepUs).known);
}

// A case restarted after 5 minutes off, pulling down since with its valve open: one reading a
// minute, the air-offs `air_off_c` (the last one now).
struct PullDown {
  std::deque<SimSample> history;
  RotationCase c;
};
PullDown Pulling(const CaseLoad& load, const std::vector<double>& air_off_c) {
  PullDown p;
  int minute = 100;
  for (double air : air_off_c) p.history.push_back(Reading(minute++, air, true, 2.3));
  p.c.phase = CasePhase::kRecovering;
  p.c.phase_s = 60.0 * static_cast<double>(air_off_c.size());
  p.c.shed_kw = load.baseline_kw - load.idle_kw;
  p.c.compressor_kw = load.cooling_kw - load.idle_kw;
  return p;
}

double Share(const CaseLoad& load, const PullDown& p) {
  const int64_t now_us = p.history.back().time_us;
  return CoolingShare(p.c, load, p.history, p.history.back(), now_us, kStepUs,
                      /*last_off_s=*/300, RotationSettings{});
}

TEST(CaseLoadTest, APullDownFarFromItsCutOutRunsTheWholeMinute) {
  const CaseLoad load = LoadFromHistory(Cycles(60), 0, kStepUs);
  // 4.0 → 3.4: 3.4 °C still to fall at 0.6 a minute.
  EXPECT_DOUBLE_EQ(Share(load, Pulling(load, {4.6, 4.0, 3.4})), 1.0);
}

TEST(CaseLoadTest, AValveStillOpenAtItsCutOutRunsPartOfTheNextMinute) {
  const CaseLoad load = LoadFromHistory(Cycles(60), 0, kStepUs);
  // The air-off has fallen to the learnt cut-out, yet the valve was open at the last reading:
  // the pull-down is due, not over. Simulated pull-downs in that state ran about a quarter of
  // their next minute (docs/dispatch.md); min(left, minute) would say none.
  const double due = Share(load, Pulling(load, {1.2, 0.6, 0.0}));
  EXPECT_NEAR(due, ExpectedRunShare(0, 60), 1e-12);
  EXPECT_GT(due, 0.2);
  EXPECT_LT(due, 0.35);
  // Past it by as much as the last fall: still a little, less than when just due.
  const double past = Share(load, Pulling(load, {1.2, 0.6, -0.6}));
  EXPECT_GT(past, 0.0);
  EXPECT_LT(past, due);
}

TEST(CaseLoadTest, AValveStillShutStartsWhenTheAirReachesItsCutIn) {
  const CaseLoad load = LoadFromHistory(Cycles(60), 0, kStepUs);
  PullDown p;
  p.history.push_back(Reading(100, 0.6, false, 0.3));
  p.history.push_back(Reading(101, 0.8, false, 0.3));  // rising 0.2 a minute, 0.2 to its cut-in
  p.c.phase = CasePhase::kRecovering;
  p.c.phase_s = 60;
  p.c.shed_kw = load.baseline_kw - load.idle_kw;
  p.c.compressor_kw = load.cooling_kw - load.idle_kw;
  // Opens after a minute: the whole minute idle.
  EXPECT_NEAR(Share(load, p), 0.0, 1e-6);
  p.history.back() = Reading(101, 0.9, false, 0.3);  // 0.1 to go at 0.3: opens after 20 s
  EXPECT_NEAR(Share(load, p), 40.0 / 60, 1e-3);
}

}  // namespace
}  // namespace nemesyst::refrigeration
