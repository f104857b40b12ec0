// Gradients of whole networks (stacked layers, dropout, heads, layout transposes, GAN halves)
// against central finite differences of their own float loss, on the ref backend. The kernels'
// own gradients are checked in double in ref_gradient_test.cc; this checks the plumbing.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/model_impl.h"
#include "kernels/random.h"
#include "tests/kernels/random_floats.h"

namespace nemesyst::kernels {
namespace {

using nemesyst::kernels::testing::RandomFloats;

// Smooth activations (tanh, sigmoid) where possible: a ReLU kink within ε of a pre-activation
// breaks the finite difference, not the gradient.
// Checks every `stride`-th parameter of `params`: analytic (from `step`, which zeroes nothing
// and accumulates into params.grads()) against (loss(p + ε) − loss(p − ε)) / 2ε.
template <typename Step>
void CheckGradients(ParameterSet& params, Step step, const std::function<Status()>& sync,
                    size_t stride) {
  params.ZeroGrads();
  ASSERT_TRUE(step().ok());
  const std::vector<float> analytic = params.grads();
  const float eps = 4e-3f;
  for (size_t k = 0; k < params.size(); k += stride) {
    const float saved = params.values()[k];
    params.values()[k] = saved + eps;
    ASSERT_TRUE(sync().ok());
    auto up = step();
    params.values()[k] = saved - eps;
    ASSERT_TRUE(sync().ok());
    auto down = step();
    params.values()[k] = saved;
    ASSERT_TRUE(sync().ok());
    ASSERT_TRUE(up.ok() && down.ok());
    const double numeric = (*up - *down) / (2.0 * eps);
    EXPECT_NEAR(analytic[k], numeric, 2e-3 + 1e-2 * std::abs(numeric)) << "parameter " << k;
  }
}

struct GradientCase {
  const char* spec;
  int batch, steps, label_width;
};

class RegressorGradientTest : public ::testing::TestWithParam<GradientCase> {};

TEST_P(RegressorGradientTest, MatchesFiniteDifferences) {
  const GradientCase c = GetParam();
  auto spec = ParseModelSpec(c.spec);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto net = RegressorNet::Create(spec->regressor, Backend::kRef, {});
  ASSERT_TRUE(net.ok());
  ASSERT_TRUE((*net)->Initialize(1).ok());
  const auto x = RandomFloats(2, static_cast<size_t>(c.batch) * c.steps * spec->regressor.features);
  const auto y = RandomFloats(3, static_cast<size_t>(c.batch) * c.label_width);
  auto step = [&]() {
    Rng rng(4);  // the same dropout masks for every evaluation
    return (*net)->TrainStep(c.batch, c.steps, x.data(), y.data(), &rng);
  };
  CheckGradients((*net)->params(), step, [&] { return (*net)->SyncWeights(); }, 3);
}

INSTANTIATE_TEST_SUITE_P(
    Specs, RegressorGradientTest,
    ::testing::Values(GradientCase{R"({"kind": "regressor", "input": {"features": 2},
            "recurrent": {"cell": "lstm", "hidden": [3, 4]}, "head": {"hidden": [3], "activation": "tanh"},
            "output": {"width": 2}})",
                                   3, 4, 2},
                      GradientCase{R"({"kind": "regressor", "input": {"features": 2, "steps": 3},
            "recurrent": {"cell": "rnn", "hidden": [4, 3], "dropout": 0.3},
            "output": {"width": 1, "per_step": true}, "loss": "mae"})",
                                   2, 3, 3},
                      GradientCase{R"({"kind": "regressor", "input": {"features": 1},
            "recurrent": {"cell": "lstm", "hidden": [5]}, "head": {"hidden": [4], "activation": "sigmoid"},
            "loss": "bce_with_logits"})",
                                   3, 2, 1},
                      GradientCase{R"({"kind": "regressor", "input": {"features": 2},
            "recurrent": {"cell": "gru", "hidden": [3, 4], "dropout": 0.2}, "head": {"hidden": [3]},
            "output": {"width": 2}})",
                                   3, 4, 2},
                      GradientCase{R"({"kind": "regressor", "input": {"features": 2, "steps": 3},
            "recurrent": {"cell": "gru_classic", "hidden": [4]},
            "output": {"width": 1, "per_step": true}})",
                                   2, 3, 3}));

class GanGradientTest : public ::testing::TestWithParam<const char*> {};

TEST_P(GanGradientTest, BothHalvesMatchFiniteDifferences) {
  auto spec = ParseModelSpec(GetParam());
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto gan = GanNet::Create(spec->gan, Backend::kRef, {});
  ASSERT_TRUE(gan.ok());
  ASSERT_TRUE((*gan)->Initialize(5).ok());
  const int batch = 3;
  const auto real =
      RandomFloats(6, static_cast<size_t>(batch) * spec->gan.steps * spec->gan.features);
  const auto condition = RandomFloats(7, static_cast<size_t>(batch) * spec->gan.condition);
  const float* cond = spec->gan.condition ? condition.data() : nullptr;
  auto sync = [&] { return (*gan)->SyncWeights(); };
  auto d_step = [&]() -> Result<double> {
    Rng rng(8);
    NEMESYST_ASSIGN_OR_RETURN(auto r, (*gan)->DiscriminatorStep(batch, real.data(), cond, rng));
    return r.loss;
  };
  CheckGradients((*gan)->discriminator_params(), d_step, sync, 2);
  auto g_step = [&]() {
    Rng rng(9);
    return (*gan)->GeneratorStep(batch, cond, rng);
  };
  CheckGradients((*gan)->generator_params(), g_step, sync, 2);
}

INSTANTIATE_TEST_SUITE_P(
    Specs, GanGradientTest,
    ::testing::Values(
        R"({"kind": "gan", "window": {"steps": 3, "features": 2}, "noise": 2, "condition": 1,
            "generator": {"type": "lstm", "hidden": [3], "head": [2], "output_activation": "tanh"},
            "discriminator": {"type": "rnn", "hidden": [3, 2], "head": [2]}})",
        R"({"kind": "gan", "window": {"steps": 4, "features": 1}, "noise": 3,
            "generator": {"type": "dense", "hidden": [4], "activation": "tanh"},
            "discriminator": {"type": "dense", "hidden": [5], "activation": "tanh"}})"));

}  // namespace
}  // namespace nemesyst::kernels
