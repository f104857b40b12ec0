// Inverted dropout between layers, training only: each element is kept with probability 1 − rate
// and scaled by 1 / (1 − rate), so inference needs no rescaling. The mask comes from the
// caller's seeded Rng, so a training run is reproducible.
#ifndef NEMESYST_KERNELS_DROPOUT_H_
#define NEMESYST_KERNELS_DROPOUT_H_

#include <cstddef>

#include "kernels/random.h"

namespace nemesyst::kernels {

// Fills mask[0..n) with 0 or 1/(1−rate) and writes y = x ⊙ mask (y may equal x). rate in [0, 1).
inline void DropoutForward(Rng& rng, double rate, size_t n, const float* x, float* mask, float* y) {
  const float keep_scale = static_cast<float>(1.0 / (1.0 - rate));
  for (size_t k = 0; k < n; ++k) {
    mask[k] = rng.Uniform() < rate ? 0.0f : keep_scale;
    y[k] = x[k] * mask[k];
  }
}

// dx = dy ⊙ mask (dx may equal dy).
inline void DropoutBackward(size_t n, const float* mask, const float* dy, float* dx) {
  for (size_t k = 0; k < n; ++k) dx[k] = dy[k] * mask[k];
}

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_DROPOUT_H_
