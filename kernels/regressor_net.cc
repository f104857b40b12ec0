#include "kernels/regressor_net.h"

#include <algorithm>
#include <string>

#include "kernels/dropout.h"
#include "kernels/layout.h"

namespace nemesyst::kernels {

Result<std::unique_ptr<RegressorNet>> RegressorNet::Create(const RegressorSpec& spec,
                                                           Backend backend,
                                                           const KernelOptions& options) {
  std::unique_ptr<RegressorNet> net(new RegressorNet(spec));
  NEMESYST_ASSIGN_OR_RETURN(
      net->stack_, RecurrentStack::Create({spec.cell, spec.features, spec.hidden, spec.dropout},
                                          "encoder", &net->params_, backend, options));
  NEMESYST_ASSIGN_OR_RETURN(
      net->head_, DenseStack::Create({spec.hidden.back(), spec.head_hidden, spec.head_activation,
                                      spec.output_width, spec.output_activation},
                                     "head", &net->params_, backend, options));
  net->params_.Allocate();
  return net;
}

Status RegressorNet::Initialize(uint64_t seed) {
  Rng rng(seed);
  stack_->Initialize(rng);
  head_->Initialize(rng);
  return SyncWeights();
}

Status RegressorNet::SyncWeights() {
  NEMESYST_RETURN_IF_ERROR(stack_->SyncWeights());
  return head_->SyncWeights();
}

Status RegressorNet::CheckShape(int batch, int steps) const {
  if (batch < 1 || steps < 1) {
    return Status::InvalidArgument("regressor: batch and steps must be >= 1 (got " +
                                   std::to_string(batch) + ", " + std::to_string(steps) + ")");
  }
  if (spec_.steps != 0 && steps != spec_.steps) {
    return Status::InvalidArgument("regressor: windows have " + std::to_string(steps) +
                                   " steps but the model was specified for " +
                                   std::to_string(spec_.steps));
  }
  return Status::OK();
}

Status RegressorNet::ForwardInternal(int batch, int steps, const float* x, bool train, Rng* rng) {
  NEMESYST_RETURN_IF_ERROR(CheckShape(batch, steps));
  const int f = spec_.features, h = stack_->top_hidden();
  x_tm_.resize(static_cast<size_t>(steps) * batch * f);
  BatchToTimeMajor(batch, steps, f, x, x_tm_.data());
  y_top_.resize(static_cast<size_t>(steps) * batch * h);
  if (train) {
    NEMESYST_RETURN_IF_ERROR(
        stack_->ForwardTrain(steps, batch, x_tm_.data(), nullptr, rng, y_top_.data(), nullptr));
  } else {
    NEMESYST_RETURN_IF_ERROR(
        stack_->Forward(steps, batch, x_tm_.data(), nullptr, y_top_.data(), nullptr));
  }
  const int rows = spec_.per_step ? steps * batch : batch;
  const float* head_in =
      y_top_.data() + (spec_.per_step ? 0 : static_cast<size_t>(steps - 1) * batch * h);
  const size_t head_n = static_cast<size_t>(rows) * h;
  if (train && spec_.dropout > 0.0) {
    head_in_.resize(head_n);
    head_mask_.resize(head_n);
    DropoutForward(*rng, spec_.dropout, head_n, head_in, head_mask_.data(), head_in_.data());
    head_in = head_in_.data();
  }
  out_tm_.resize(static_cast<size_t>(rows) * spec_.output_width);
  return train ? head_->ForwardTrain(rows, head_in, out_tm_.data())
               : head_->Forward(rows, head_in, out_tm_.data());
}

void RegressorNet::OutputToBatchMajor(int batch, int steps, float* out) const {
  if (spec_.per_step) {
    TimeToBatchMajor(batch, steps, spec_.output_width, out_tm_.data(), out);
  } else {
    std::copy(out_tm_.begin(), out_tm_.end(), out);
  }
}

Status RegressorNet::Predict(int batch, int steps, const float* x, float* out) {
  NEMESYST_RETURN_IF_ERROR(ForwardInternal(batch, steps, x, false, nullptr));
  OutputToBatchMajor(batch, steps, out);
  return Status::OK();
}

Result<double> RegressorNet::Evaluate(int batch, int steps, const float* x, const float* y) {
  NEMESYST_RETURN_IF_ERROR(ForwardInternal(batch, steps, x, false, nullptr));
  const float* label = y;
  if (spec_.per_step) {
    label_tm_.resize(out_tm_.size());
    BatchToTimeMajor(batch, steps, spec_.output_width, y, label_tm_.data());
    label = label_tm_.data();
  }
  return ComputeLoss(spec_.loss, out_tm_.size(), out_tm_.data(), label, nullptr, spec_.quantile);
}

Result<double> RegressorNet::TrainStep(int batch, int steps, const float* x, const float* y,
                                       Rng* rng) {
  NEMESYST_RETURN_IF_ERROR(ForwardInternal(batch, steps, x, true, rng));
  const float* label = y;
  if (spec_.per_step) {
    label_tm_.resize(out_tm_.size());
    BatchToTimeMajor(batch, steps, spec_.output_width, y, label_tm_.data());
    label = label_tm_.data();
  }
  grad_out_.resize(out_tm_.size());
  const double loss = ComputeLoss(spec_.loss, out_tm_.size(), out_tm_.data(), label,
                                  grad_out_.data(), spec_.quantile);

  const int h = stack_->top_hidden();
  const int rows = spec_.per_step ? steps * batch : batch;
  grad_head_in_.resize(static_cast<size_t>(rows) * h);
  NEMESYST_RETURN_IF_ERROR(head_->Backward(grad_out_.data(), grad_head_in_.data()));
  if (spec_.dropout > 0.0) {
    DropoutBackward(grad_head_in_.size(), head_mask_.data(), grad_head_in_.data(),
                    grad_head_in_.data());
  }
  grad_y_top_.assign(static_cast<size_t>(steps) * batch * h, 0.0f);
  const size_t last = spec_.per_step ? 0 : static_cast<size_t>(steps - 1) * batch * h;
  std::copy(grad_head_in_.begin(), grad_head_in_.end(), grad_y_top_.begin() + last);
  NEMESYST_RETURN_IF_ERROR(stack_->Backward(grad_y_top_.data(), nullptr));
  return loss;
}

}  // namespace nemesyst::kernels
