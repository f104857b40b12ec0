#include "nemesyst/refrigeration/dispatch_selection.h"

#include <gtest/gtest.h>

#include <cmath>

namespace nemesyst::refrigeration {
namespace {

TEST(DispatchSelectionTest, PicksEligibleCasesByMostSlackPerKw) {
  DispatchRequest r{3.0, 1200, 300};  // 3 kW for 20 min, 5 min margin: need ≥ 1500 s
  std::vector<DispatchCandidate> c = {
      {"a", 1400, 5.0},  // not eligible: 1400 − 300 < 1200
      {"b", 2500, 1.0},  // slack 1000, 1000/kW
      {"c", 3600, 2.0},  // slack 2100, 1050/kW
      {"d", 1600, 1.0},  // slack 100, 100/kW
      {"e", 3600, 0.0},  // sheds nothing: not eligible
  };
  auto plan = SelectCasesToShed(r, c);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->chosen.size(), 2u);
  EXPECT_EQ(plan->chosen[0].device, "c");
  EXPECT_EQ(plan->chosen[1].device, "b");
  EXPECT_DOUBLE_EQ(plan->selected_kw, 3.0);
  EXPECT_DOUBLE_EQ(plan->requested_kw, 3.0);
  EXPECT_EQ(plan->eligible, 3u);
  EXPECT_TRUE(plan->met);
  EXPECT_DOUBLE_EQ(plan->chosen[0].slack_s, 2100);
}

TEST(DispatchSelectionTest, UnmeetableRequestTakesAllEligible) {
  auto plan = SelectCasesToShed({10, 600, 0}, {{"x", 700, 1}, {"y", 500, 4}, {"z", 601, 2}});
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->met);
  EXPECT_EQ(plan->chosen.size(), 2u);
  EXPECT_DOUBLE_EQ(plan->selected_kw, 3);
}

TEST(DispatchSelectionTest, TiesAreBrokenByDeviceForDeterminism) {
  auto plan = SelectCasesToShed({1, 60, 0}, {{"m", 1000, 1}, {"k", 1000, 1}});
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->chosen.size(), 1u);
  EXPECT_EQ(plan->chosen[0].device, "k");
}

TEST(DispatchSelectionTest, RejectsBadRequestsAndCandidates) {
  EXPECT_TRUE(SelectCasesToShed({0, 60, 0}, {}).status().IsInvalidArgument());
  EXPECT_TRUE(SelectCasesToShed({1, -1, 0}, {}).status().IsInvalidArgument());
  EXPECT_TRUE(SelectCasesToShed({1, 60, -5}, {}).status().IsInvalidArgument());
  EXPECT_TRUE(
      SelectCasesToShed({1, 60, 0}, {{"a", 1, 1}, {"a", 2, 1}}).status().IsInvalidArgument());
  EXPECT_TRUE(SelectCasesToShed({1, 60, 0}, {{"a", std::nan(""), 1}}).status().IsInvalidArgument());
}

}  // namespace
}  // namespace nemesyst::refrigeration
