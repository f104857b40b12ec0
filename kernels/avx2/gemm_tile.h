// The register-tiled GEMM of the SIMD backends, over a vector traits type S (simd_math.h): an
// S::kGemmRows × (S::kGemmVectors · S::kLanes) tile of C in registers (avx2: 6 × 16, 12
// accumulators; avx512: 12 × 32, 24 accumulators), one broadcast of A per row and S::kGemmVectors
// loads of B per k, so the FMA ports stay busy. K is blocked by S::kGemmKBlock; each row tile's
// A block is packed (in L1) and swept over every B panel block (in L2). A panel's last columns
// use only the vectors they need (an 8-column B costs one vector, not two). Callers split M
// between threads.
#ifndef NEMESYST_KERNELS_AVX2_GEMM_TILE_H_
#define NEMESYST_KERNELS_AVX2_GEMM_TILE_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

#include "kernels/avx2/gemm.h"

namespace nemesyst::kernels::simd {

// A's rows are adjacent (A(i, k) = a[i + k * a_cs]), so the MR broadcasts of one k are constant
// offsets from one pointer: no general-purpose register per row (12 row pointers would not fit
// next to the loop state and spill). GemmPackedB packs every A tile to this layout first.
template <typename S, int MR, int NV>
void GemmMicroKernel(int kc, const float* a, ptrdiff_t a_cs, const float* bp, float* c,
                     ptrdiff_t ldc, int n_valid, bool load_c) {
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
      const V av = S::Broadcast(ak + r);
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

using GemmMicroFn = void (*)(int, const float*, ptrdiff_t, const float*, float*, ptrdiff_t, int,
                             bool);

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
  // Rows in nearly equal tiles of at most kRows (no 1-row tile after full ones).
  auto tile_rows = [&](int i0) {
    const int left = m - i0;
    const int tiles = (left + kRows - 1) / kRows;
    return (left + tiles - 1) / tiles;
  };
  auto panel = [&](int p, int k0, int* n0, int* n_valid, int* nv) {
    *n0 = p * kWidth;
    *n_valid = std::min(kWidth, n - *n0);
    *nv = (*n_valid + L - 1) / L;
    return b_packed + (static_cast<size_t>(p) * k + k0) * kWidth;
  };
  for (int k0 = 0; k0 < k; k0 += S::kGemmKBlock) {
    const int kc = std::min(S::kGemmKBlock, k - k0);
    const bool load_c = accumulate || k0 > 0;
    // Each row tile's A block is packed once to [kc][kRows] (12 KiB for avx512, in L1) and run
    // against every panel; the panels' blocks stream from L2. So a strided A (Aᵀ of the gate
    // gradients: one cache line per k, from L3) is read once per call, not once per panel.
    alignas(64) float a_tile[S::kGemmKBlock * kRows];
    for (int i0 = 0, rows; i0 < m; i0 += rows) {
      rows = tile_rows(i0);
      if (a_rs == 1 && rows == kRows) {
        // Fixed-size copies: a few vector moves per k, never a memmove call. The rows of a
        // strided A are far apart (the hardware prefetchers lose them): fetch 16 k ahead.
        const float* src = a + i0 + k0 * a_cs;
        for (int kk = 0; kk < kc; ++kk) {
          if (kk + 16 < kc) S::Prefetch(src + (kk + 16) * a_cs);
          std::copy_n(src + kk * a_cs, kRows, a_tile + kk * kRows);
        }
      } else if (a_rs == 1) {
        const float* src = a + i0 + k0 * a_cs;
        for (int kk = 0; kk < kc; ++kk) {
          for (int r = 0; r < rows; ++r) a_tile[kk * kRows + r] = src[kk * a_cs + r];
        }
      } else {
        for (int r = 0; r < rows; ++r) {
          const float* src = a + (i0 + r) * a_rs + k0 * a_cs;
          for (int kk = 0; kk < kc; ++kk) a_tile[kk * kRows + r] = src[kk * a_cs];
        }
      }
      for (int p = 0; p < panels; ++p) {
        int n0, n_valid, nv;
        const float* bp = panel(p, k0, &n0, &n_valid, &nv);
        micro[rows - 1][nv - 1](kc, a_tile, kRows, bp, c + i0 * ldc + n0, ldc, n_valid, load_c);
      }
    }
  }
}

}  // namespace nemesyst::kernels::simd

#endif  // NEMESYST_KERNELS_AVX2_GEMM_TILE_H_
