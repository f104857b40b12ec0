#include "kernels/avx2/gemm.h"

#include <algorithm>

namespace nemesyst::kernels::simd {

void PackB(int k, int n, const float* b, ptrdiff_t b_rs, ptrdiff_t b_cs, int width, float* out) {
  const int panels = (n + width - 1) / width;
  for (int p = 0; p < panels; ++p) {
    float* panel = out + static_cast<size_t>(p) * k * width;
    const int n0 = p * width;
    const int valid = std::min(width, n - n0);
    for (int kk = 0; kk < k; ++kk) {
      float* row = panel + static_cast<size_t>(kk) * width;
      const float* src = b + kk * b_rs + n0 * b_cs;
      int j = 0;
      for (; j < valid; ++j) row[j] = src[j * b_cs];
      for (; j < width; ++j) row[j] = 0.0f;
    }
  }
}

}  // namespace nemesyst::kernels::simd
