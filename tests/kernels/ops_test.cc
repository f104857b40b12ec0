// Activations, losses, optimisers, clipping, dropout and the PRNG.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/activation.h"
#include "kernels/dropout.h"
#include "kernels/loss.h"
#include "kernels/optimizer.h"
#include "kernels/random.h"

namespace nemesyst::kernels {
namespace {

TEST(ActivationTest, BackwardMatchesFiniteDifferences) {
  const std::vector<float> x = {-2.0f, -0.7f, -0.1f, 0.2f, 0.9f, 3.0f};
  const std::vector<float> dy = {0.3f, -1.0f, 0.5f, 2.0f, -0.4f, 1.0f};
  for (Activation a : {Activation::kLinear, Activation::kSigmoid, Activation::kTanh,
                       Activation::kRelu, Activation::kLeakyRelu}) {
    std::vector<float> y(x.size()), dx(x.size());
    ActivationForward(a, x.size(), x.data(), y.data());
    ActivationBackward(a, x.size(), x.data(), y.data(), dy.data(), dx.data());
    for (size_t k = 0; k < x.size(); ++k) {
      const float eps = 1e-3f;
      float up, down;
      const float xu = x[k] + eps, xd = x[k] - eps;
      ActivationForward(a, 1, &xu, &up);
      ActivationForward(a, 1, &xd, &down);
      EXPECT_NEAR(dx[k], dy[k] * (up - down) / (2 * eps), 2e-3) << ActivationName(a) << " " << k;
    }
  }
  float v = -2.0f, out;
  ActivationForward(Activation::kLeakyRelu, 1, &v, &out);
  EXPECT_FLOAT_EQ(out, -0.02f);
  EXPECT_TRUE(ParseActivation("softmax").status().IsInvalidArgument());
  EXPECT_EQ(*ParseActivation("leaky_relu"), Activation::kLeakyRelu);
}

TEST(LossTest, ValuesAndGradients) {
  const std::vector<float> p = {0.5f, -1.0f, 2.0f, 0.0f};
  const std::vector<float> t = {0.0f, -1.5f, 2.0f, 1.0f};
  std::vector<float> g(4);
  EXPECT_NEAR(ComputeLoss(Loss::kMse, 4, p.data(), t.data(), g.data()), (0.25 + 0.25 + 0 + 1) / 4,
              1e-9);
  EXPECT_NEAR(g[0], 2 * 0.5 / 4, 1e-7);
  EXPECT_NEAR(ComputeLoss(Loss::kMae, 4, p.data(), t.data(), g.data()), (0.5 + 0.5 + 0 + 1) / 4,
              1e-9);
  EXPECT_FLOAT_EQ(g[2], 0.0f);
  EXPECT_FLOAT_EQ(g[3], -0.25f);
  // BCE with logits: against log(1 + e^-p) written out, and stable for huge logits.
  const std::vector<float> bt = {1.0f, 0.0f, 1.0f, 0.5f};
  double expect = 0;
  for (int k = 0; k < 4; ++k) {
    const double s = 1 / (1 + std::exp(-double(p[k])));
    expect += -(bt[k] * std::log(s) + (1 - bt[k]) * std::log(1 - s));
  }
  EXPECT_NEAR(ComputeLoss(Loss::kBceWithLogits, 4, p.data(), bt.data(), g.data()), expect / 4,
              1e-7);
  for (int k = 0; k < 4; ++k) {
    const float eps = 1e-2f;
    std::vector<float> pu = p, pd = p;
    pu[k] += eps;
    pd[k] -= eps;
    const double num = (ComputeLoss(Loss::kBceWithLogits, 4, pu.data(), bt.data(), nullptr) -
                        ComputeLoss(Loss::kBceWithLogits, 4, pd.data(), bt.data(), nullptr)) /
                       (2 * eps);
    EXPECT_NEAR(g[k], num, 1e-4);
  }
  const float big = 500.0f, one = 1.0f, zero = 0.0f;
  EXPECT_NEAR(ComputeLoss(Loss::kBceWithLogits, 1, &big, &one, nullptr), 0.0, 1e-12);
  EXPECT_NEAR(ComputeLoss(Loss::kBceWithLogits, 1, &big, &zero, nullptr), 500.0, 1e-9);
}

TEST(LossTest, PinballValueGradientAndFiniteDifferences) {
  // τ = 0.1: an under-prediction (t > p) costs 0.1 per unit, an over-prediction 0.9.
  const std::vector<float> p = {0.5f, -1.0f, 2.0f, 0.0f};
  const std::vector<float> t = {0.0f, -1.5f, 2.0f, 1.0f};
  std::vector<float> g(4);
  const double tau = 0.1;
  EXPECT_NEAR(ComputeLoss(Loss::kPinball, 4, p.data(), t.data(), g.data(), tau),
              (0.9 * 0.5 + 0.9 * 0.5 + 0 + 0.1 * 1.0) / 4, 1e-9);
  EXPECT_FLOAT_EQ(g[0], 0.9f / 4);
  EXPECT_FLOAT_EQ(g[1], 0.9f / 4);
  EXPECT_FLOAT_EQ(g[2], 0.0f);  // at the kink: 0, like MAE
  EXPECT_FLOAT_EQ(g[3], -0.1f / 4);
  // Away from the kink the gradient is the derivative of the value.
  for (int k : {0, 1, 3}) {
    const float eps = 1e-2f;
    std::vector<float> pu = p, pd = p;
    pu[k] += eps;
    pd[k] -= eps;
    const double num = (ComputeLoss(Loss::kPinball, 4, pu.data(), t.data(), nullptr, tau) -
                        ComputeLoss(Loss::kPinball, 4, pd.data(), t.data(), nullptr, tau)) /
                       (2 * eps);
    EXPECT_NEAR(g[k], num, 1e-5) << k;
  }
  // τ = 0.5 is half the MAE; the minimiser over a constant is the τ-quantile of the targets.
  EXPECT_NEAR(ComputeLoss(Loss::kPinball, 4, p.data(), t.data(), nullptr, 0.5),
              0.5 * ComputeLoss(Loss::kMae, 4, p.data(), t.data(), nullptr), 1e-12);
  std::vector<float> targets(100);
  for (int i = 0; i < 100; ++i) targets[i] = static_cast<float>(i);
  double best = 1e300;
  float argmin = -1;
  for (float c = 0; c < 100; c += 0.5f) {
    const std::vector<float> constant(100, c);
    const double v =
        ComputeLoss(Loss::kPinball, 100, constant.data(), targets.data(), nullptr, 0.05);
    if (v < best - 1e-12) best = v, argmin = c;
  }
  EXPECT_GE(argmin, 4.0f);
  EXPECT_LE(argmin, 5.0f);
  EXPECT_EQ(*ParseLoss("pinball"), Loss::kPinball);
  EXPECT_EQ(LossName(Loss::kPinball), "pinball");
}

TEST(OptimizerTest, SgdMomentumByHand) {
  OptimizerOptions o;
  o.kind = OptimizerKind::kSgd;
  o.learning_rate = 0.1;
  o.momentum = 0.5;
  Optimizer opt(o, 1);
  float p = 1.0f;
  const float g = 2.0f;
  opt.Step(&p, &g);  // v = 2, p = 1 - 0.2
  EXPECT_FLOAT_EQ(p, 0.8f);
  opt.Step(&p, &g);  // v = 0.5·2 + 2 = 3, p = 0.8 − 0.3
  EXPECT_FLOAT_EQ(p, 0.5f);
}

TEST(OptimizerTest, AdamFirstStepIsLearningRateTimesSign) {
  OptimizerOptions o;  // Adam defaults
  o.learning_rate = 0.01;
  Optimizer opt(o, 2);
  float p[2] = {1.0f, 1.0f};
  const float g[2] = {3.0f, -0.001f};
  opt.Step(p, g);  // bias-corrected m/√v = sign(g) on the first step
  EXPECT_NEAR(p[0], 0.99f, 1e-6);
  EXPECT_NEAR(p[1], 1.01f, 1e-5);
  // Minimises a quadratic.
  float x = 5.0f;
  Optimizer quad(o, 1);
  for (int i = 0; i < 3000; ++i) {
    const float grad = 2 * (x - 2);
    quad.Step(&x, &grad);
  }
  EXPECT_NEAR(x, 2.0f, 1e-2);
}

// The fp32 update against the textbook formula in double, over 5 steps with weight decay, on an
// odd count (the padded tail); and each element's result is independent of where it sits: a
// buffer of n updated at once equals n one-element optimisers bit for bit.
TEST(OptimizerTest, AdamMatchesTheFormulaInDoubleAndIgnoresPosition) {
  OptimizerOptions o;
  o.learning_rate = 0.003;
  o.weight_decay = 0.01;
  const size_t n = 1003;
  Rng rng(11);
  std::vector<float> p(n), g(n);
  for (size_t k = 0; k < n; ++k) p[k] = static_cast<float>(rng.Normal());
  std::vector<float> alone = p;
  std::vector<double> ref(p.begin(), p.end()), m(n, 0.0), v(n, 0.0);
  Optimizer opt(o, n);
  std::vector<Optimizer> singles(n, Optimizer(o, 1));
  for (int step = 1; step <= 5; ++step) {
    for (size_t k = 0; k < n; ++k) g[k] = static_cast<float>(rng.Normal() * (k % 7 + 1));
    opt.Step(p.data(), g.data());
    for (size_t k = 0; k < n; ++k) singles[k].Step(&alone[k], &g[k]);
    for (size_t k = 0; k < n; ++k) {
      const double gk = g[k] + o.weight_decay * ref[k];
      m[k] = o.beta1 * m[k] + (1 - o.beta1) * gk;
      v[k] = o.beta2 * v[k] + (1 - o.beta2) * gk * gk;
      const double m_hat = m[k] / (1 - std::pow(o.beta1, step));
      const double v_hat = v[k] / (1 - std::pow(o.beta2, step));
      ref[k] -= o.learning_rate * m_hat / (std::sqrt(v_hat) + o.epsilon);
    }
  }
  for (size_t k = 0; k < n; ++k) {
    // Each step moves a parameter by about lr; fp32 keeps that to ~1e-6 of the parameter.
    ASSERT_NEAR(p[k], ref[k], 1e-5 * (1 + std::abs(ref[k]))) << k;
    ASSERT_EQ(p[k], alone[k]) << k;
  }
}

TEST(ClipTest, NormSumsEveryElement) {
  // 11 elements: the four-way sums and the tail all count; 1² + ... + 11² = 506.
  std::vector<float> g(11);
  for (int k = 0; k < 11; ++k) g[k] = static_cast<float>(k + 1);
  EXPECT_DOUBLE_EQ(ClipByGlobalNorm(g.data(), g.size(), 0.0), std::sqrt(506.0));
  EXPECT_DOUBLE_EQ(ClipByGlobalNorm(g.data(), g.size(), std::sqrt(506.0) / 2), std::sqrt(506.0));
  for (int k = 0; k < 11; ++k) EXPECT_NEAR(g[k], (k + 1) / 2.0, 1e-6) << k;
}

TEST(ClipTest, GlobalNorm) {
  std::vector<float> g = {3.0f, 4.0f};
  EXPECT_DOUBLE_EQ(ClipByGlobalNorm(g.data(), 2, 10.0), 5.0);
  EXPECT_FLOAT_EQ(g[0], 3.0f);  // within the limit: untouched
  EXPECT_DOUBLE_EQ(ClipByGlobalNorm(g.data(), 2, 1.0), 5.0);
  EXPECT_NEAR(g[0], 0.6f, 1e-7);
  EXPECT_NEAR(g[1], 0.8f, 1e-7);
  EXPECT_NEAR(ClipByGlobalNorm(g.data(), 2, 0.0), 1.0, 1e-6);  // off
}

TEST(DropoutTest, KeepsExpectationAndIsSeeded) {
  const size_t n = 100000;
  std::vector<float> x(n, 1.0f), y(n), mask(n), y2(n), mask2(n);
  Rng rng(3), rng2(3);
  DropoutForward(rng, 0.3, n, x.data(), mask.data(), y.data());
  DropoutForward(rng2, 0.3, n, x.data(), mask2.data(), y2.data());
  EXPECT_EQ(y, y2);
  double sum = 0, dropped = 0;
  for (size_t k = 0; k < n; ++k) {
    sum += y[k];
    dropped += mask[k] == 0.0f;
  }
  EXPECT_NEAR(sum / n, 1.0, 0.01);
  EXPECT_NEAR(dropped / n, 0.3, 0.01);
  std::vector<float> dx(n);
  DropoutBackward(n, mask.data(), x.data(), dx.data());
  EXPECT_EQ(dx, y);
}

TEST(RngTest, FixedSequenceAndDistributions) {
  // splitmix64 reference value for state 0 (first output), from the published algorithm.
  uint64_t state = 0;
  EXPECT_EQ(SplitMix64(state), 0xe220a8397b1dcdafULL);
  Rng a(42), b(42), c(43);
  EXPECT_EQ(a.NextU64(), b.NextU64());
  EXPECT_NE(a.NextU64(), c.NextU64());
  double sum = 0, sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double z = a.Normal();
    sum += z;
    sq += z * z;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sq / n, 1.0, 0.01);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(a.Below(7), 7u);
}

}  // namespace
}  // namespace nemesyst::kernels
