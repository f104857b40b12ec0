// Element-wise activations with their derivatives. Forward reads the pre-activation x and writes
// y; Backward needs both (ReLU-family derivatives use x, sigmoid/tanh use y) and writes
// dx = dy ⊙ f'(x). In-place use (y == x for Forward, dx == dy for Backward) is allowed.
#ifndef NEMESYST_KERNELS_ACTIVATION_H_
#define NEMESYST_KERNELS_ACTIVATION_H_

#include <cstddef>
#include <string_view>

#include "nemesyst/status.h"

namespace nemesyst::kernels {

enum class Activation { kLinear, kSigmoid, kTanh, kRelu, kLeakyRelu };

// Slope of leaky ReLU for x < 0.
inline constexpr float kLeakyReluSlope = 0.01f;

std::string_view ActivationName(Activation activation);  // "linear", "sigmoid", ...
Result<Activation> ParseActivation(std::string_view name);

void ActivationForward(Activation activation, size_t n, const float* x, float* y);
void ActivationBackward(Activation activation, size_t n, const float* x, const float* y,
                        const float* dy, float* dx);

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_ACTIVATION_H_
