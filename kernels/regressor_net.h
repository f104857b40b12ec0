// The regression network: a recurrent stack (many-to-one or many-to-many) and a dense head,
// trained on a loss from kernels/loss.h. Works on batch-major data ([B][T][F] windows,
// [B][label_width] labels), transposing to the kernels' time-major layout internally.
// Label width is output.width, or steps × width (laid out [T][width]) when per_step.
// Not thread-safe.
#ifndef NEMESYST_KERNELS_REGRESSOR_NET_H_
#define NEMESYST_KERNELS_REGRESSOR_NET_H_

#include <memory>
#include <vector>

#include "kernels/dense_stack.h"
#include "kernels/model_spec.h"
#include "kernels/parameter_set.h"
#include "kernels/recurrent_stack.h"

namespace nemesyst::kernels {

class RegressorNet {
 public:
  static Result<std::unique_ptr<RegressorNet>> Create(const RegressorSpec& spec, Backend backend,
                                                      const KernelOptions& options);

  // Deterministic initial weights from `seed`; then SyncWeights().
  Status Initialize(uint64_t seed);
  // Pushes the ParameterSet's values into the kernels (after an optimiser step or a load).
  Status SyncWeights();

  // x [B][T][F] → out [B][label_width(T)].
  Status Predict(int batch, int steps, const float* x, float* out);
  // Forward + backward on one mini-batch: returns the loss and accumulates gradients into
  // params().grads() (the caller zeroes them). `rng` drives dropout (may be null without it).
  Result<double> TrainStep(int batch, int steps, const float* x, const float* y, Rng* rng);
  // Loss without gradients (validation).
  Result<double> Evaluate(int batch, int steps, const float* x, const float* y);

  int label_width(int steps) const {
    return spec_.per_step ? steps * spec_.output_width : spec_.output_width;
  }
  const RegressorSpec& spec() const { return spec_; }
  ParameterSet& params() { return params_; }
  const ParameterSet& params() const { return params_; }
  RecurrentStack& stack() { return *stack_; }
  DenseStack& head() { return *head_; }

 private:
  explicit RegressorNet(const RegressorSpec& spec) : spec_(spec) {}
  Status CheckShape(int batch, int steps) const;
  // Runs stack + head (inference or training) into out_tm_ [T or 1][B][W].
  Status ForwardInternal(int batch, int steps, const float* x, bool train, Rng* rng);
  // out_tm_ [T][B][W] → out [B][T][W] (per step) or a copy (last step only).
  void OutputToBatchMajor(int batch, int steps, float* out) const;

  RegressorSpec spec_;
  ParameterSet params_;
  std::unique_ptr<RecurrentStack> stack_;
  std::unique_ptr<DenseStack> head_;
  std::vector<float> x_tm_, y_top_, head_in_, head_mask_, out_tm_, label_tm_, grad_out_,
      grad_head_in_, grad_y_top_;
};

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_REGRESSOR_NET_H_
