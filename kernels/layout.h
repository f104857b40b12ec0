// Layout conversions at the model boundary: data arrives batch-major [B][T][F] (nemesyst::Batch)
// and the recurrent kernels are time-major [T][B][F].
#ifndef NEMESYST_KERNELS_LAYOUT_H_
#define NEMESYST_KERNELS_LAYOUT_H_

#include <cstddef>

namespace nemesyst::kernels {

// [B][T][F] → [T][B][F].
inline void BatchToTimeMajor(int batch, int steps, int features, const float* in, float* out) {
  for (int b = 0; b < batch; ++b) {
    for (int t = 0; t < steps; ++t) {
      const float* src = in + (static_cast<size_t>(b) * steps + t) * features;
      float* dst = out + (static_cast<size_t>(t) * batch + b) * features;
      for (int f = 0; f < features; ++f) dst[f] = src[f];
    }
  }
}

// [T][B][F] → [B][T][F].
inline void TimeToBatchMajor(int batch, int steps, int features, const float* in, float* out) {
  for (int t = 0; t < steps; ++t) {
    for (int b = 0; b < batch; ++b) {
      const float* src = in + (static_cast<size_t>(t) * batch + b) * features;
      float* dst = out + (static_cast<size_t>(b) * steps + t) * features;
      for (int f = 0; f < features; ++f) dst[f] = src[f];
    }
  }
}

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_LAYOUT_H_
