#include "kernels/gan_net.h"

#include <algorithm>

#include "kernels/gan_blocks.h"
#include "kernels/loss.h"

namespace nemesyst::kernels {

GanNet::GanNet(const GanSpec& spec) : spec_(spec) {}
GanNet::~GanNet() = default;

Result<std::unique_ptr<GanNet>> GanNet::Create(const GanSpec& spec, Backend backend,
                                               const KernelOptions& options) {
  std::unique_ptr<GanNet> net(new GanNet(spec));
  NEMESYST_ASSIGN_OR_RETURN(net->generator_, GeneratorNet::Create(spec, backend, options));
  NEMESYST_ASSIGN_OR_RETURN(net->discriminator_, DiscriminatorNet::Create(spec, backend, options));
  return net;
}

ParameterSet& GanNet::generator_params() { return generator_->params(); }
ParameterSet& GanNet::discriminator_params() { return discriminator_->params(); }
const ParameterSet& GanNet::generator_params() const { return generator_->params(); }
const ParameterSet& GanNet::discriminator_params() const { return discriminator_->params(); }

Status GanNet::Initialize(uint64_t seed) {
  Rng rng(seed);
  generator_->Initialize(rng);
  discriminator_->Initialize(rng);
  return SyncWeights();
}

Status GanNet::SyncWeights() {
  NEMESYST_RETURN_IF_ERROR(generator_->SyncWeights());
  return discriminator_->SyncWeights();
}

void GanNet::SampleNoise(int batch, Rng& rng) {
  noise_.resize(static_cast<size_t>(batch) * spec_.noise);
  for (float& z : noise_) z = static_cast<float>(rng.Normal());
}

Status GanNet::Generate(int batch, Rng& rng, const float* condition, float* windows) {
  SampleNoise(batch, rng);
  return generator_->Run(batch, noise_.data(), condition, windows, false);
}

Status GanNet::Discriminate(int batch, const float* windows, const float* condition,
                            float* logits) {
  return discriminator_->Run(batch, windows, condition, logits, false, nullptr);
}

Result<GanNet::DiscriminatorStepResult> GanNet::DiscriminatorStep(int batch, const float* real,
                                                                  const float* condition,
                                                                  Rng& rng) {
  const size_t window_n = static_cast<size_t>(spec_.steps) * spec_.features;
  const size_t c = spec_.condition;
  // One discriminator pass over [real; generated], labels [1…1; 0…0].
  both_.resize(2 * batch * window_n);
  std::copy(real, real + batch * window_n, both_.begin());
  SampleNoise(batch, rng);
  NEMESYST_RETURN_IF_ERROR(
      generator_->Run(batch, noise_.data(), condition, both_.data() + batch * window_n, false));
  if (c > 0) {
    both_condition_.resize(2 * batch * c);
    std::copy(condition, condition + batch * c, both_condition_.begin());
    std::copy(condition, condition + batch * c, both_condition_.begin() + batch * c);
  }
  logits_.resize(2 * batch);
  NEMESYST_RETURN_IF_ERROR(discriminator_->Run(2 * batch, both_.data(),
                                               c > 0 ? both_condition_.data() : nullptr,
                                               logits_.data(), true, &rng));
  targets_.assign(2 * batch, 0.0f);
  std::fill(targets_.begin(), targets_.begin() + batch, 1.0f);
  grad_logits_.resize(2 * batch);
  DiscriminatorStepResult result;
  result.loss = ComputeLoss(Loss::kBceWithLogits, 2 * batch, logits_.data(), targets_.data(),
                            grad_logits_.data());
  NEMESYST_RETURN_IF_ERROR(discriminator_->Backward(grad_logits_.data(), nullptr));
  int real_right = 0, fake_right = 0;
  for (int b = 0; b < batch; ++b) {
    real_right += logits_[b] > 0.0f;
    fake_right += logits_[batch + b] < 0.0f;
  }
  result.real_accuracy = static_cast<double>(real_right) / batch;
  result.fake_accuracy = static_cast<double>(fake_right) / batch;
  return result;
}

Result<double> GanNet::GeneratorStep(int batch, const float* condition, Rng& rng) {
  const size_t window_n = static_cast<size_t>(spec_.steps) * spec_.features;
  SampleNoise(batch, rng);
  fake_.resize(batch * window_n);
  NEMESYST_RETURN_IF_ERROR(generator_->Run(batch, noise_.data(), condition, fake_.data(), true));
  logits_.resize(batch);
  NEMESYST_RETURN_IF_ERROR(
      discriminator_->Run(batch, fake_.data(), condition, logits_.data(), true, &rng));
  targets_.assign(batch, 1.0f);  // non-saturating: maximise log D(G(z))
  grad_logits_.resize(batch);
  const double loss = ComputeLoss(Loss::kBceWithLogits, batch, logits_.data(), targets_.data(),
                                  grad_logits_.data());
  grad_windows_.resize(batch * window_n);
  NEMESYST_RETURN_IF_ERROR(discriminator_->Backward(grad_logits_.data(), grad_windows_.data()));
  NEMESYST_RETURN_IF_ERROR(generator_->Backward(grad_windows_.data()));
  return loss;
}

}  // namespace nemesyst::kernels
