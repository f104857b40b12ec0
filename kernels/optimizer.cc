#include "kernels/optimizer.h"

#include <immintrin.h>

#include <algorithm>
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

namespace {

struct AdamConstants {
  float beta1, one_minus_beta1, beta2, one_minus_beta2;
  float step_size;    // lr / (1 − β1ᵗ)
  float inv_sqrt_c2;  // 1 / sqrt(1 − β2ᵗ)
  float epsilon, weight_decay;
};

// The step's scalars in fp32, derived in double once per step (the bias corrections fold into
// the step size and the sqrt(v) scale, as PyTorch's Adam does).
AdamConstants AdamConstantsFor(const OptimizerOptions& o, int64_t step) {
  const double correction1 = 1.0 - std::pow(o.beta1, static_cast<double>(step));
  const double correction2 = 1.0 - std::pow(o.beta2, static_cast<double>(step));
  AdamConstants c;
  c.beta1 = static_cast<float>(o.beta1);
  c.one_minus_beta1 = static_cast<float>(1.0 - o.beta1);
  c.beta2 = static_cast<float>(o.beta2);
  c.one_minus_beta2 = static_cast<float>(1.0 - o.beta2);
  c.step_size = static_cast<float>(o.learning_rate / correction1);
  c.inv_sqrt_c2 = static_cast<float>(1.0 / std::sqrt(correction2));
  c.epsilon = static_cast<float>(o.epsilon);
  c.weight_decay = static_cast<float>(o.weight_decay);
  return c;
}

// One Adam step over params[0..n), four elements at a time (SSE, part of x86-64, so every
// machine runs the same instructions and gets the same bits). The tail goes through the same
// vector code on a padded copy: every element sees the identical operation sequence, whatever
// its position, which is what makes results independent of n and of alignment.
void AdamUpdate(size_t n, float* params, const float* grads, float* m, float* v,
                const AdamConstants& c) {
  const __m128 b1 = _mm_set1_ps(c.beta1), one_minus_b1 = _mm_set1_ps(c.one_minus_beta1);
  const __m128 b2 = _mm_set1_ps(c.beta2), one_minus_b2 = _mm_set1_ps(c.one_minus_beta2);
  const __m128 step_size = _mm_set1_ps(c.step_size), inv_sqrt_c2 = _mm_set1_ps(c.inv_sqrt_c2);
  const __m128 eps = _mm_set1_ps(c.epsilon), wd = _mm_set1_ps(c.weight_decay);
  auto update = [&](float* p4, const float* g4, float* m4, float* v4) {
    const __m128 p = _mm_loadu_ps(p4);
    const __m128 g = _mm_add_ps(_mm_loadu_ps(g4), _mm_mul_ps(wd, p));
    const __m128 mk = _mm_add_ps(_mm_mul_ps(b1, _mm_loadu_ps(m4)), _mm_mul_ps(one_minus_b1, g));
    const __m128 vk =
        _mm_add_ps(_mm_mul_ps(b2, _mm_loadu_ps(v4)), _mm_mul_ps(_mm_mul_ps(one_minus_b2, g), g));
    const __m128 denom = _mm_add_ps(_mm_mul_ps(_mm_sqrt_ps(vk), inv_sqrt_c2), eps);
    _mm_storeu_ps(m4, mk);
    _mm_storeu_ps(v4, vk);
    _mm_storeu_ps(p4, _mm_sub_ps(p, _mm_mul_ps(step_size, _mm_div_ps(mk, denom))));
  };
  size_t k = 0;
  for (; k + 4 <= n; k += 4) update(params + k, grads + k, m + k, v + k);
  if (k < n) {
    const size_t left = n - k;
    float p4[4] = {}, g4[4] = {}, m4[4] = {}, v4[4] = {};
    std::copy_n(params + k, left, p4);
    std::copy_n(grads + k, left, g4);
    std::copy_n(m + k, left, m4);
    std::copy_n(v + k, left, v4);
    update(p4, g4, m4, v4);
    std::copy_n(p4, left, params + k);
    std::copy_n(m4, left, m + k);
    std::copy_n(v4, left, v + k);
  }
}

}  // namespace

Optimizer::Optimizer(const OptimizerOptions& options, size_t parameter_count)
    : options_(options), first_(parameter_count, 0.0f) {
  if (options_.kind == OptimizerKind::kAdam) second_.assign(parameter_count, 0.0f);
}

void Optimizer::Step(float* params, const float* grads) {
  ++steps_;
  const size_t n = first_.size();
  if (options_.kind == OptimizerKind::kSgd) {
    const double lr = options_.learning_rate, wd = options_.weight_decay, mu = options_.momentum;
    for (size_t k = 0; k < n; ++k) {
      const double g = grads[k] + wd * params[k];
      first_[k] = static_cast<float>(mu * first_[k] + g);
      params[k] = static_cast<float>(params[k] - lr * first_[k]);
    }
    return;
  }
  AdamUpdate(n, params, grads, first_.data(), second_.data(), AdamConstantsFor(options_, steps_));
}

double ClipByGlobalNorm(float* grads, size_t n, double max_norm) {
  // Four independent sums: one chain would wait on the add latency (4 cycles) per element.
  double part[4] = {0.0, 0.0, 0.0, 0.0};
  size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    for (int j = 0; j < 4; ++j) part[j] += static_cast<double>(grads[k + j]) * grads[k + j];
  }
  for (int j = 0; k < n; ++k, ++j) part[j] += static_cast<double>(grads[k]) * grads[k];
  const double norm = std::sqrt((part[0] + part[1]) + (part[2] + part[3]));
  if (max_norm > 0.0 && norm > max_norm) {
    const float scale = static_cast<float>(max_norm / norm);
    for (size_t k = 0; k < n; ++k) grads[k] *= scale;
  }
  return norm;
}

}  // namespace nemesyst::kernels
