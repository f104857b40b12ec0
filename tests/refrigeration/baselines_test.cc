#include "refrigeration/baselines.h"

#include <gtest/gtest.h>

#include <random>

namespace nemesyst::refrigeration {
namespace {

TEST(BaselinesTest, MeanPredictsTheTrainingMean) {
  auto b = MakeMeanBaseline();
  std::vector<CaseSample> rows(3);
  rows[0].label_s = 100, rows[1].label_s = 200, rows[2].label_s = 600;
  ASSERT_TRUE(b->Fit(rows).ok());
  EXPECT_DOUBLE_EQ(b->Predict(CaseSample{}), 300);
  EXPECT_EQ(b->name(), "mean");
}

TEST(BaselinesTest, RidgeRecoversALinearFunctionWithSmallPenalty) {
  // label = 1000 + 50·x0 − 20·x1 exactly; with λ tiny relative to n the fit is exact to ~1e-3.
  BaselineOptions o;
  o.ridge_lambda = 1e-6;
  auto b = MakeRidgeBaseline(o);
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-5, 5);
  std::vector<CaseSample> rows;
  for (int i = 0; i < 200; ++i) {
    CaseSample s;
    s.features = {u(rng), u(rng), 3.0};  // a constant column must not break the solve
    s.label_s = 1000 + 50 * s.features[0] - 20 * s.features[1];
    rows.push_back(s);
  }
  ASSERT_TRUE(b->Fit(rows).ok());
  CaseSample q;
  q.features = {2, -1, 3};
  EXPECT_NEAR(b->Predict(q), 1000 + 100 + 20, 1e-3);
  q.features = {1000, 0, 3};  // far outside: clamped to the cap
  EXPECT_DOUBLE_EQ(b->Predict(q), 3600);
}

TEST(BaselinesTest, RidgePenaltyShrinksTowardsTheMean) {
  BaselineOptions o;
  o.ridge_lambda = 1e9;
  auto b = MakeRidgeBaseline(o);
  std::vector<CaseSample> rows;
  for (int i = 0; i < 10; ++i) rows.push_back({{double(i)}, {}, 60, 0, 100.0 * i});
  ASSERT_TRUE(b->Fit(rows).ok());
  EXPECT_NEAR(b->Predict({{9.0}, {}, 60, 0, 0}), 450, 1e-3);
}

TEST(BaselinesTest, RidgeRejectsRaggedRows) {
  auto b = MakeRidgeBaseline();
  std::vector<CaseSample> rows = {{{1, 2}, {}, 60, 0, 1}, {{1}, {}, 60, 0, 1}};
  Status s = b->Fit(rows);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("row 1"), std::string_view::npos) << s.ToString();
  EXPECT_TRUE(b->Fit({}).IsInvalidArgument());
}

TEST(BaselinesTest, WarmupSlopeExtrapolatesToTheLimit) {
  auto b = MakeWarmupSlopeBaseline();
  CaseSample s;
  s.sample_period_s = 60;
  s.limit_c = 8;
  // Warming 0.5 °C per minute, now at 4 °C: (8 − 4) / (0.5/60) = 480 s.
  s.air_history_c = {1, 1, 1, 2, 2.5, 3, 3.5, 4};
  EXPECT_NEAR(b->Predict(s), 480, 1e-6);
  // Warm-up earlier, cooling now: the latest warming stretch is used.
  s.air_history_c = {1, 1.5, 2, 2.5, 3, 3, 3, 3, 3};
  const double p = b->Predict(s);
  EXPECT_GT(p, 0);
  EXPECT_LT(p, 3600);
  // Never warming: the cap. Already over the limit: 0.
  s.air_history_c = {3, 3, 3, 3, 3, 3};
  EXPECT_DOUBLE_EQ(b->Predict(s), 3600);
  s.air_history_c = {9, 9, 9};
  EXPECT_DOUBLE_EQ(b->Predict(s), 0);
}

TEST(BaselinesTest, AllThreeInOrder) {
  auto all = MakeAllBaselines();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0]->name(), "mean");
  EXPECT_EQ(all[1]->name(), "ridge");
  EXPECT_EQ(all[2]->name(), "warmup_slope");
}

}  // namespace
}  // namespace nemesyst::refrigeration
