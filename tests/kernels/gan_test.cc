// GAN training on a family of sinusoids: the generated windows' statistics must match the real
// ones, and a fresh discriminator trained afterwards must not separate them much better than
// chance (while it separates an untrained generator's windows easily: the test can fail).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "nemesyst/model.h"
#include "tests/kernels/test_providers.h"

namespace nemesyst {
namespace {

constexpr int kSteps = 16;
constexpr double kPeriod = 8.0;

struct Moments {
  double mean = 0, std = 0, lag1 = 0, amp_mean = 0, amp_std = 0;
};

Moments Measure(const std::vector<float>& windows, int steps) {
  const size_t n = windows.size() / steps;
  Moments m;
  double sum = 0, sq = 0;
  for (float v : windows) sum += v;
  m.mean = sum / windows.size();
  for (float v : windows) sq += (v - m.mean) * (v - m.mean);
  m.std = std::sqrt(sq / windows.size());
  double cov = 0;
  size_t pairs = 0;
  std::vector<double> amps;
  for (size_t w = 0; w < n; ++w) {
    const float* x = windows.data() + w * steps;
    for (int t = 0; t + 1 < steps; ++t, ++pairs) cov += (x[t] - m.mean) * (x[t + 1] - m.mean);
    const auto [lo, hi] = std::minmax_element(x, x + steps);
    amps.push_back((*hi - *lo) / 2.0);
  }
  m.lag1 = cov / pairs / (m.std * m.std);
  m.amp_mean = std::accumulate(amps.begin(), amps.end(), 0.0) / n;
  double a2 = 0;
  for (double a : amps) a2 += (a - m.amp_mean) * (a - m.amp_mean);
  m.amp_std = std::sqrt(a2 / n);
  return m;
}

double AmplitudeQuantile(const std::vector<float>& windows, double q) {
  std::vector<double> amps;
  for (size_t w = 0; w < windows.size() / kSteps; ++w) {
    const auto [lo, hi] =
        std::minmax_element(windows.begin() + w * kSteps, windows.begin() + (w + 1) * kSteps);
    amps.push_back((*hi - *lo) / 2.0);
  }
  std::sort(amps.begin(), amps.end());
  return amps[static_cast<size_t>(q * (amps.size() - 1))];
}

// Accuracy on held-out windows of a fresh LSTM classifier trained on real (1) vs fake (0).
double FreshDiscriminatorAccuracy(const std::vector<float>& real, const std::vector<float>& fake) {
  const size_t n = std::min(real.size(), fake.size()) / kSteps;
  const size_t train_n = n * 3 / 4;
  std::vector<float> x_train, y_train, x_test, y_test;
  for (size_t w = 0; w < n; ++w) {
    for (int label = 1; label >= 0; --label) {
      const float* src = (label ? real.data() : fake.data()) + w * kSteps;
      auto& x = w < train_n ? x_train : x_test;
      auto& y = w < train_n ? y_train : y_test;
      x.insert(x.end(), src, src + kSteps);
      y.push_back(static_cast<float>(label));
    }
  }
  auto model = Model::Create(R"({"kind": "regressor", "input": {"features": 1, "steps": 16},
      "recurrent": {"cell": "lstm", "hidden": [16]}, "head": {"hidden": [16]},
      "loss": "bce_with_logits"})",
                             99);
  EXPECT_TRUE(model.ok());
  testing::VectorBatchProvider train(kSteps, 1, 1, x_train, y_train);
  TrainerOptions options;
  options.epochs = 20;
  options.learning_rate = 1e-2;
  EXPECT_TRUE(Trainer(options).Train(**model, train).ok());
  Batch test;
  test.Resize(static_cast<int>(y_test.size()), kSteps, 1, 1);
  test.x = x_test;
  std::vector<float> logits;
  EXPECT_TRUE((*model)->Predict(test, &logits).ok());
  int right = 0;
  for (size_t k = 0; k < logits.size(); ++k) right += (logits[k] > 0) == (y_test[k] > 0.5f);
  return static_cast<double>(right) / logits.size();
}

// Dense generator and discriminator (an LSTM judges afterwards): a sinusoid window is a linear
// image of (a·cos φ, a·sin φ), which an MLP generator can represent exactly, so training is fast
// and stable; recurrent GAN blocks are covered by the gradient and backend tests.
TEST(GanTest, LearnsSinusoidFamily) {
  auto data = testing::Sinusoids(2048, kSteps, kPeriod, 3);
  auto gan = Model::Create(R"({"kind": "gan", "window": {"steps": 16, "features": 1},
      "noise": 4,
      "generator": {"type": "dense", "hidden": [32, 32]},
      "discriminator": {"type": "dense", "hidden": [64, 64]}})",
                           5);
  ASSERT_TRUE(gan.ok()) << gan.status().ToString();
  std::vector<float> untrained;
  ASSERT_TRUE((*gan)->Generate(1024, 11, {}, &untrained).ok());

  TrainerOptions options;
  options.epochs = 100;
  options.batch_size = 64;
  options.learning_rate = 2e-3;
  options.beta1 = 0.5;
  options.seed = 2;
  auto report = Trainer(options).Train(**gan, data);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::vector<float> generated;
  ASSERT_TRUE((*gan)->Generate(1024, 12, {}, &generated).ok());
  auto fresh_real = testing::Sinusoids(1024, kSteps, kPeriod, 4);
  const Moments real = Measure(fresh_real.x(), kSteps), fake = Measure(generated, kSteps);
  // Real: mean 0, std ≈ 0.73, lag-1 autocorrelation cos(2π/8) ≈ 0.71, amplitude U(0.5, 1.5)
  // (mean ≈ 0.96 and std ≈ 0.28 as measured by (max − min) / 2 over 16 samples).
  EXPECT_NEAR(fake.mean, real.mean, 0.05);
  EXPECT_NEAR(fake.std, real.std, 0.1 * real.std);
  EXPECT_NEAR(fake.lag1, real.lag1, 0.05);
  EXPECT_NEAR(fake.amp_mean, real.amp_mean, 0.1);
  EXPECT_NEAR(fake.amp_std, real.amp_std, 0.06);
  for (double q : {0.1, 0.5, 0.9}) {
    EXPECT_NEAR(AmplitudeQuantile(generated, q), AmplitudeQuantile(fresh_real.x(), q), 0.12)
        << "amplitude quantile " << q;
  }
  // Chance is 0.5. The same judge separates the untrained generator's windows almost always.
  EXPECT_GT(FreshDiscriminatorAccuracy(fresh_real.x(), untrained), 0.9);
  EXPECT_LT(FreshDiscriminatorAccuracy(fresh_real.x(), generated), 0.65);
}

TEST(GanTest, SameSeedGivesBitIdenticalWeights) {
  auto data = testing::Sinusoids(128, kSteps, kPeriod, 3);
  std::vector<std::vector<float>> weights;
  for (int run = 0; run < 2; ++run) {
    auto gan = Model::Create(R"({"kind": "gan", "window": {"steps": 16, "features": 1},
        "generator": {"type": "lstm", "hidden": [8]},
        "discriminator": {"type": "lstm", "hidden": [8], "dropout": 0.2}})",
                             5);
    ASSERT_TRUE(gan.ok());
    TrainerOptions options;
    options.epochs = 2;
    options.seed = 4;
    options.clip_norm = 1.0;
    ASSERT_TRUE(Trainer(options).Train(**gan, data).ok());
    weights.push_back((*gan)->Parameters());
  }
  EXPECT_EQ(weights[0], weights[1]);
}

}  // namespace
}  // namespace nemesyst
