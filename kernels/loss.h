// Losses over n predictions (any shape, flattened), averaged over all n elements.
//   MSE  = mean((p - t)²)
//   MAE  = mean(|p - t|)            (subgradient 0 at p == t)
//   BCE with logits = mean(max(p,0) - p·t + log(1 + exp(-|p|)))   (p a logit, t in [0, 1];
//         the stable form, gradient (σ(p) - t) / n)
//   pinball at quantile τ ∈ (0, 1) = mean(max(τ·(t - p), (τ - 1)·(t - p)))
//         minimised by the τ-quantile of t given the inputs: τ = 0.05 trains a lower bound that
//         the truth falls below 5 % of the time (on the training distribution; the train job's
//         conformal margin makes it hold on held-out stores). Subgradient at p == t: τ - 1 ... τ,
//         taken as 0 like MAE's. τ = 0.5 is half the MAE.
#ifndef NEMESYST_KERNELS_LOSS_H_
#define NEMESYST_KERNELS_LOSS_H_

#include <cstddef>
#include <string_view>

#include "nemesyst/status.h"

namespace nemesyst::kernels {

enum class Loss { kMse, kMae, kBceWithLogits, kPinball };

std::string_view LossName(Loss loss);  // "mse", "mae", "bce_with_logits", "pinball"
Result<Loss> ParseLoss(std::string_view name);

// Returns the mean loss (accumulated in double). When `grad` is non-null writes
// d(mean loss)/d(prediction) into it. `quantile` is τ of kPinball (ignored by the others; the
// caller keeps it in (0, 1): the spec parser refuses anything else).
double ComputeLoss(Loss loss, size_t n, const float* prediction, const float* target, float* grad,
                   double quantile = 0.5);

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_LOSS_H_
