// The register-tiled GEMM of the SIMD backends, over a vector traits type S (simd_math.h): an
// S::kGemmRows × (S::kGemmVectors · S::kLanes) tile of C in registers (avx2: 6 × 16, 12
// accumulators; avx512: 12 × 32, 24 accumulators), one broadcast of A per row and S::kGemmVectors
// loads of B per k, so the FMA ports stay busy; K is blocked by S::kGemmKBlock so a B panel block
// stays in L1 while A rows stream. A panel's last columns use only the vectors they need (a
// 8-column B costs one vector, not two). Callers split M between threads.
#ifndef NEMESYST_KERNELS_AVX2_GEMM_TILE_H_
#define NEMESYST_KERNELS_AVX2_GEMM_TILE_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

#include "kernels/avx2/gemm.h"

namespace nemesyst::kernels::simd {

template <typename S, int MR, int NV>
void GemmMicroKernel(int kc, const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs, const float* bp,
                     float* c, ptrdiff_t ldc, int n_valid, bool load_c) {
  using V = typename S::V;
  constexpr int L = S::kLanes;
  constexpr int kWidth = S::kGemmVectors * L;
  V acc[MR][NV];
  typename S::Mask mask[NV];
  bool full[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    const int lanes = std::clamp(n_valid - v * L, 0, L);
    full[v] = lanes == L;
    mask[v] = S::TailMask(lanes);
  }
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if (!load_c) {
        acc[r][v] = S::Zero();
      } else if (full[v]) {
        acc[r][v] = S::LoadU(c + r * ldc + v * L);
      } else {
        acc[r][v] = S::MaskLoad(c + r * ldc + v * L, mask[v]);
      }
    }
  }
  for (int k = 0; k < kc; ++k) {
    V bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = S::Load(bp + k * kWidth + v * L);
    const float* ak = a + k * a_cs;
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) {
      const V av = S::Broadcast(ak + r * a_rs);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = S::Fmadd(av, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if (full[v]) {
        S::StoreU(c + r * ldc + v * L, acc[r][v]);
      } else {
        S::MaskStore(c + r * ldc + v * L, mask[v], acc[r][v]);
      }
    }
  }
}

using GemmMicroFn = void (*)(int, const float*, ptrdiff_t, ptrdiff_t, const float*, float*,
                             ptrdiff_t, int, bool);

// kTable[mr - 1][nv - 1] for mr in 1..S::kGemmRows, nv in 1..S::kGemmVectors.
template <typename S, int... kRow>
struct GemmMicroTable {
  template <int MR, int... kVec>
  static constexpr auto Row(std::integer_sequence<int, kVec...>) {
    return std::array<GemmMicroFn, sizeof...(kVec)>{&GemmMicroKernel<S, MR, kVec + 1>...};
  }
  static constexpr std::array<std::array<GemmMicroFn, S::kGemmVectors>, sizeof...(kRow)> kTable = {
      Row<kRow + 1>(std::make_integer_sequence<int, S::kGemmVectors>{})...};
};

template <typename S, int... kRow>
constexpr const auto& MicroTable(std::integer_sequence<int, kRow...>) {
  return GemmMicroTable<S, kRow...>::kTable;
}

template <typename S>
void GemmPackedB(int m, int n, int k, const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs,
                 const float* b_packed, float* c, ptrdiff_t ldc, bool accumulate) {
  constexpr int L = S::kLanes;
  constexpr int kWidth = S::kGemmVectors * L;
  constexpr int kRows = S::kGemmRows;
  const auto& micro = MicroTable<S>(std::make_integer_sequence<int, kRows>{});
  if (m <= 0 || n <= 0) return;
  const int panels = (n + kWidth - 1) / kWidth;
  if (k <= 0) {
    if (!accumulate) {
      for (int i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    }
    return;
  }
  for (int k0 = 0; k0 < k; k0 += S::kGemmKBlock) {
    const int kc = std::min(S::kGemmKBlock, k - k0);
    const bool load_c = accumulate || k0 > 0;
    for (int p = 0; p < panels; ++p) {
      const float* bp = b_packed + (static_cast<size_t>(p) * k + k0) * kWidth;
      const int n0 = p * kWidth;
      const int n_valid = std::min(kWidth, n - n0);
      const int nv = (n_valid + L - 1) / L;
      // Rows in nearly equal tiles of at most kRows (no 1-row tile after full ones).
      for (int i0 = 0; i0 < m;) {
        const int left = m - i0;
        const int tiles = (left + kRows - 1) / kRows;
        const int rows = (left + tiles - 1) / tiles;
        micro[rows - 1][nv - 1](kc, a + i0 * a_rs + k0 * a_cs, a_rs, a_cs, bp, c + i0 * ldc + n0,
                                ldc, n_valid, load_c);
        i0 += rows;
      }
    }
  }
}

}  // namespace nemesyst::kernels::simd

#endif  // NEMESYST_KERNELS_AVX2_GEMM_TILE_H_
