// Losses over n predictions (any shape, flattened), averaged over all n elements.
//   MSE  = mean((p - t)²)
//   MAE  = mean(|p - t|)            (subgradient 0 at p == t)
//   BCE with logits = mean(max(p,0) - p·t + log(1 + exp(-|p|)))   (p a logit, t in [0, 1];
//         the stable form, gradient (σ(p) - t) / n)
#ifndef NEMESYST_KERNELS_LOSS_H_
#define NEMESYST_KERNELS_LOSS_H_

#include <cstddef>
#include <string_view>

#include "nemesyst/status.h"

namespace nemesyst::kernels {

enum class Loss { kMse, kMae, kBceWithLogits };

std::string_view LossName(Loss loss);  // "mse", "mae", "bce_with_logits"
Result<Loss> ParseLoss(std::string_view name);

// Returns the mean loss (accumulated in double). When `grad` is non-null writes
// d(mean loss)/d(prediction) into it.
double ComputeLoss(Loss loss, size_t n, const float* prediction, const float* target, float* grad);

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_LOSS_H_
