#include "kernels/gan_blocks.h"

#include <algorithm>

#include "kernels/layout.h"

namespace nemesyst::kernels {

// ---- Generator ----------------------------------------------------------------------------------

Result<std::unique_ptr<GeneratorNet>> GeneratorNet::Create(const GanSpec& spec, Backend backend,
                                                           const KernelOptions& options) {
  std::unique_ptr<GeneratorNet> net(new GeneratorNet(spec));
  const GanBlockSpec& g = spec.generator;
  const int in = spec.noise + spec.condition;
  if (net->recurrent()) {
    NEMESYST_ASSIGN_OR_RETURN(
        net->stack_, RecurrentStack::Create({CellOf(g.type), in, g.hidden, 0.0}, "generator.rnn",
                                            &net->params_, backend, options));
    NEMESYST_ASSIGN_OR_RETURN(
        net->head_, DenseStack::Create(
                        {g.hidden.back(), g.head, g.activation, spec.features, g.output_activation},
                        "generator.head", &net->params_, backend, options));
  } else {
    NEMESYST_ASSIGN_OR_RETURN(
        net->head_, DenseStack::Create({in, g.hidden, g.activation, spec.steps * spec.features,
                                        g.output_activation},
                                       "generator.mlp", &net->params_, backend, options));
  }
  net->params_.Allocate();
  return net;
}

void GeneratorNet::Initialize(Rng& rng) {
  if (stack_) stack_->Initialize(rng);
  head_->Initialize(rng);
}

Status GeneratorNet::SyncWeights() {
  if (stack_) NEMESYST_RETURN_IF_ERROR(stack_->SyncWeights());
  return head_->SyncWeights();
}

Status GeneratorNet::Run(int batch, const float* z, const float* condition, float* windows,
                         bool train) {
  const int n = spec_.noise, c = spec_.condition, in = n + c, t_steps = spec_.steps;
  const int f = spec_.features;
  if (train) batch_ = batch;
  input_.resize(static_cast<size_t>(batch) * in);
  for (int b = 0; b < batch; ++b) {
    std::copy(z + static_cast<size_t>(b) * n, z + static_cast<size_t>(b + 1) * n,
              input_.begin() + static_cast<size_t>(b) * in);
    if (c > 0) {
      std::copy(condition + static_cast<size_t>(b) * c, condition + static_cast<size_t>(b + 1) * c,
                input_.begin() + static_cast<size_t>(b) * in + n);
    }
  }
  if (!recurrent()) {
    return train ? head_->ForwardTrain(batch, input_.data(), windows)
                 : head_->Forward(batch, input_.data(), windows);
  }
  const size_t step_n = static_cast<size_t>(batch) * in;
  seq_in_.resize(t_steps * step_n);
  for (int t = 0; t < t_steps; ++t)
    std::copy(input_.begin(), input_.end(), seq_in_.begin() + t * step_n);
  y_top_.resize(static_cast<size_t>(t_steps) * batch * stack_->top_hidden());
  if (train) {
    NEMESYST_RETURN_IF_ERROR(stack_->ForwardTrain(t_steps, batch, seq_in_.data(), nullptr, nullptr,
                                                  y_top_.data(), nullptr));
  } else {
    NEMESYST_RETURN_IF_ERROR(
        stack_->Forward(t_steps, batch, seq_in_.data(), nullptr, y_top_.data(), nullptr));
  }
  out_tm_.resize(static_cast<size_t>(t_steps) * batch * f);
  const int rows = t_steps * batch;
  NEMESYST_RETURN_IF_ERROR(train ? head_->ForwardTrain(rows, y_top_.data(), out_tm_.data())
                                 : head_->Forward(rows, y_top_.data(), out_tm_.data()));
  TimeToBatchMajor(batch, t_steps, f, out_tm_.data(), windows);
  return Status::OK();
}

Status GeneratorNet::Backward(const float* d_windows) {
  if (!recurrent()) return head_->Backward(d_windows, nullptr);
  const int t_steps = spec_.steps, f = spec_.features;
  grad_tm_.resize(static_cast<size_t>(t_steps) * batch_ * f);
  BatchToTimeMajor(batch_, t_steps, f, d_windows, grad_tm_.data());
  grad_y_top_.resize(static_cast<size_t>(t_steps) * batch_ * stack_->top_hidden());
  NEMESYST_RETURN_IF_ERROR(head_->Backward(grad_tm_.data(), grad_y_top_.data()));
  return stack_->Backward(grad_y_top_.data(), nullptr);
}

// ---- Discriminator ------------------------------------------------------------------------------

Result<std::unique_ptr<DiscriminatorNet>> DiscriminatorNet::Create(const GanSpec& spec,
                                                                   Backend backend,
                                                                   const KernelOptions& options) {
  std::unique_ptr<DiscriminatorNet> net(new DiscriminatorNet(spec));
  const GanBlockSpec& d = spec.discriminator;
  if (net->recurrent()) {
    NEMESYST_ASSIGN_OR_RETURN(
        net->stack_, RecurrentStack::Create(
                         {CellOf(d.type), spec.features + spec.condition, d.hidden, d.dropout},
                         "discriminator.rnn", &net->params_, backend, options));
    NEMESYST_ASSIGN_OR_RETURN(
        net->head_,
        DenseStack::Create({d.hidden.back(), d.head, d.activation, 1, Activation::kLinear},
                           "discriminator.head", &net->params_, backend, options));
  } else {
    NEMESYST_ASSIGN_OR_RETURN(
        net->head_, DenseStack::Create({spec.steps * spec.features + spec.condition, d.hidden,
                                        d.activation, 1, Activation::kLinear},
                                       "discriminator.mlp", &net->params_, backend, options));
  }
  net->params_.Allocate();
  return net;
}

void DiscriminatorNet::Initialize(Rng& rng) {
  if (stack_) stack_->Initialize(rng);
  head_->Initialize(rng);
}

Status DiscriminatorNet::SyncWeights() {
  if (stack_) NEMESYST_RETURN_IF_ERROR(stack_->SyncWeights());
  return head_->SyncWeights();
}

Status DiscriminatorNet::Run(int batch, const float* windows, const float* condition, float* logits,
                             bool train, Rng* rng) {
  const int t_steps = spec_.steps, f = spec_.features, c = spec_.condition;
  if (train) batch_ = batch;
  if (!recurrent()) {
    const int window_n = t_steps * f, in = window_n + c;
    input_.resize(static_cast<size_t>(batch) * in);
    for (int b = 0; b < batch; ++b) {
      float* row = input_.data() + static_cast<size_t>(b) * in;
      std::copy(windows + static_cast<size_t>(b) * window_n,
                windows + static_cast<size_t>(b + 1) * window_n, row);
      if (c > 0)
        std::copy(condition + static_cast<size_t>(b) * c, condition + (b + 1) * c, row + window_n);
    }
    return train ? head_->ForwardTrain(batch, input_.data(), logits)
                 : head_->Forward(batch, input_.data(), logits);
  }
  const int in = f + c;
  input_.resize(static_cast<size_t>(t_steps) * batch * in);  // [T][B][F + C]
  for (int t = 0; t < t_steps; ++t) {
    for (int b = 0; b < batch; ++b) {
      float* dst = input_.data() + (static_cast<size_t>(t) * batch + b) * in;
      const float* src = windows + (static_cast<size_t>(b) * t_steps + t) * f;
      std::copy(src, src + f, dst);
      if (c > 0)
        std::copy(condition + static_cast<size_t>(b) * c, condition + (b + 1) * c, dst + f);
    }
  }
  const int h = stack_->top_hidden();
  y_top_.resize(static_cast<size_t>(t_steps) * batch * h);
  if (train) {
    NEMESYST_RETURN_IF_ERROR(
        stack_->ForwardTrain(t_steps, batch, input_.data(), nullptr, rng, y_top_.data(), nullptr));
  } else {
    NEMESYST_RETURN_IF_ERROR(
        stack_->Forward(t_steps, batch, input_.data(), nullptr, y_top_.data(), nullptr));
  }
  const float* last = y_top_.data() + static_cast<size_t>(t_steps - 1) * batch * h;
  return train ? head_->ForwardTrain(batch, last, logits) : head_->Forward(batch, last, logits);
}

Status DiscriminatorNet::Backward(const float* d_logits, float* d_windows) {
  const int t_steps = spec_.steps, f = spec_.features, c = spec_.condition;
  if (!recurrent()) {
    const int window_n = t_steps * f, in = window_n + c;
    grad_in_.resize(static_cast<size_t>(batch_) * in);
    NEMESYST_RETURN_IF_ERROR(head_->Backward(d_logits, d_windows ? grad_in_.data() : nullptr));
    if (d_windows) {
      for (int b = 0; b < batch_; ++b) {
        std::copy(grad_in_.begin() + static_cast<size_t>(b) * in,
                  grad_in_.begin() + static_cast<size_t>(b) * in + window_n,
                  d_windows + static_cast<size_t>(b) * window_n);
      }
    }
    return Status::OK();
  }
  const int h = stack_->top_hidden(), in = f + c;
  grad_in_.resize(static_cast<size_t>(batch_) * h);
  NEMESYST_RETURN_IF_ERROR(head_->Backward(d_logits, grad_in_.data()));
  grad_y_top_.assign(static_cast<size_t>(t_steps) * batch_ * h, 0.0f);
  std::copy(grad_in_.begin(), grad_in_.end(),
            grad_y_top_.begin() + static_cast<size_t>(t_steps - 1) * batch_ * h);
  if (d_windows) grad_seq_in_.resize(static_cast<size_t>(t_steps) * batch_ * in);
  NEMESYST_RETURN_IF_ERROR(
      stack_->Backward(grad_y_top_.data(), d_windows ? grad_seq_in_.data() : nullptr));
  if (d_windows) {
    for (int t = 0; t < t_steps; ++t) {
      for (int b = 0; b < batch_; ++b) {
        const float* src = grad_seq_in_.data() + (static_cast<size_t>(t) * batch_ + b) * in;
        std::copy(src, src + f, d_windows + (static_cast<size_t>(b) * t_steps + t) * f);
      }
    }
  }
  return Status::OK();
}

}  // namespace nemesyst::kernels
