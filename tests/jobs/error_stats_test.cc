#include "nemesyst/predictions.h"

#include <gtest/gtest.h>

#include <cmath>

namespace nemesyst {
namespace {

TEST(MetricsTest, MaeAndP90OnKnownErrors) {
  // Absolute errors 0, 10, 20, ..., 90: MAE 45; p90 at h = 0.9·9 = 8.1 -> 80 + 0.1·10 = 81.
  std::vector<double> truth, pred;
  for (int i = 0; i < 10; ++i) {
    truth.push_back(1000);
    pred.push_back(1000 + (i % 2 ? 1 : -1) * 10.0 * i);
  }
  auto s = ComputeErrorStats(truth, pred);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_DOUBLE_EQ(s->mae_s, 45);
  EXPECT_NEAR(s->p90_s, 81, 1e-9);
  EXPECT_EQ(s->count, 10u);
}

TEST(MetricsTest, PercentileEdgeCases) {
  EXPECT_EQ(Percentile({}, 0.9), 0);
  EXPECT_EQ(Percentile({7}, 0.9), 7);
  EXPECT_DOUBLE_EQ(Percentile({3, 1, 2}, 0.5), 2);
  EXPECT_DOUBLE_EQ(Percentile({0, 100}, 0.9), 90);
}

TEST(MetricsTest, ByGroup) {
  auto g = ComputeErrorStatsByGroup({10, 10, 10, 10}, {12, 8, 20, 10},
                                    {"chilled", "chilled", "frozen", "frozen"});
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(g->size(), 2u);
  EXPECT_DOUBLE_EQ(g->at("chilled").mae_s, 2);
  EXPECT_DOUBLE_EQ(g->at("frozen").mae_s, 5);
  EXPECT_EQ(g->at("frozen").count, 2u);
}

TEST(MetricsTest, RejectsMismatchedEmptyAndNonFinite) {
  EXPECT_TRUE(ComputeErrorStats({1, 2}, {1}).status().IsInvalidArgument());
  EXPECT_TRUE(ComputeErrorStats({}, {}).status().IsInvalidArgument());
  EXPECT_TRUE(ComputeErrorStats({1}, {std::nan("")}).status().IsInvalidArgument());
  EXPECT_TRUE(ComputeErrorStatsByGroup({1, 2}, {1, 2}, {"a"}).status().IsInvalidArgument());
}

}  // namespace
}  // namespace nemesyst
