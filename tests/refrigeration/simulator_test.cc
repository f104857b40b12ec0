// Physical sanity of the fleet simulator on a generated fleet (docs/case-study.md): duty cycles,
// defrost schedules, plausible temperatures, safe_off_s monotone in temperature, determinism.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <vector>

#include "nemesyst/refrigeration/simulator.h"
#include "tests/refrigeration/case_samples.h"

namespace nemesyst::refrigeration {
namespace {

bool IsFrozen(CaseType type) {
  return type == CaseType::kFrozenWell || type == CaseType::kFrozenGlassDoor;
}

SimulatorOptions SmallFleetOptions() {
  SimulatorOptions options;
  options.seed = 7;
  options.stores = 3;
  options.cases_per_store = 8;
  options.days = 2;
  options.type_mix = {1, 1, 1, 1};
  return options;
}

using nemesyst::testing::Collect;

TEST(SimulatorTest, RejectsInvalidOptions) {
  SimulatorOptions options;
  options.stores = 0;
  EXPECT_NE(FleetSimulator::Create(options).status().message().find("stores"), std::string::npos);
  options = SimulatorOptions();
  options.type_mix = {0, 0, 0, 0};
  EXPECT_TRUE(FleetSimulator::Create(options).status().IsInvalidArgument());
  options = SimulatorOptions();
  options.interval_s = 0;
  EXPECT_TRUE(FleetSimulator::Create(options).status().IsInvalidArgument());
}

TEST(SimulatorTest, DutyCyclesAndTemperaturesArePlausible) {
  SimulatorOptions options = SmallFleetOptions();
  options.fault_rate = 0;  // judge the physics, not the faulty sensors
  auto sim = FleetSimulator::Create(options);
  ASSERT_TRUE(sim.ok());
  std::map<int, int> types_seen;
  for (const CaseInfo& info : (*sim)->cases()) {
    ++types_seen[static_cast<int>(info.params.type)];
    const std::vector<SimSample> samples = Collect(**sim, info.index);
    ASSERT_GT(samples.size(), 2000u);
    int cooling = 0, counted = 0;
    int64_t last_defrost_us = -1;
    for (const SimSample& s : samples) {
      if (s.values[kDefrost] > 0.5f) {
        last_defrost_us = s.time_us;
        continue;
      }
      ++counted;
      cooling += s.values[kCooling] > 0.5f;
      // Outside defrost and its 45-minute pull-down, air-off stays in the type's band.
      if (last_defrost_us >= 0 && s.time_us - last_defrost_us < 45LL * 60 * 1000000) continue;
      const float air_off = s.values[kAirOffC];
      if (IsFrozen(info.params.type)) {
        EXPECT_GT(air_off, -30.0f) << info.device;
        EXPECT_LT(air_off, -15.0f) << info.device;
      } else {
        EXPECT_GT(air_off, -4.0f) << info.device;
        EXPECT_LT(air_off, 8.0f) << info.device;
      }
      EXPECT_GT(s.values[kAmbientC], 17.0f);
      EXPECT_LT(s.values[kAmbientC], 24.0f);
      EXPECT_GE(s.values[kSafeOffS], 0.0f);
      EXPECT_LE(s.values[kSafeOffS], 3600.0f);
    }
    const double duty = static_cast<double>(cooling) / counted;
    EXPECT_GE(duty, 0.2) << info.device << " " << CaseTypeName(info.params.type);
    EXPECT_LE(duty, 0.9) << info.device << " " << CaseTypeName(info.params.type);
  }
  EXPECT_EQ(types_seen.size(), 4u);  // with equal weights and 24 cases, every type appears
}

TEST(SimulatorTest, DefrostsFollowTheirSchedule) {
  auto sim = FleetSimulator::Create(SmallFleetOptions());
  ASSERT_TRUE(sim.ok());
  for (const CaseInfo& info : (*sim)->cases()) {
    const CaseParams& p = info.params;
    std::vector<int64_t> starts;  // defrost starts seen with the sample before them delivered
    bool prev = false;
    int64_t prev_us = -1;
    for (const SimSample& s : Collect(**sim, info.index)) {
      const bool on = s.values[kDefrost] > 0.5f;
      const bool contiguous = s.time_us - prev_us == 60LL * 1000000;
      if (on && !prev && contiguous) starts.push_back(s.time_us);
      prev = on;
      prev_us = s.time_us;
    }
    const double expected = 2 * 86400.0 / p.defrost_interval_s;
    EXPECT_GE(starts.size() + 1.0, std::floor(expected)) << info.device;
    EXPECT_LE(starts.size(), std::ceil(expected) + 1) << info.device;
    for (int64_t start_us : starts) {
      // Each defrost starts within one sample after its scheduled time.
      double phase =
          std::fmod(static_cast<double>(start_us) / 1e6 - p.defrost_phase_s, p.defrost_interval_s);
      if (phase < 0) phase += p.defrost_interval_s;
      EXPECT_LT(phase, 60.0) << info.device;
    }
    if (IsFrozen(p.type)) {
      EXPECT_GE(86400.0 / p.defrost_interval_s, 2.0 - 1e-9);
      EXPECT_LE(86400.0 / p.defrost_interval_s, 4.0 + 1e-9);
    }
  }
}

TEST(SimulatorTest, SafeOffDecreasesAsTheCaseIsWarmer) {
  auto sim = FleetSimulator::Create(SmallFleetOptions());
  ASSERT_TRUE(sim.ok());
  for (const CaseInfo& info : (*sim)->cases()) {
    const CaseParams& p = info.params;
    const double product = p.cut_in_c - 0.5;
    double previous = 1e9;
    for (double air = p.limit_c - 9.0; air < p.limit_c; air += 0.5) {
      const double s = SafeOffSeconds(p, air, product, 20.0, 1.0);
      EXPECT_LE(s, previous) << info.device << " air " << air;
      previous = s;
    }
    EXPECT_EQ(SafeOffSeconds(p, p.limit_c + 0.1, product, 20.0, 1.0), 0.0);
    // Warmer product, same air: less time.
    EXPECT_LE(SafeOffSeconds(p, p.cut_in_c, product + 2.0, 20.0, 1.0),
              SafeOffSeconds(p, p.cut_in_c, product, 20.0, 1.0));
  }
}

TEST(SimulatorTest, SafeOffMatchesSteppingThePhysics) {
  auto sim = FleetSimulator::Create(SmallFleetOptions());
  ASSERT_TRUE(sim.ok());
  for (const CaseInfo& info : (*sim)->cases()) {
    const CaseParams& p = info.params;
    double air = p.cut_in_c - 1.0, product = p.cut_in_c - 1.5;
    const double ambient = 21.0, k = 1.2;
    const double closed = SafeOffSeconds(p, air, product, ambient, k);
    double t = 0;
    const double dt = 0.05;
    while (air < p.limit_c && t < 3600) {
      const double qa =
          p.ua_ambient_w_per_k * k * (ambient - air) + p.ua_air_product_w_per_k * (product - air);
      const double qp = p.ua_air_product_w_per_k * (air - product);
      air += dt * qa / p.air_capacity_j_per_k;
      product += dt * qp / p.product_capacity_j_per_k;
      t += dt;
    }
    EXPECT_NEAR(closed, t, 1.0) << info.device;
  }
}

TEST(SimulatorTest, LabelsSpanHundredsToThousandsOfSeconds) {
  auto sim = FleetSimulator::Create(SmallFleetOptions());
  ASSERT_TRUE(sim.ok());
  std::vector<float> labels;
  for (const CaseInfo& info : (*sim)->cases()) {
    for (const SimSample& s : Collect(**sim, info.index)) {
      if (s.values[kDefrost] < 0.5f) labels.push_back(s.values[kSafeOffS]);
    }
  }
  std::sort(labels.begin(), labels.end());
  const float p10 = labels[labels.size() / 10], p50 = labels[labels.size() / 2];
  EXPECT_GT(p10, 100.0f);
  EXPECT_LT(p10, 1500.0f);
  EXPECT_GT(p50, 300.0f);
  EXPECT_LT(p50, 3600.0f);
}

TEST(SimulatorTest, DeterministicBySeedAndIndependentOfOrder) {
  SimulatorOptions options = SmallFleetOptions();
  options.days = 0.5;
  auto a = FleetSimulator::Create(options);
  auto b = FleetSimulator::Create(options);
  options.seed = 8;
  auto c = FleetSimulator::Create(options);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  // Same seed: identical samples, whatever order the cases are generated in.
  for (int i = (*a)->options().total_cases() - 1; i >= 0; --i) {
    const auto sa = Collect(**a, i), sb = Collect(**b, i);
    ASSERT_EQ(sa.size(), sb.size());
    for (size_t k = 0; k < sa.size(); ++k) {
      ASSERT_EQ(sa[k].time_us, sb[k].time_us);
      ASSERT_EQ(
          0, std::memcmp(sa[k].values.data(), sb[k].values.data(), sizeof(float) * kSimFieldCount));
    }
  }
  // The fleet feed is the per-case feeds interleaved by time.
  std::map<int, std::vector<SimSample>> by_case;
  ASSERT_TRUE((*a)->GenerateFleet([&](const SimSample* s, size_t n) {
                    for (size_t k = 0; k < n; ++k) by_case[s[k].case_index].push_back(s[k]);
                    return Status::OK();
                  })
                  .ok());
  for (auto& [index, samples] : by_case) {
    const auto single = Collect(**a, index);
    ASSERT_EQ(single.size(), samples.size());
    for (size_t k = 0; k < single.size(); ++k) {
      ASSERT_EQ(single[k].time_us, samples[k].time_us);
      ASSERT_EQ(single[k].values[kAirOffC], samples[k].values[kAirOffC]);
    }
  }
  // Another seed: different data.
  const auto s0 = Collect(**a, 0), s1 = Collect(**c, 0);
  int differ = 0;
  for (size_t k = 0; k < std::min(s0.size(), s1.size()); ++k) {
    differ += s0[k].values[kAirOffC] != s1[k].values[kAirOffC];
  }
  EXPECT_GT(differ, 100);
}

TEST(SimulatorTest, FaultySensorsAndGapsAppearAtTheirRates) {
  SimulatorOptions options = SmallFleetOptions();
  options.stores = 10;
  options.fault_rate = 0.5;
  options.gap_rate = 0.01;
  auto sim = FleetSimulator::Create(options);
  ASSERT_TRUE(sim.ok());
  int faulty = 0, stuck_seen = 0;
  int64_t delivered = 0;
  for (const CaseInfo& info : (*sim)->cases()) {
    const auto samples = Collect(**sim, info.index);
    delivered += static_cast<int64_t>(samples.size());
    if (info.fault == SensorFault::kNone) continue;
    ++faulty;
    ASSERT_GE(info.fault_field, kAirOnC);
    ASSERT_LE(info.fault_field, kAmbientC);
    if (info.fault != SensorFault::kStuck) continue;
    // A stuck sensor repeats one value to the end.
    const float last = samples.back().values[info.fault_field];
    int run = 0;
    for (auto it = samples.rbegin(); it != samples.rend() && it->values[info.fault_field] == last;
         ++it) {
      ++run;
    }
    stuck_seen += run > 20;
  }
  const int cases = options.total_cases();
  EXPECT_GT(faulty, cases / 4);
  EXPECT_LT(faulty, cases * 3 / 4);
  EXPECT_GT(stuck_seen, 0);
  // Gaps of 2-30 samples starting with p = 0.01: roughly 14 % of samples missing.
  const double missing =
      1.0 - static_cast<double>(delivered) / (cases * (*sim)->samples_per_case());
  EXPECT_GT(missing, 0.05);
  EXPECT_LT(missing, 0.25);
}

TEST(SimulatorTest, TrueStateAgreesWithTheSamples) {
  SimulatorOptions options = SmallFleetOptions();
  options.noise_c = 0;
  options.quantum_c = 0;
  options.gap_rate = 0;
  options.fault_rate = 0;
  auto sim = FleetSimulator::Create(options);
  ASSERT_TRUE(sim.ok());
  const auto samples = Collect(**sim, 5);
  for (size_t k : {size_t{0}, size_t{17}, size_t{900}, samples.size() - 1}) {
    auto state = (*sim)->TrueState(5, samples[k].time_us);
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    EXPECT_EQ(state->time_us, samples[k].time_us);
    EXPECT_NEAR(state->air_off_c, samples[k].values[kAirOffC], 1e-4);
    EXPECT_NEAR(state->product_c, samples[k].values[kProductC], 1e-4);
    EXPECT_EQ(state->cooling, samples[k].values[kCooling] > 0.5f);
    EXPECT_NEAR(state->safe_off_s, samples[k].values[kSafeOffS], 0.5);
  }
  EXPECT_FALSE((*sim)->TrueState(99, options.start_us).ok());
  EXPECT_FALSE((*sim)->TrueState(0, options.start_us - 1).ok());
}

TEST(SimulatorTest, ReplaySheddingAgreesWithTheLabel) {
  SimulatorOptions options = SmallFleetOptions();
  auto sim = FleetSimulator::Create(options);
  ASSERT_TRUE(sim.ok());
  std::vector<int> all;
  for (int i = 0; i < options.total_cases(); ++i) all.push_back(i);
  const int64_t t = options.start_us + 14LL * 3600 * 1000000 + 7 * 60 * 1000000;  // 14:07
  for (double duration : {300.0, 1800.0}) {
    auto outcomes = (*sim)->ReplayShedding(all, t, duration);
    ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();
    ASSERT_EQ(outcomes->size(), all.size());
    for (const SheddingOutcome& o : *outcomes) {
      const CaseInfo& info = (*sim)->cases()[o.case_index];
      EXPECT_EQ(o.limit_c, info.params.limit_c);
      EXPECT_GT(o.baseline_kw, 0.0);
      EXPECT_GE(o.shed_kw, 0.0);
      EXPECT_LE(o.shed_kw, o.baseline_kw + 1e-9);
      EXPECT_EQ(o.crossed_limit, o.max_air_c >= o.limit_c);
      // The label is computed with ambient and traffic frozen; the replay lets them evolve. Away
      // from the boundary they must agree on whether the limit is crossed.
      if (o.safe_off_s > duration * 1.3) {
        EXPECT_FALSE(o.crossed_limit) << info.device;
      }
      if (o.safe_off_s < duration * 0.7) {
        EXPECT_TRUE(o.crossed_limit) << info.device;
      }
    }
  }
  EXPECT_FALSE((*sim)->ReplayShedding(all, t, 0).ok());
}

}  // namespace
}  // namespace nemesyst::refrigeration
