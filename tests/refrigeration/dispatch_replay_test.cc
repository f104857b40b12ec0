#include "nemesyst/refrigeration/dispatch_replay.h"

#include <gtest/gtest.h>

#include <cmath>

namespace nemesyst::refrigeration {
namespace {

std::unique_ptr<FleetSimulator> SmallFleet() {
  SimulatorOptions o;
  o.seed = 5;
  o.stores = 1;
  o.cases_per_store = 6;
  o.days = 0.25;
  o.fault_rate = 0;
  auto sim = FleetSimulator::Create(o);
  EXPECT_TRUE(sim.ok()) << sim.status().ToString();
  return std::move(sim).value();
}

TEST(DispatchReplayTest, PerfectPredictionsGiveNoViolationsAndTheTimelineAddsUp) {
  auto sim = SmallFleet();
  const int64_t start = sim->options().start_us + 3LL * 3600 * 1000000;
  // Candidates from the true state: predictions = the true label, power = the replayed baseline.
  std::vector<int> all;
  for (const auto& c : sim->cases()) all.push_back(c.index);
  auto truth = sim->ReplayShedding(all, start, 600);
  ASSERT_TRUE(truth.ok()) << truth.status().ToString();
  std::vector<DispatchCandidate> candidates;
  double eligible_kw = 0;
  for (const auto& o : *truth) {
    candidates.push_back({sim->cases()[o.case_index].device, o.safe_off_s, o.baseline_kw});
    if (o.safe_off_s >= 600 + 60 && o.baseline_kw > 0) eligible_kw += o.baseline_kw;
  }
  ASSERT_GT(eligible_kw, 0) << "the fleet must be able to shed something";
  auto plan = SelectCasesToShed({eligible_kw * 0.5, 600, 60}, candidates);
  ASSERT_TRUE(plan.ok());
  ASSERT_FALSE(plan->chosen.empty());
  auto replay = ReplayDispatch(*sim, *plan, start, {5});
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  const auto& s = replay->summary;
  EXPECT_EQ(s.violations, 0);
  EXPECT_EQ(s.cases_chosen, static_cast<int>(plan->chosen.size()));
  EXPECT_GT(s.delivered_kw, 0);
  ASSERT_EQ(s.time_s.size(), 6u);
  double mean_of_slots = 0;
  for (int k = 0; k < 5; ++k) mean_of_slots += s.delivered_kw_at[k] / 5;
  EXPECT_NEAR(mean_of_slots, s.delivered_kw, 1e-6 * std::max(1.0, s.delivered_kw));
}

TEST(DispatchReplayTest, OverOptimisticPredictionsShowUpAsViolations) {
  auto sim = SmallFleet();
  const int64_t start = sim->options().start_us + 2LL * 3600 * 1000000;
  std::vector<DispatchCandidate> candidates;
  for (const auto& c : sim->cases()) candidates.push_back({c.device, 3600, 1.0});
  // Off for 3 hours: every case must cross its limit, whatever was predicted.
  auto plan = SelectCasesToShed({100, 3 * 3600, 0}, candidates);
  ASSERT_TRUE(plan.ok());
  plan->chosen.clear();
  for (const auto& c : candidates) plan->chosen.push_back({c.device, 3600, 1.0, 0});
  auto replay = ReplayDispatch(*sim, *plan, start, {2});
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_EQ(replay->summary.violations, static_cast<int>(candidates.size()));
}

TEST(DispatchReplayTest, UnknownDeviceIsNotFound) {
  auto sim = SmallFleet();
  DispatchPlan plan;
  plan.request = {1, 60, 0};
  plan.chosen.push_back({"store-9999/case-99", 1000, 1, 0});
  auto r = ReplayDispatch(*sim, plan, sim->options().start_us);
  EXPECT_TRUE(r.status().IsNotFound());
}

}  // namespace
}  // namespace nemesyst::refrigeration
