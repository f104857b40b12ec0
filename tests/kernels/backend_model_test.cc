// Every backend the dispatcher can create here runs whole models (stacked layers, heads, GANs)
// to the ref backend's results. Bounds, relative to each tensor's scale
// (max |a − b| / max(1, max |b|)):
//   forward (predictions, generated windows)  ≤ 1e-5
//   gradients (one training step)              ≤ 1e-4
// Backends not available on this machine or build are reported and skipped.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/dispatch.h"
#include "kernels/model_impl.h"
#include "kernels/random.h"
#include "tests/kernels/random_floats.h"

namespace nemesyst::kernels {
namespace {

using nemesyst::kernels::testing::RandomFloats;

double ScaledError(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, scale = 1;
  for (size_t k = 0; k < b.size(); ++k) {
    diff = std::max(diff, static_cast<double>(std::abs(a[k] - b[k])));
    scale = std::max(scale, static_cast<double>(std::abs(b[k])));
  }
  return diff / scale;
}

// Null when `backend` cannot run `spec` here (then `why` says why).
std::unique_ptr<Model> MakeOrSkip(const std::string& spec, Backend backend, std::string* why) {
  auto model = Model::Create(spec, 21, {.backend = backend});
  if (!model.ok()) {
    EXPECT_EQ(model.status().code(), StatusCode::kUnimplemented) << model.status().ToString();
    *why = model.status().ToString();
    return nullptr;
  }
  return std::move(model).value();
}

struct RegressorCase {
  std::string spec;
  int batch, steps, features, label_width;
};

class BackendRegressorTest : public ::testing::TestWithParam<std::tuple<Backend, RegressorCase>> {};

TEST_P(BackendRegressorTest, ForwardAndGradientsMatchRef) {
  const auto& [backend, c] = GetParam();
  std::string why;
  auto model = MakeOrSkip(c.spec, backend, &why);
  if (!model) GTEST_SKIP() << BackendName(backend) << " not available here: " << why;
  auto ref = Model::Create(c.spec, 21, {.backend = Backend::kRef});
  ASSERT_TRUE(ref.ok());
  ASSERT_EQ(model->Parameters(), (*ref)->Parameters());  // initialisation is backend-free

  Batch batch;
  batch.Resize(c.batch, c.steps, c.features, c.label_width);
  batch.x = RandomFloats(1, batch.x.size());
  batch.y = RandomFloats(2, batch.y.size());
  std::vector<float> out, ref_out;
  ASSERT_TRUE(model->Predict(batch, &out).ok());
  ASSERT_TRUE((*ref)->Predict(batch, &ref_out).ok());
  EXPECT_LE(ScaledError(out, ref_out), 1e-5);

  RegressorNet& net = *ModelInternals::Of(*model)->regressor;
  RegressorNet& ref_net = *ModelInternals::Of(**ref)->regressor;
  net.params().ZeroGrads();
  ref_net.params().ZeroGrads();
  Rng rng(3), ref_rng(3);
  auto loss = net.TrainStep(c.batch, c.steps, batch.x.data(), batch.y.data(), &rng);
  auto ref_loss = ref_net.TrainStep(c.batch, c.steps, batch.x.data(), batch.y.data(), &ref_rng);
  ASSERT_TRUE(loss.ok() && ref_loss.ok()) << loss.status().ToString();
  EXPECT_NEAR(*loss, *ref_loss, 1e-5 * std::max(1.0, std::abs(*ref_loss)));
  for (const TensorInfo& t : net.params().tensors()) {
    std::vector<float> g(net.params().grad(t.offset), net.params().grad(t.offset) + t.size);
    std::vector<float> rg(ref_net.params().grad(t.offset),
                          ref_net.params().grad(t.offset) + t.size);
    EXPECT_LE(ScaledError(g, rg), 1e-4) << t.name;
  }
}

const RegressorCase kRegressorCases[] = {
    {R"({"kind": "regressor", "input": {"features": 3},
        "recurrent": {"cell": "lstm", "hidden": [7, 33]}, "head": {"hidden": [5]},
        "output": {"width": 2}})",
     3, 5, 3, 2},
    {R"({"kind": "regressor", "input": {"features": 2},
        "recurrent": {"cell": "lstm", "hidden": [1]}})",
     1, 1, 2, 1},
    {R"({"kind": "regressor", "input": {"features": 4},
        "recurrent": {"cell": "rnn", "hidden": [33, 7]}})",
     3, 6, 4, 1},
    {R"({"kind": "regressor", "input": {"features": 1, "steps": 4},
        "recurrent": {"cell": "lstm", "hidden": [16]}, "output": {"width": 1, "per_step": true}})",
     64, 4, 1, 4},
    {R"({"kind": "regressor", "input": {"features": 3},
        "recurrent": {"cell": "gru", "hidden": [7, 33]}, "head": {"hidden": [5]},
        "output": {"width": 2}})",
     3, 5, 3, 2},
    {R"({"kind": "regressor", "input": {"features": 4},
        "recurrent": {"cell": "gru_classic", "hidden": [33, 7]}})",
     3, 6, 4, 1},
};

INSTANTIATE_TEST_SUITE_P(All, BackendRegressorTest,
                         ::testing::Combine(::testing::Values(Backend::kAvx2, Backend::kAvx512,
                                                              Backend::kOnednn, Backend::kAuto),
                                            ::testing::ValuesIn(kRegressorCases)));

class BackendGanTest : public ::testing::TestWithParam<Backend> {};

TEST_P(BackendGanTest, GenerationAndGradientsMatchRef) {
  const std::string spec = R"({"kind": "gan", "window": {"steps": 5, "features": 2},
      "noise": 3, "condition": 1,
      "generator": {"type": "lstm", "hidden": [7], "head": [4]},
      "discriminator": {"type": "rnn", "hidden": [9]}})";
  std::string why;
  auto model = MakeOrSkip(spec, GetParam(), &why);
  if (!model) GTEST_SKIP() << BackendName(GetParam()) << " not available here: " << why;
  auto ref = Model::Create(spec, 21, {.backend = Backend::kRef});
  ASSERT_TRUE(ref.ok());
  const int batch = 3;
  const auto condition = RandomFloats(4, batch);
  std::vector<float> windows, ref_windows;
  ASSERT_TRUE(model->Generate(batch, 5, condition, &windows).ok());
  ASSERT_TRUE((*ref)->Generate(batch, 5, condition, &ref_windows).ok());
  EXPECT_LE(ScaledError(windows, ref_windows), 1e-5);

  GanNet& gan = *ModelInternals::Of(*model)->gan;
  GanNet& ref_gan = *ModelInternals::Of(**ref)->gan;
  const auto real = RandomFloats(6, static_cast<size_t>(batch) * 5 * 2);
  for (GanNet* g : {&gan, &ref_gan}) {
    g->discriminator_params().ZeroGrads();
    g->generator_params().ZeroGrads();
    Rng rng(7);
    ASSERT_TRUE(g->DiscriminatorStep(batch, real.data(), condition.data(), rng).ok());
    ASSERT_TRUE(g->GeneratorStep(batch, condition.data(), rng).ok());
  }
  EXPECT_LE(ScaledError(gan.discriminator_params().grads(), ref_gan.discriminator_params().grads()),
            1e-4);
  EXPECT_LE(ScaledError(gan.generator_params().grads(), ref_gan.generator_params().grads()), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(All, BackendGanTest,
                         ::testing::Values(Backend::kAvx2, Backend::kAvx512, Backend::kOnednn,
                                           Backend::kAuto));

}  // namespace
}  // namespace nemesyst::kernels
