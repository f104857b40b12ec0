#include "kernels/activation.h"

#include <cmath>
#include <string>

namespace nemesyst::kernels {

std::string_view ActivationName(Activation activation) {
  switch (activation) {
    case Activation::kLinear:
      return "linear";
    case Activation::kSigmoid:
      return "sigmoid";
    case Activation::kTanh:
      return "tanh";
    case Activation::kRelu:
      return "relu";
    case Activation::kLeakyRelu:
      return "leaky_relu";
  }
  return "linear";
}

Result<Activation> ParseActivation(std::string_view name) {
  for (Activation a : {Activation::kLinear, Activation::kSigmoid, Activation::kTanh,
                       Activation::kRelu, Activation::kLeakyRelu}) {
    if (name == ActivationName(a)) return a;
  }
  return Status::InvalidArgument("unknown activation '" + std::string(name) +
                                 "' (expected linear, sigmoid, tanh, relu or leaky_relu)");
}

void ActivationForward(Activation activation, size_t n, const float* x, float* y) {
  switch (activation) {
    case Activation::kLinear:
      if (y != x) {
        for (size_t k = 0; k < n; ++k) y[k] = x[k];
      }
      return;
    case Activation::kSigmoid:
      for (size_t k = 0; k < n; ++k) y[k] = 1.0f / (1.0f + std::exp(-x[k]));
      return;
    case Activation::kTanh:
      for (size_t k = 0; k < n; ++k) y[k] = std::tanh(x[k]);
      return;
    case Activation::kRelu:
      for (size_t k = 0; k < n; ++k) y[k] = x[k] > 0.0f ? x[k] : 0.0f;
      return;
    case Activation::kLeakyRelu:
      for (size_t k = 0; k < n; ++k) y[k] = x[k] > 0.0f ? x[k] : kLeakyReluSlope * x[k];
      return;
  }
}

void ActivationBackward(Activation activation, size_t n, const float* x, const float* y,
                        const float* dy, float* dx) {
  switch (activation) {
    case Activation::kLinear:
      if (dx != dy) {
        for (size_t k = 0; k < n; ++k) dx[k] = dy[k];
      }
      return;
    case Activation::kSigmoid:
      for (size_t k = 0; k < n; ++k) dx[k] = dy[k] * y[k] * (1.0f - y[k]);
      return;
    case Activation::kTanh:
      for (size_t k = 0; k < n; ++k) dx[k] = dy[k] * (1.0f - y[k] * y[k]);
      return;
    case Activation::kRelu:
      for (size_t k = 0; k < n; ++k) dx[k] = x[k] > 0.0f ? dy[k] : 0.0f;
      return;
    case Activation::kLeakyRelu:
      for (size_t k = 0; k < n; ++k) dx[k] = x[k] > 0.0f ? dy[k] : kLeakyReluSlope * dy[k];
      return;
  }
}

}  // namespace nemesyst::kernels
