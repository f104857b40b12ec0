#include "kernels/optimizer.h"

#include <cmath>
#include <string>

namespace nemesyst::kernels {

std::string_view OptimizerName(OptimizerKind kind) {
  return kind == OptimizerKind::kSgd ? "sgd" : "adam";
}

Result<OptimizerKind> ParseOptimizer(std::string_view name) {
  if (name == "sgd") return OptimizerKind::kSgd;
  if (name == "adam") return OptimizerKind::kAdam;
  return Status::InvalidArgument("unknown optimizer '" + std::string(name) +
                                 "' (expected sgd or adam)");
}

Optimizer::Optimizer(const OptimizerOptions& options, size_t parameter_count)
    : options_(options), first_(parameter_count, 0.0f) {
  if (options_.kind == OptimizerKind::kAdam) second_.assign(parameter_count, 0.0f);
}

void Optimizer::Step(float* params, const float* grads) {
  ++steps_;
  const size_t n = first_.size();
  const double lr = options_.learning_rate, wd = options_.weight_decay;
  if (options_.kind == OptimizerKind::kSgd) {
    const double mu = options_.momentum;
    for (size_t k = 0; k < n; ++k) {
      const double g = grads[k] + wd * params[k];
      first_[k] = static_cast<float>(mu * first_[k] + g);
      params[k] = static_cast<float>(params[k] - lr * first_[k]);
    }
    return;
  }
  const double b1 = options_.beta1, b2 = options_.beta2, eps = options_.epsilon;
  const double correction1 = 1.0 - std::pow(b1, static_cast<double>(steps_));
  const double correction2 = 1.0 - std::pow(b2, static_cast<double>(steps_));
  for (size_t k = 0; k < n; ++k) {
    const double g = grads[k] + wd * params[k];
    first_[k] = static_cast<float>(b1 * first_[k] + (1.0 - b1) * g);
    second_[k] = static_cast<float>(b2 * second_[k] + (1.0 - b2) * g * g);
    const double m_hat = first_[k] / correction1;
    const double v_hat = second_[k] / correction2;
    params[k] = static_cast<float>(params[k] - lr * m_hat / (std::sqrt(v_hat) + eps));
  }
}

double ClipByGlobalNorm(float* grads, size_t n, double max_norm) {
  double sum = 0.0;
  for (size_t k = 0; k < n; ++k) sum += static_cast<double>(grads[k]) * grads[k];
  const double norm = std::sqrt(sum);
  if (max_norm > 0.0 && norm > max_norm) {
    const float scale = static_cast<float>(max_norm / norm);
    for (size_t k = 0; k < n; ++k) grads[k] *= scale;
  }
  return norm;
}

}  // namespace nemesyst::kernels
