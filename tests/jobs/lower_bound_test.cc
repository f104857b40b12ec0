// The conformal lower bound's arithmetic and its two stored forms (nemesyst/lower_bound.h).
#include "nemesyst/lower_bound.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace nemesyst {
namespace {

std::vector<double> Iota(size_t n, double start) {
  std::vector<double> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

TEST(ConformalQuantileTest, TheExactFiniteSampleIndex) {
  // n = 19, α = 0.05: k = ⌈20 · 0.95⌉ = 19, the largest (an exact product must not round up).
  EXPECT_DOUBLE_EQ(*ConformalQuantile(Iota(19, 1), 0.05), 19);
  // n = 99, α = 0.1: k = ⌈100 · 0.9⌉ = 90. Shuffled input: order does not matter.
  std::vector<double> s = Iota(99, 1);
  std::reverse(s.begin(), s.end());
  EXPECT_DOUBLE_EQ(*ConformalQuantile(s, 0.1), 90);
  // n = 100, α = 0.1: k = ⌈101 · 0.9⌉ = ⌈90.9⌉ = 91.
  EXPECT_DOUBLE_EQ(*ConformalQuantile(Iota(100, 1), 0.1), 91);
  // n = 18, α = 0.05: k = ⌈19 · 0.95⌉ = 19 > 18: too few.
  EXPECT_EQ(ConformalQuantile(Iota(18, 1), 0.05).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ConformalQuantile({}, 0.05).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(ConformalQuantile(Iota(5, 1), 0).status().IsInvalidArgument());
  EXPECT_TRUE(ConformalQuantile(Iota(5, 1), 1).status().IsInvalidArgument());
  EXPECT_TRUE(ConformalQuantile({1, std::nan("")}, 0.5).status().IsInvalidArgument());
}

TEST(FitLowerBoundTest, MarginPerGroupAndPooledFallback) {
  // Group "0": 19 windows over-predicting by 1..19 s; group "1": 39 windows by 101..139 s;
  // group "2": 5 windows (too few for α = 0.05: needs 19) → the pooled margin.
  std::vector<double> predicted, truth;
  std::vector<std::string> group;
  auto add = [&](const std::string& g, double over) {
    truth.push_back(1000);
    predicted.push_back(1000 + over);
    group.push_back(g);
  };
  for (int i = 1; i <= 19; ++i) add("0", i);
  for (int i = 101; i <= 139; ++i) add("1", i);
  for (int i = 0; i < 5; ++i) add("2", -50);
  auto c = FitLowerBound(predicted, truth, group, 0.05, "case_type");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->group_field, "case_type");
  EXPECT_DOUBLE_EQ(c->groups.at("0").margin_s, 19);  // k = 19 of 19
  EXPECT_EQ(c->groups.at("0").n, 19u);
  EXPECT_DOUBLE_EQ(c->groups.at("1").margin_s, 138);  // k = ⌈40 · 0.95⌉ = 38 → 101 + 37
  EXPECT_FALSE(c->groups.at("1").pooled_fallback);
  // Pooled: 63 scores, k = ⌈64 · 0.95⌉ = 61; sorted: five −50, 1..19, 101..139 → the 61st is 137.
  EXPECT_EQ(c->pooled.n, 63u);
  EXPECT_DOUBLE_EQ(c->pooled.margin_s, 137);
  EXPECT_TRUE(c->groups.at("2").pooled_fallback);
  EXPECT_DOUBLE_EQ(c->groups.at("2").margin_s, 137);
  EXPECT_EQ(c->groups.at("2").n, 5u);

  EXPECT_DOUBLE_EQ(LowerBound(*c, 500, "0"), 481);
  EXPECT_DOUBLE_EQ(LowerBound(*c, 500, "7"), 363);  // unseen: pooled
  EXPECT_DOUBLE_EQ(LowerBound(*c, 500, ""), 363);
  EXPECT_DOUBLE_EQ(LowerBound(*c, 100, "1"), 0);  // clamped at 0

  // No groups: one pooled margin. Too few windows overall: FailedPrecondition.
  auto pooled = FitLowerBound(predicted, truth, {}, 0.05, "");
  ASSERT_TRUE(pooled.ok());
  EXPECT_TRUE(pooled->groups.empty());
  EXPECT_DOUBLE_EQ(pooled->pooled.margin_s, 137);
  EXPECT_EQ(FitLowerBound({1, 2}, {1, 2}, {}, 0.05, "").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(FitLowerBound({1, 2}, {1}, {}, 0.05, "").status().IsInvalidArgument());
  EXPECT_TRUE(FitLowerBound({1, 2}, {1, 2}, {"a"}, 0.05, "").status().IsInvalidArgument());
}

TEST(FitLowerBoundTest, CoverageOnExchangeableDataIsAtMostTheRisk) {
  // Scores from a deterministic sequence: calibrate on one half, check the other.
  std::vector<double> pred, truth;
  uint64_t x = 12345;
  for (int i = 0; i < 4000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    truth.push_back(static_cast<double>(x >> 40) / (1 << 24) * 1000);
    pred.push_back(500);
  }
  std::vector<double> cal_p(pred.begin(), pred.begin() + 2000),
      cal_t(truth.begin(), truth.begin() + 2000);
  auto c = FitLowerBound(cal_p, cal_t, {}, 0.05, "");
  ASSERT_TRUE(c.ok());
  int miss = 0;
  for (int i = 2000; i < 4000; ++i) miss += truth[i] < LowerBound(*c, pred[i], "");
  EXPECT_NEAR(miss / 2000.0, 0.05, 0.01);
}

TEST(LowerBoundFormsTest, GroupValueText) {
  EXPECT_EQ(LowerBoundGroupValue(2.0), "2");
  EXPECT_EQ(LowerBoundGroupValue(-0.0), "0");
  EXPECT_EQ(LowerBoundGroupValue(-3.0), "-3");
  EXPECT_EQ(LowerBoundGroupValue(0.25), "0.25");
}

LowerBoundCalibration Sample() {
  LowerBoundCalibration c;
  c.risk = 0.05;
  c.group_field = "case_type";
  c.pooled = {120.5, 400, false};
  c.groups["0"] = {80.25, 300, false};
  c.groups["3"] = {120.5, 7, true};
  return c;
}

void ExpectSame(const LowerBoundCalibration& a, const LowerBoundCalibration& b) {
  EXPECT_DOUBLE_EQ(a.risk, b.risk);
  EXPECT_EQ(a.group_field, b.group_field);
  EXPECT_DOUBLE_EQ(a.pooled.margin_s, b.pooled.margin_s);
  EXPECT_EQ(a.pooled.n, b.pooled.n);
  ASSERT_EQ(a.groups.size(), b.groups.size());
  for (const auto& [g, m] : a.groups) {
    ASSERT_EQ(b.groups.count(g), 1u) << g;
    EXPECT_DOUBLE_EQ(m.margin_s, b.groups.at(g).margin_s);
    EXPECT_EQ(m.n, b.groups.at(g).n);
    EXPECT_EQ(m.pooled_fallback, b.groups.at(g).pooled_fallback);
  }
}

TEST(LowerBoundFormsTest, FileAndRegistryFormsRoundTrip) {
  const LowerBoundCalibration c = Sample();
  auto file = ParseLowerBound(LowerBoundToJson(c));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ExpectSame(c, *file);

  ModelMetadata meta;
  AddLowerBoundMetadata(c, &meta);
  EXPECT_DOUBLE_EQ(meta.metrics.at("lower_risk"), 0.05);
  EXPECT_DOUBLE_EQ(meta.metrics.at("lower_margin_s"), 120.5);
  EXPECT_DOUBLE_EQ(meta.metrics.at("lower_n"), 400);
  EXPECT_DOUBLE_EQ(meta.metrics.at("lower_margin_s:0"), 80.25);
  EXPECT_DOUBLE_EQ(meta.metrics.at("lower_n:3"), 7);
  EXPECT_DOUBLE_EQ(meta.metrics.at("lower_fallback:3"), 1);
  EXPECT_EQ(meta.hyper_parameters.at("lower_group_field"), "case_type");
  auto back = LowerBoundFromMetadata(meta);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_TRUE(back->has_value());
  ExpectSame(c, **back);
  EXPECT_FALSE(LowerBoundFromMetadata(ModelMetadata{})->has_value());
}

TEST(LowerBoundFormsTest, BadFileFormsNameTheKey) {
  for (const char* bad :
       {"[]", "{\"method\":\"conformal\"}", "{\"method\":\"quantile\",\"risk\":0.05}",
        "{\"method\":\"conformal\",\"risk\":2,\"pooled\":{\"margin_s\":1,\"n\":3}}",
        "{\"method\":\"conformal\",\"risk\":0.05,\"pooled\":{\"margin_s\":\"x\",\"n\":3}}",
        "{\"method\":\"conformal\",\"risk\":0.05,\"pooled\":{\"margin_s\":1,\"n\":3},"
        "\"groups\":{\"0\":{\"margin_s\":1}}}",
        "not json"}) {
    auto r = ParseLowerBound(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << bad;
    EXPECT_NE(r.status().message().find("\"lower_bound\""), std::string_view::npos)
        << r.status().ToString();
  }
}

}  // namespace
}  // namespace nemesyst
