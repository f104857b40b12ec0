// The rotating-dispatch re-plan (rotation.h) on hand-built fleets: every rule, one at a time.
#include "nemesyst/refrigeration/rotation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace nemesyst::refrigeration {
namespace {

RotationCase Available(double lower_s, double shed_kw, double rebound_kw = 0.5) {
  RotationCase c;
  c.phase = CasePhase::kAvailable;
  c.lower_s = lower_s;
  c.shed_kw = shed_kw;
  c.rebound_kw = rebound_kw;
  c.air_c = 3;
  c.limit_c = 8;
  c.usable = true;
  return c;
}

RotationCase Off(double off_for_s, double remaining_bound_s, double shed_kw) {
  RotationCase c = Available(remaining_bound_s, shed_kw);
  c.phase = CasePhase::kOff;
  c.phase_s = off_for_s;
  c.off_lower_s = remaining_bound_s;
  return c;
}

bool Contains(const std::vector<int>& v, int x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST(RotationTest, SettingsAreValidatedByName) {
  RotationSettings s;
  EXPECT_TRUE(s.Validate().ok());
  s.tolerance = 0;
  EXPECT_NE(s.Validate().message().find("tolerance"), std::string::npos);
  s = {};
  s.min_off_s = -1;
  EXPECT_NE(s.Validate().message().find("min_off_s"), std::string::npos);
  s = {};
  s.step_s = 0;
  EXPECT_NE(s.Validate().message().find("step_s"), std::string::npos);
  s = {};
  s.error_floor_kw = -0.1;
  EXPECT_NE(s.Validate().message().find("error_floor_kw"), std::string::npos);
}

TEST(RotationTest, OffCaseRestartsWhenItsBoundWouldNotCoverTheNextMinute) {
  RotationSettings s;  // margin 60, step 60
  // Remaining bound 119 s − 60 margin = 59 < 60: restart. 121 s: 61 ≥ 60: stays off.
  std::vector<RotationCase> cases = {Off(300, 119, 1.0), Off(300, 121, 1.0)};
  const RotationStep step = PlanRotationStep(cases, 2.0, true, 0, s);
  ASSERT_EQ(step.restart.size(), 1u);
  EXPECT_EQ(step.restart[0], 0);
  EXPECT_EQ(step.restart_reason[0], RestartReason::kBound);
  // The fresh bound counts too: the smaller of the two bounds decides.
  cases[1].lower_s = 100;
  const RotationStep both = PlanRotationStep(cases, 2.0, true, 0, s);
  EXPECT_TRUE(Contains(both.restart, 1));
}

TEST(RotationTest, GuardBandAndALostFeedRestartAtOnceEvenInsideTheLockout) {
  RotationSettings s;
  std::vector<RotationCase> cases = {Off(60, 2000, 1.0), Off(60, 2000, 1.0), Off(60, 2000, 1.0)};
  cases[0].air_c = 6.2;  // + last minute's rise 0.9 ≥ 8 − 1
  cases[0].air_rise_c = 0.9;
  cases[1].air_c = kUnknown;  // no reading this minute
  cases[2].air_c = 6.0;       // 6.0 + 0.5 < 7: fine
  cases[2].air_rise_c = 0.5;
  const RotationStep step = PlanRotationStep(cases, 3.0, true, 0, s);
  ASSERT_EQ(step.restart.size(), 2u);
  EXPECT_EQ(step.restart[0], 0);
  EXPECT_EQ(step.restart_reason[0], RestartReason::kGuardBand);
  EXPECT_EQ(step.restart[1], 1);
  EXPECT_EQ(step.restart_reason[1], RestartReason::kNoReading);
  EXPECT_EQ(step.lockout_overrides, 2);  // both were off for less than min_off_s
}

TEST(RotationTest, OnlyEligibleCasesAreSwitchedOffLongestBoundFirst) {
  RotationSettings s;  // eligible: bound − 60 ≥ 120 + 60
  std::vector<RotationCase> cases = {
      Available(239, 1.0),   // 0: bound too short for the lockout
      Available(240, 1.0),   // 1: just enough
      Available(900, 1.0),   // 2: longest
      Available(600, 1.0),   // 3
      Available(2000, 1.0),  // 4: feed not usable
      Available(2000, 0.0),  // 5: sheds nothing
      Available(2000, 1.0),  // 6: restarted 30 s ago (min run 60 s)
      Available(2000, 1.0),  // 7: at the guard band
  };
  cases[4].usable = false;
  cases[6].phase_s = 30;
  cases[7].air_c = 7.5;
  const RotationStep step = PlanRotationStep(cases, 3.0, true, 0, s);
  EXPECT_EQ(step.switch_off, (std::vector<int>{2, 3, 1}));
  EXPECT_DOUBLE_EQ(step.expected_kw, 3.0);
  for (int i : {0, 4, 5, 6, 7}) EXPECT_FALSE(EligibleToSwitchOff(cases[i], s)) << i;
}

TEST(RotationTest, FillStaysInsideTheAimBand) {
  RotationSettings s;  // aim ±2.5 %
  // Target 2.0: 1.5 + 0.9 would overshoot to 2.4; 1.5 + 0.5 hits it.
  std::vector<RotationCase> cases = {Available(900, 1.5), Available(800, 0.9), Available(700, 0.5)};
  const RotationStep step = PlanRotationStep(cases, 2.0, true, 0, s);
  EXPECT_EQ(step.switch_off, (std::vector<int>{0, 2}));
  EXPECT_NEAR(step.expected_kw, 2.0, 1e-12);
}

TEST(RotationTest, RecoveringCasesCountAgainstTheDeliveryAndAreBackFilled) {
  RotationSettings s;
  std::vector<RotationCase> cases = {Off(300, 600, 1.0), Available(900, 1.0), Available(900, 0.6)};
  RotationCase recovering = Available(900, 1.0, 0.4);
  recovering.phase = CasePhase::kRecovering;
  recovering.phase_s = 60;
  cases.push_back(recovering);
  // Delivery now 1.0 − 0.4 = 0.6; target 1.6 needs 1.0 more.
  const RotationStep step = PlanRotationStep(cases, 1.6, true, 0, s);
  EXPECT_EQ(step.switch_off, (std::vector<int>{1}));
  EXPECT_NEAR(step.expected_kw, 1.6, 1e-12);
}

TEST(RotationTest, SurplusRestartsOnlyAfterTheMinimumOffTime) {
  RotationSettings s;
  std::vector<RotationCase> cases = {Off(60, 900, 1.0), Off(180, 900, 1.0), Off(180, 600, 1.0)};
  for (RotationCase& c : cases) c.rebound_kw = 0;
  // Target 2.0, delivering 3.0: one must go. Case 0 is locked out (off 60 s < 120 s); of the
  // others the shortest remaining bound goes first.
  RotationStep step = PlanRotationStep(cases, 2.0, true, 0, s);
  ASSERT_EQ(step.restart.size(), 1u);
  EXPECT_EQ(step.restart[0], 2);
  EXPECT_EQ(step.restart_reason[0], RestartReason::kSurplus);
  EXPECT_DOUBLE_EQ(step.expected_kw, 2.0);
  // With a rebound of 0.5 a restart overshoots to 1.5: still the closest it can get (2c).
  for (RotationCase& c : cases) c.rebound_kw = 0.5;
  step = PlanRotationStep(cases, 2.0, true, 0, s);
  ASSERT_EQ(step.restart.size(), 1u);
  EXPECT_EQ(step.restart[0], 2);
  EXPECT_DOUBLE_EQ(step.expected_kw, 1.5);
  // Only the locked-out case off: nothing may restart, however far over the target.
  std::vector<RotationCase> locked = {Off(60, 900, 3.0)};
  EXPECT_TRUE(PlanRotationStep(locked, 1.0, true, 0, s).restart.empty());
}

TEST(RotationTest, ASwapLandsInTheBandWhenNoSingleMoveDoes) {
  RotationSettings s;
  // Delivering 1.0 (one case off, past its lockout) against 1.6: adding the 0.9 case
  // overshoots to 1.9 and the 1.6 case to 2.6, but restarting the 1.0 case and adding the 1.6
  // one lands exactly.
  std::vector<RotationCase> cases = {Off(300, 900, 1.0), Available(800, 0.9), Available(700, 1.6)};
  cases[0].rebound_kw = 0;
  const RotationStep step = PlanRotationStep(cases, 1.6, true, 0, s);
  EXPECT_NEAR(step.expected_kw, 1.6, 1e-12);
  EXPECT_EQ(step.restart, (std::vector<int>{0}));
  EXPECT_EQ(step.switch_off, (std::vector<int>{2}));
}

TEST(RotationTest, ReboundRestartsStayUnderTheCapButSafetyDoesNotWait) {
  RotationSettings s;
  std::vector<RotationCase> cases;
  for (int i = 0; i < 6; ++i) cases.push_back(Off(300, 600 + 100 * i, 1.0));  // rebound 0.5 each
  // Cap 2.0 above baseline: each restart moves the draw by shed + rebound = 1.5, starting from
  // −6.0 (all six off): −4.5, −3.0, ..., +3.0. Restarts stop at the last one under 2.0.
  RotationStep step = PlanRotationStep(cases, 0, false, 2.0, s);
  EXPECT_EQ(step.restart, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_LE(-step.expected_kw, 2.0 + 1e-12);
  // Bounds running out restart whatever the cap says.
  for (RotationCase& c : cases) c.off_lower_s = 100;
  step = PlanRotationStep(cases, 0, false, 0.0, s);
  EXPECT_EQ(step.restart.size(), 6u);
}

TEST(RotationTest, TheReboundRestartsFirstWhatItsGuardBandWouldForceNextMinute) {
  RotationSettings s;  // guard band at limit 8 − 1 = 7 °C
  std::vector<RotationCase> cases;
  for (int i = 0; i < 3; ++i) cases.push_back(Off(300, 600 + 100 * i, 1.0));
  // Case 2 has the longest bound left, but its air (6.0 °C, +0.6 in the last minute) would reach
  // the band in two minutes' rise: it takes the room under the cap before case 0.
  cases[2].air_c = 6.0;
  cases[2].air_rise_c = 0.6;
  ASSERT_LT(cases[2].air_c + cases[2].air_rise_c, cases[2].limit_c - s.guard_c);
  // Cap: −3.0 (all off) + 1.5 per restart; room for one restart only.
  RotationStep step = PlanRotationStep(cases, 0, false, -1.5, s);
  EXPECT_EQ(step.restart, (std::vector<int>{2}));
  EXPECT_EQ(step.restart_reason, (std::vector<RestartReason>{RestartReason::kRebound}));
  // A slower rise leaves it for later: shortest remaining bound first again.
  cases[2].air_rise_c = 0.4;
  step = PlanRotationStep(cases, 0, false, -1.5, s);
  EXPECT_EQ(step.restart, (std::vector<int>{0}));
}

TEST(RotationTest, TheReboundSwitchesFreshCasesOffWhileItsDrawIsOverTheCap) {
  RotationSettings s;  // margin 60, min_off 120, min_run 60, step 60: eligible from 241 s
  std::vector<RotationCase> cases;
  for (int i = 0; i < 3; ++i) {  // 0–2: pulling down, 1.0 kW above baseline each
    cases.push_back(Available(3600, 0.6, 1.0));
    cases.back().phase = CasePhase::kRecovering;
    cases.back().phase_s = 60;
  }
  cases.push_back(Available(900, 0.6));   // 3
  cases.push_back(Available(1800, 0.6));  // 4
  cases.push_back(Available(1200, 0.6));  // 5
  cases.push_back(Available(600, 0.6));   // 6
  cases.push_back(Available(3000, 0.6));  // 7: not usable (a suspect feed)
  cases.back().usable = false;
  cases.push_back(Available(2400, 0.6));  // 8: restarted 30 s ago (min_run)
  cases.back().phase_s = 30;
  cases.push_back(Available(2000, 0.6));  // 9: at its guard band
  cases.back().air_c = 7.5;

  // Rules 1–3 have nothing to restart: the draw stays 3.0 above baseline, over a cap of 1.5.
  RotationStep step = PlanRotationStep(cases, 0, false, 1.5, s);
  ASSERT_TRUE(step.restart.empty());
  ASSERT_NEAR(step.expected_kw, -3.0, 1e-12);
  // Rule 4: eligible cases off, longest bound first, until the draw is under the cap — three
  // sheds of 0.6 (two would leave 1.8) — skipping the unusable, the locked-out and the warm.
  EXPECT_EQ(HoldReboundCap(cases, 1.5, s, step), 3);
  EXPECT_EQ(step.switch_off, (std::vector<int>{4, 5, 3}));
  EXPECT_NEAR(step.expected_kw, -1.2, 1e-12);
  // Under the cap already: nothing.
  step = PlanRotationStep(cases, 0, false, 3.0, s);
  EXPECT_EQ(HoldReboundCap(cases, 3.0, s, step), 0);
  EXPECT_TRUE(step.switch_off.empty());
  EXPECT_NEAR(step.expected_kw, -3.0, 1e-12);
  // Too few eligible cases to get under: all of them, and the draw stays above the cap.
  step = PlanRotationStep(cases, 0, false, 0.0, s);
  EXPECT_EQ(HoldReboundCap(cases, 0.0, s, step), 4);
  EXPECT_NEAR(step.expected_kw, -0.6, 1e-12);
  // A case its guard band restarts this minute is no candidate: it is off, not available.
  cases[4] = Off(600, 1200, 0.6);
  cases[4].air_c = 7.5;
  step = PlanRotationStep(cases, 0, false, 1.5, s);
  ASSERT_EQ(step.restart, (std::vector<int>{4}));
  EXPECT_EQ(HoldReboundCap(cases, 1.5, s, step), 3);
  EXPECT_EQ(step.switch_off, (std::vector<int>{5, 3, 6}));
}

TEST(RotationTest, ThePlanIsAPureFunctionAndTiesGoByIndex) {
  RotationSettings s;
  std::vector<RotationCase> cases(10, Available(900, 1.0));
  const RotationStep a = PlanRotationStep(cases, 4.0, true, 0, s);
  const RotationStep b = PlanRotationStep(cases, 4.0, true, 0, s);
  EXPECT_EQ(a.switch_off, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(a.switch_off, b.switch_off);
  EXPECT_EQ(a.expected_kw, b.expected_kw);
}

TEST(RotationTest, PullDownFollowsTheHeatBalance) {
  // Duty 0.5 (shed 1, rebound 1): as long as it was off, times 0.75.
  EXPECT_DOUBLE_EQ(PullDownSeconds(400, 1.0, 1.0), 300);
  // Duty capped at 0.9.
  EXPECT_DOUBLE_EQ(PullDownSeconds(100, 1.0, 0.0), 0.75 * 100 * 9);
}

TEST(RotationTest, APullDownDueNowStillRunsPartOfTheNextMinute) {
  // The end is uniform over [left + 5 − 45, left + 5 + 45] s: due now (left 0) it runs
  // ∫₀⁵⁰ t dt / 90 = 13.9 s of the minute on average, not none.
  EXPECT_NEAR(ExpectedRunShare(0, 60), 50.0 * 50.0 / 2 / 90 / 60, 1e-12);
  EXPECT_GT(ExpectedRunShare(-20, 60), 0.0);
  // Long past its estimated end, or far from it: nothing, or the whole minute.
  EXPECT_DOUBLE_EQ(ExpectedRunShare(-50, 60), 0.0);
  EXPECT_DOUBLE_EQ(ExpectedRunShare(100, 60), 1.0);
  // Near the minute's end it runs less than min(left, 60) says: the ends spread past the minute
  // add nothing, those before it take away.
  EXPECT_LT(ExpectedRunShare(55, 60), 55.0 / 60);
  // Halfway: an end uniform in [−10, 80] s runs (∫₀⁶⁰ t dt + 20 · 60) / 90 = 33.3 s, a little
  // more than half: the end comes 5 s later on average.
  EXPECT_NEAR(ExpectedRunShare(30, 60), (60.0 * 60 / 2 + 60.0 * 20) / 90 / 60, 1e-12);
  // Never less for a later end.
  double previous = 0;
  for (double left = -60; left <= 120; left += 1) {
    const double share = ExpectedRunShare(left, 60);
    EXPECT_GE(share, previous) << left;
    EXPECT_LE(share, 1.0);
    previous = share;
  }
}

TEST(RotationTest, TheOfferHoldsInTheDryRunAndNeverExceedsWhatIsEligible) {
  RotationSettings s;
  s.precision_z = 0;  // energy and rebound room alone (the precision test is below)
  std::vector<OfferCase> none = {{kUnknown, 1.0, 0.5, false}};
  EXPECT_EQ(EstimateOffer(none, 900, 10, s), 0);
  // Twenty cases that each last the whole 15 minutes: everything can be offered at once.
  std::vector<OfferCase> long_lived(20, OfferCase{3000, 0.5, 0.5, true});
  EXPECT_NEAR(EstimateOffer(long_lived, 900, 100, s), 10.0, 0.06);
  // Cases lasting 5–10 minutes: a 15-minute window needs rotation, and each restart costs a
  // rebound, so much less can be held.
  std::vector<OfferCase> short_lived;
  double total_kw = 0;
  for (int i = 0; i < 20; ++i) {
    short_lived.push_back({300.0 + 15 * i, 0.3 + 0.05 * i, 0.2 + 0.02 * i, true});
    total_kw += short_lived.back().shed_kw;
  }
  const double rotating = EstimateOffer(short_lived, 900, 100, s);
  EXPECT_GT(rotating, 0);
  EXPECT_LT(rotating, total_kw / 2);
  // A tight rebound cap lowers the offer (the cases must be let back slowly).
  EXPECT_LE(EstimateOffer(short_lived, 900, 0.6, s), rotating);
  // OfferBelow never goes above its ceiling.
  EXPECT_LE(OfferBelow(long_lived, 900, 100, s, 7.3), 7.3);
}

TEST(RotationTest, ThePlannersErrorCountsOnlyTheCasesChangingState) {
  std::vector<RotationCase> cases = {Off(300, 600, 1.0), Off(300, 600, 1.0), Available(900, 1.0),
                                     Available(900, 1.0)};
  cases[0].compressor_kw = 2.0;  // restarted below
  cases[1].compressor_kw = 5.0;  // stays off: it draws its idle, which the look-back knows
  cases[2].compressor_kw = 4.0;  // available: its thermostat's cycling is in its baseline
  cases[3].phase = CasePhase::kRecovering;
  cases[3].compressor_kw = 1.0;
  RotationStep step;
  EXPECT_DOUBLE_EQ(DeliverySigmaKw(cases, step), kDrawShareSigma * 1.0);
  step.restart = {0};
  EXPECT_NEAR(DeliverySigmaKw(cases, step), kDrawShareSigma * std::sqrt(4.0 + 1.0), 1e-12);
}

// Cases lasting 10–20 minutes: a 15-minute window is held by rotating some of them, `copies`
// times over.
std::vector<OfferCase> RotatingFleet(int copies) {
  std::vector<OfferCase> fleet;
  for (int k = 0; k < copies; ++k) {
    for (int i = 0; i < 20; ++i) fleet.push_back({600.0 + 30 * i, 0.3 + 0.05 * i, 0.2, true});
  }
  return fleet;
}

TEST(RotationTest, TheOfferKeepsOnlyWhatThePlannersErrorLeavesInTheBand) {
  RotationSettings loose;
  loose.precision_z = 0;
  RotationSettings precise;  // the default z
  // Twenty cases: each restart and pull-down is a large share of what they can hold, so the
  // fleet cannot promise ±5 %: it offers nothing (or less) once its own error is counted.
  const std::vector<OfferCase> small = RotatingFleet(1);
  const double small_loose = EstimateOffer(small, 900, 100, loose);
  ASSERT_GT(small_loose, 0);
  double sigma_kw = -1;
  const double small_precise = OfferBelow(small, 900, 100, precise, 1e9, &sigma_kw);
  EXPECT_LT(small_precise, small_loose);
  // Twenty times as many: the error grows as the square root of the cases changing state, the
  // offer as their number, so most of the capacity can now be promised — and what is offered
  // satisfies the rule it was chosen by.
  const std::vector<OfferCase> large = RotatingFleet(20);
  const double large_loose = EstimateOffer(large, 900, 100 * 20, loose);
  const double large_precise = OfferBelow(large, 900, 100 * 20, precise, 1e9, &sigma_kw);
  EXPECT_GT(large_precise, 0.9 * large_loose);
  EXPECT_GT(sigma_kw, 0);
  const double aim = precise.tolerance / 3;
  EXPECT_LE(precise.precision_z * sigma_kw, (precise.tolerance - aim) * large_precise + 1e-9);
  EXPECT_GT(large_precise / large_loose, small_precise / small_loose);
}

TEST(RotationTest, AnErrorFloorDeclinesEveryOfferTooSmallToHoldIt) {
  // Cases that outlast the window: the dry run restarts none, so its own error is 0 and only the
  // floor can say that an offer is too small for the fleet's real errors.
  const std::vector<OfferCase> long_lived(40, OfferCase{3000, 0.5, 0.5, true});
  RotationSettings s;
  double sigma_kw = -1;
  const double without = OfferBelow(long_lived, 900, 100, s, 1e9, &sigma_kw);
  EXPECT_NEAR(without, 20.0, 0.11);
  EXPECT_EQ(sigma_kw, 0);
  const double aim = s.tolerance / 3;
  // A floor the full offer can carry changes nothing ...
  s.error_floor_kw = 0.5 * (s.tolerance - aim) * without;
  EXPECT_DOUBLE_EQ(OfferBelow(long_lived, 900, 100, s, 1e9), without);
  // ... but any offer below floor / (tolerance − aim) is declined, however well it holds in the
  // dry run: a ceiling under it leaves nothing to offer.
  EXPECT_EQ(OfferBelow(long_lived, 900, 100, s, 0.9 * without / 2), 0);
  // And a floor larger than the whole fleet can carry declines everything.
  s.error_floor_kw = 1.01 * (s.tolerance - aim) * 20.0;
  EXPECT_EQ(EstimateOffer(long_lived, 900, 100, s), 0);
}

}  // namespace
}  // namespace nemesyst::refrigeration
