// Optimisers over one flat parameter buffer (a ParameterSet's values and gradients), plus
// gradient clipping by global norm. Deterministic: element order is fixed, no threads, and every
// x86-64 machine runs the same instructions.
//   SGD with momentum (PyTorch convention), in double: v ← μ·v + g;  p ← p − lr·v
//   Adam, in fp32 as PyTorch's (bias corrections folded into two per-step constants):
//         m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
//         p ← p − (lr / (1−β1ᵗ)) · m / (sqrt(v) · (1 / sqrt(1−β2ᵗ)) + ε)
//   An Adam step is one sqrt and one division per parameter, four parameters per instruction;
//   for the small models of a store server it is a visible part of a training step (it was 3 %
//   of an LSTM step at hidden 128, batch 64, when it ran scalar in double).
// Weight decay (L2, added to g before the update) is off by default.
#ifndef NEMESYST_KERNELS_OPTIMIZER_H_
#define NEMESYST_KERNELS_OPTIMIZER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "nemesyst/status.h"

namespace nemesyst::kernels {

enum class OptimizerKind { kSgd, kAdam };

std::string_view OptimizerName(OptimizerKind kind);  // "sgd" | "adam"
Result<OptimizerKind> ParseOptimizer(std::string_view name);

struct OptimizerOptions {
  OptimizerKind kind = OptimizerKind::kAdam;
  double learning_rate = 1e-3;
  double momentum = 0.9;  // SGD only; 0 is plain SGD
  double beta1 = 0.9;     // Adam
  double beta2 = 0.999;   // Adam
  double epsilon = 1e-8;  // Adam
  double weight_decay = 0.0;
};

class Optimizer {
 public:
  Optimizer(const OptimizerOptions& options, size_t parameter_count);

  // One update of params[0..n) from grads[0..n) (n = parameter_count).
  void Step(float* params, const float* grads);
  int64_t steps() const { return steps_; }
  void set_learning_rate(double lr) { options_.learning_rate = lr; }
  const OptimizerOptions& options() const { return options_; }

 private:
  OptimizerOptions options_;
  int64_t steps_ = 0;
  std::vector<float> first_;   // SGD velocity or Adam m
  std::vector<float> second_;  // Adam v
};

// Scales grads[0..n) so their L2 norm is at most `max_norm` (no-op when max_norm <= 0 or the
// norm is already within it). Returns the norm before clipping.
double ClipByGlobalNorm(float* grads, size_t n, double max_norm);

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_OPTIMIZER_H_
