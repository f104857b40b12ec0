#include "kernels/loss.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace nemesyst::kernels {

std::string_view LossName(Loss loss) {
  switch (loss) {
    case Loss::kMse:
      return "mse";
    case Loss::kMae:
      return "mae";
    case Loss::kBceWithLogits:
      return "bce_with_logits";
    case Loss::kPinball:
      return "pinball";
  }
  return "mse";
}

Result<Loss> ParseLoss(std::string_view name) {
  for (Loss l : {Loss::kMse, Loss::kMae, Loss::kBceWithLogits, Loss::kPinball}) {
    if (name == LossName(l)) return l;
  }
  return Status::InvalidArgument("unknown loss '" + std::string(name) +
                                 "' (expected mse, mae, bce_with_logits or pinball)");
}

double ComputeLoss(Loss loss, size_t n, const float* prediction, const float* target, float* grad,
                   double quantile) {
  if (n == 0) return 0.0;
  const double inv_n = 1.0 / static_cast<double>(n);
  double sum = 0.0;
  for (size_t k = 0; k < n; ++k) {
    const double p = prediction[k], t = target[k];
    double g = 0.0;
    switch (loss) {
      case Loss::kMse:
        sum += (p - t) * (p - t);
        g = 2.0 * (p - t);
        break;
      case Loss::kMae:
        sum += std::abs(p - t);
        g = p > t ? 1.0 : (p < t ? -1.0 : 0.0);
        break;
      case Loss::kBceWithLogits:
        sum += std::max(p, 0.0) - p * t + std::log1p(std::exp(-std::abs(p)));
        g = 1.0 / (1.0 + std::exp(-p)) - t;
        break;
      case Loss::kPinball:
        // Under-prediction (t > p) costs τ per unit, over-prediction 1 - τ.
        sum += t >= p ? quantile * (t - p) : (1.0 - quantile) * (p - t);
        g = p < t ? -quantile : (p > t ? 1.0 - quantile : 0.0);
        break;
    }
    if (grad) grad[k] = static_cast<float>(g * inv_n);
  }
  return sum * inv_n;
}

}  // namespace nemesyst::kernels
