// The two halves of the GAN (see gan_net.h), each a recurrent stack with a dense head or a plain
// MLP over the whole window, with its own ParameterSet. Batch-major windows at the boundary.
#ifndef NEMESYST_KERNELS_GAN_BLOCKS_H_
#define NEMESYST_KERNELS_GAN_BLOCKS_H_

#include <memory>
#include <vector>

#include "kernels/dense_stack.h"
#include "kernels/model_spec.h"
#include "kernels/parameter_set.h"
#include "kernels/recurrent_stack.h"

namespace nemesyst::kernels {

// noise z [B][N] (+ condition [B][C]) → windows [B][T][F]. A recurrent generator receives
// [z, condition] as its input at every step and projects each step's h to F values.
class GeneratorNet {
 public:
  static Result<std::unique_ptr<GeneratorNet>> Create(const GanSpec& spec, Backend backend,
                                                      const KernelOptions& options);
  void Initialize(Rng& rng);
  Status SyncWeights();
  Status Run(int batch, const float* z, const float* condition, float* windows, bool train);
  // Gradient of the loss w.r.t. the windows of the last training Run; accumulates gradients.
  Status Backward(const float* d_windows);
  ParameterSet& params() { return params_; }

 private:
  explicit GeneratorNet(const GanSpec& spec) : spec_(spec) {}
  bool recurrent() const { return spec_.generator.type != BlockType::kDense; }

  GanSpec spec_;
  ParameterSet params_;
  std::unique_ptr<RecurrentStack> stack_;  // null for the dense type
  std::unique_ptr<DenseStack> head_;
  int batch_ = 0;
  std::vector<float> input_, seq_in_, y_top_, out_tm_, grad_tm_, grad_y_top_;
};

// windows [B][T][F] (+ condition [B][C]) → logits [B]. A recurrent discriminator reads
// [window step, condition] at every step and scores the last step's h.
class DiscriminatorNet {
 public:
  static Result<std::unique_ptr<DiscriminatorNet>> Create(const GanSpec& spec, Backend backend,
                                                          const KernelOptions& options);
  void Initialize(Rng& rng);
  Status SyncWeights();
  // `rng` drives dropout when training (may be null otherwise).
  Status Run(int batch, const float* windows, const float* condition, float* logits, bool train,
             Rng* rng);
  // dlogits [B] → d_windows [B][T][F] (when non-null); accumulates gradients.
  Status Backward(const float* d_logits, float* d_windows);
  ParameterSet& params() { return params_; }

 private:
  explicit DiscriminatorNet(const GanSpec& spec) : spec_(spec) {}
  bool recurrent() const { return spec_.discriminator.type != BlockType::kDense; }

  GanSpec spec_;
  ParameterSet params_;
  std::unique_ptr<RecurrentStack> stack_;
  std::unique_ptr<DenseStack> head_;
  int batch_ = 0;
  std::vector<float> input_, y_top_, grad_in_, grad_y_top_, grad_seq_in_;
};

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_GAN_BLOCKS_H_
