// Single-threaded fp32 GEMM for the avx2 backend: C[M][N] (+)= A·B, with B pre-packed into
// panels of 16 columns and A read in place through (row, column) strides, so both A and Aᵀ come
// for free (the weight gradients use dGᵀ without a transposed copy).
//
// The 6×16 register tile (12 accumulators, 2 B loads and 6 broadcasts per k) keeps the two FMA
// ports busy; K is blocked by 256 so a B panel block (16 KiB) stays in L1 while A rows stream.
// Callers split M between threads.
#ifndef NEMESYST_KERNELS_AVX2_GEMM_H_
#define NEMESYST_KERNELS_AVX2_GEMM_H_

#include <cstddef>

namespace nemesyst::kernels::avx2 {

constexpr int kGemmPanelWidth = 16;

// Floats needed to pack a K×N matrix.
inline size_t PackedBSize(int k, int n) {
  return static_cast<size_t>((n + kGemmPanelWidth - 1) / kGemmPanelWidth) * k * kGemmPanelWidth;
}

// Packs B, whose element (k, n) is b[k * b_rs + n * b_cs], into panels [n / 16][k][16]
// (zero-padded past n).
void PackB(int k, int n, const float* b, ptrdiff_t b_rs, ptrdiff_t b_cs, float* out);

// C[i][j] = (accumulate ? C[i][j] : 0) + Σ_k A(i, k) · B(k, j), for i < m, j < n, where
// A(i, k) = a[i * a_rs + k * a_cs] and B was packed by PackB with the same k and n.
void GemmPackedB(int m, int n, int k, const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs,
                 const float* b_packed, float* c, ptrdiff_t ldc, bool accumulate);

}  // namespace nemesyst::kernels::avx2

#endif  // NEMESYST_KERNELS_AVX2_GEMM_H_
