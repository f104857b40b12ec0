#include "kernels/dense_stack.h"

#include <algorithm>
#include <cmath>

#include "kernels/dispatch.h"

namespace nemesyst::kernels {

Result<std::unique_ptr<DenseStack>> DenseStack::Create(const DenseStackConfig& config,
                                                       const std::string& prefix,
                                                       ParameterSet* params, Backend backend,
                                                       const KernelOptions& options) {
  std::unique_ptr<DenseStack> stack(new DenseStack(config, params));
  const size_t count = config.hidden.size() + 1;
  int in = config.input;
  for (size_t k = 0; k < count; ++k) {
    const int out = k + 1 == count ? config.output : config.hidden[k];
    NEMESYST_ASSIGN_OR_RETURN(auto kernel, CreateDenseKernel({in, out}, backend, options));
    stack->kernels_.push_back(std::move(kernel));
    const std::string name = prefix + "." + std::to_string(k);
    stack->w_.push_back(params->Add(name + ".w", {out, in}));
    stack->b_.push_back(params->Add(name + ".b", {out}));
    in = out;
  }
  stack->inputs_.resize(count);
  stack->pre_.resize(count);
  stack->post_.resize(count);
  return stack;
}

int DenseStack::Width(size_t k) const {
  return k + 1 == layers() ? config_.output : config_.hidden[k];
}

void DenseStack::Initialize(Rng& rng) {
  int in = config_.input;
  for (size_t k = 0; k < layers(); ++k) {
    const int out = Width(k);
    const double limit = std::sqrt(6.0 / (in + out));
    float* w = params_->value(w_[k]);
    for (size_t i = 0; i < static_cast<size_t>(in) * out; ++i) {
      w[i] = static_cast<float>(rng.Uniform(-limit, limit));
    }
    std::fill(params_->value(b_[k]), params_->value(b_[k]) + out, 0.0f);
    in = out;
  }
}

Status DenseStack::SyncWeights() {
  for (size_t k = 0; k < layers(); ++k) {
    NEMESYST_RETURN_IF_ERROR(kernels_[k]->SetWeights(params_->value(w_[k]), params_->value(b_[k])));
  }
  return Status::OK();
}

Status DenseStack::Forward(int batch, const float* x, float* y) { return Run(batch, x, y, false); }

Status DenseStack::ForwardTrain(int batch, const float* x, float* y) {
  return Run(batch, x, y, true);
}

Status DenseStack::Run(int batch, const float* x, float* y, bool train) {
  if (train) batch_ = batch;
  const float* in = x;
  int in_width = config_.input;
  for (size_t k = 0; k < layers(); ++k) {
    const size_t n = static_cast<size_t>(batch) * Width(k);
    if (train) inputs_[k].assign(in, in + static_cast<size_t>(batch) * in_width);
    pre_[k].resize(n);
    post_[k].resize(n);
    NEMESYST_RETURN_IF_ERROR(kernels_[k]->Forward(batch, in, pre_[k].data()));
    float* out = k + 1 == layers() ? y : post_[k].data();
    ActivationForward(ActivationOf(k), n, pre_[k].data(), out);
    if (train && out != post_[k].data()) std::copy(out, out + n, post_[k].begin());
    in = out;
    in_width = Width(k);
  }
  return Status::OK();
}

Status DenseStack::Backward(const float* dy, float* dx) {
  if (batch_ == 0) return Status::FailedPrecondition("dense stack: Backward before ForwardTrain");
  const float* grad_out = dy;
  for (size_t k = layers(); k-- > 0;) {
    const size_t n = static_cast<size_t>(batch_) * Width(k);
    grad_a_.resize(n);
    ActivationBackward(ActivationOf(k), n, pre_[k].data(), post_[k].data(), grad_out,
                       grad_a_.data());
    float* grad_in = dx;
    if (k > 0) {
      grad_b_.resize(static_cast<size_t>(batch_) * Width(k - 1));
      grad_in = grad_b_.data();
    }
    NEMESYST_RETURN_IF_ERROR(kernels_[k]->Backward(batch_, inputs_[k].data(), grad_a_.data(),
                                                   grad_in, params_->grad(w_[k]),
                                                   params_->grad(b_[k])));
    if (k > 0) {
      std::swap(grad_a_, grad_b_);
      grad_out = grad_a_.data();
    }
  }
  return Status::OK();
}

}  // namespace nemesyst::kernels
