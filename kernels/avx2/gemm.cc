#include "kernels/avx2/gemm.h"

#include <immintrin.h>

#include <algorithm>

#include "kernels/avx2/simd.h"

namespace nemesyst::kernels::avx2 {
namespace {

constexpr int kKBlock = 256;
constexpr int kRows = 6;

template <int MR>
inline void MicroKernel(int kc, const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs, const float* bp,
                        float* c, ptrdiff_t ldc, int n_valid, bool load_c) {
  __m256 acc[MR][2];
  const bool full = n_valid == kGemmPanelWidth;
  const __m256i mask0 = TailMask(std::min(n_valid, 8));
  const __m256i mask1 = TailMask(std::max(n_valid - 8, 0));
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    if (!load_c) {
      acc[r][0] = _mm256_setzero_ps();
      acc[r][1] = _mm256_setzero_ps();
    } else if (full) {
      acc[r][0] = _mm256_loadu_ps(c + r * ldc);
      acc[r][1] = _mm256_loadu_ps(c + r * ldc + 8);
    } else {
      acc[r][0] = _mm256_maskload_ps(c + r * ldc, mask0);
      acc[r][1] = _mm256_maskload_ps(c + r * ldc + 8, mask1);
    }
  }
  for (int k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(bp + k * kGemmPanelWidth);
    const __m256 b1 = _mm256_load_ps(bp + k * kGemmPanelWidth + 8);
    const float* ak = a + k * a_cs;
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      const __m256 av = _mm256_broadcast_ss(ak + r * a_rs);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    if (full) {
      _mm256_storeu_ps(c + r * ldc, acc[r][0]);
      _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
    } else {
      _mm256_maskstore_ps(c + r * ldc, mask0, acc[r][0]);
      _mm256_maskstore_ps(c + r * ldc + 8, mask1, acc[r][1]);
    }
  }
}

using MicroFn = void (*)(int, const float*, ptrdiff_t, ptrdiff_t, const float*, float*, ptrdiff_t,
                         int, bool);
constexpr MicroFn kMicro[kRows + 1] = {nullptr,        MicroKernel<1>, MicroKernel<2>,
                                       MicroKernel<3>, MicroKernel<4>, MicroKernel<5>,
                                       MicroKernel<6>};

}  // namespace

void PackB(int k, int n, const float* b, ptrdiff_t b_rs, ptrdiff_t b_cs, float* out) {
  const int panels = (n + kGemmPanelWidth - 1) / kGemmPanelWidth;
  for (int p = 0; p < panels; ++p) {
    float* panel = out + static_cast<size_t>(p) * k * kGemmPanelWidth;
    const int n0 = p * kGemmPanelWidth;
    const int width = std::min(kGemmPanelWidth, n - n0);
    for (int kk = 0; kk < k; ++kk) {
      float* row = panel + static_cast<size_t>(kk) * kGemmPanelWidth;
      const float* src = b + kk * b_rs + n0 * b_cs;
      int j = 0;
      for (; j < width; ++j) row[j] = src[j * b_cs];
      for (; j < kGemmPanelWidth; ++j) row[j] = 0.0f;
    }
  }
}

void GemmPackedB(int m, int n, int k, const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs,
                 const float* b_packed, float* c, ptrdiff_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  const int panels = (n + kGemmPanelWidth - 1) / kGemmPanelWidth;
  if (k <= 0) {
    if (!accumulate) {
      for (int i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    }
    return;
  }
  for (int k0 = 0; k0 < k; k0 += kKBlock) {
    const int kc = std::min(kKBlock, k - k0);
    const bool load_c = accumulate || k0 > 0;
    for (int p = 0; p < panels; ++p) {
      const float* bp = b_packed + (static_cast<size_t>(p) * k + k0) * kGemmPanelWidth;
      const int n0 = p * kGemmPanelWidth;
      const int n_valid = std::min(kGemmPanelWidth, n - n0);
      for (int i0 = 0; i0 < m; i0 += kRows) {
        const int rows = std::min(kRows, m - i0);
        kMicro[rows](kc, a + i0 * a_rs + k0 * a_cs, a_rs, a_cs, bp, c + i0 * ldc + n0, ldc, n_valid,
                     load_c);
      }
    }
  }
}

}  // namespace nemesyst::kernels::avx2
