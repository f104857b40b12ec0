// Single-threaded fp32 GEMM for the SIMD backends: C[M][N] (+)= A·B, with B pre-packed into
// panels of `width` columns and A read in place through (row, column) strides, so both A and Aᵀ
// come for free (the weight gradients use dGᵀ without a transposed copy). Packing is plain code
// (this file); the register-tiled product is GemmPackedB<S> in gemm_tile.h, reached through
// IsaOps::gemm with the panel width IsaOps::gemm_panel_width of its instruction set.
#ifndef NEMESYST_KERNELS_AVX2_GEMM_H_
#define NEMESYST_KERNELS_AVX2_GEMM_H_

#include <cstddef>

namespace nemesyst::kernels::simd {

// Floats needed to pack a K×N matrix into panels of `width` columns.
inline size_t PackedBSize(int k, int n, int width) {
  return static_cast<size_t>((n + width - 1) / width) * k * width;
}

// Packs B, whose element (k, n) is b[k * b_rs + n * b_cs], into panels [n / width][k][width]
// (zero-padded past n).
void PackB(int k, int n, const float* b, ptrdiff_t b_rs, ptrdiff_t b_cs, int width, float* out);

// C[i][j] = (accumulate ? C[i][j] : 0) + Σ_k A(i, k) · B(k, j), for i < m, j < n, where
// A(i, k) = a[i * a_rs + k * a_cs] and B was packed by PackB with the same k, n and the
// instruction set's panel width.
using GemmFn = void (*)(int m, int n, int k, const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs,
                        const float* b_packed, float* c, ptrdiff_t ldc, bool accumulate);

}  // namespace nemesyst::kernels::simd

#endif  // NEMESYST_KERNELS_AVX2_GEMM_H_
