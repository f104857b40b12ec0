// Vec256: the AVX2/FMA/F16C vector traits the shared kernel templates (simd_math.h,
// recurrent_cell.h, gemm_tile.h, gate_grads.h) are instantiated with for the avx2 backend. Only
// included by files compiled with -mavx2 -mfma -mf16c.
#ifndef NEMESYST_KERNELS_AVX2_SIMD_H_
#define NEMESYST_KERNELS_AVX2_SIMD_H_

#include <immintrin.h>

#include <cstdint>

#include "kernels/avx2/simd_math.h"

namespace nemesyst::kernels::avx2 {

struct Vec256 {
  using V = __m256;
  using Mask = __m256i;
  static constexpr int kLanes = 8;
  // Register budget of the tiles (16 ymm registers): accumulators per fused-cell tile, batch
  // rows per fused-cell tile, and the GEMM tile (rows × vectors of B columns).
  static constexpr int kCellAccumulators = 12;
  static constexpr int kCellRows = 3;
  static constexpr int kGemmRows = 6;
  static constexpr int kGemmVectors = 2;
  static constexpr int kGemmKBlock = 256;  // a 16-column B panel block of 16 KiB stays in L1

  static V Zero() { return _mm256_setzero_ps(); }
  static V Set1(float v) { return _mm256_set1_ps(v); }
  static V Load(const float* p) { return _mm256_load_ps(p); }
  static V LoadU(const float* p) { return _mm256_loadu_ps(p); }
  static void StoreU(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V Broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V Add(V a, V b) { return _mm256_add_ps(a, b); }
  static V Sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V Mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V Min(V a, V b) { return _mm256_min_ps(a, b); }
  static V Max(V a, V b) { return _mm256_max_ps(a, b); }
  static V Fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V Fnmadd(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
  static V Fmsub(V a, V b, V c) { return _mm256_fmsub_ps(a, b, c); }
  static V ClampAbs(V x, float limit) {
    return _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-limit)), _mm256_set1_ps(limit));
  }
  // The float whose exponent field holds the low 8 bits of t's mantissa (see OnePlusExpNegScaled).
  static V ExponentFromLowBits(V t) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(t), 23));
  }
  // 1/d from the 12-bit rcpps estimate refined by one Newton step (relative error ~2e-7): a
  // division costs ~5 cycles of a non-pipelined unit, and the fused cell needs five per 8 units.
  static V Reciprocal(V d) {
    const V r = _mm256_rcp_ps(d);
    return _mm256_fmadd_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(1.0f)), r);
  }

  // Lane mask with the first `n` (0..8) lanes set, for loads and stores at the end of a row.
  static Mask TailMask(int n) {
    alignas(32) static const int32_t kTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                   0,  0,  0,  0,  0,  0,  0,  0};
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTable + 8 - n));
  }
  static V MaskLoad(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
  static void MaskStore(float* p, Mask m, V v) { _mm256_maskstore_ps(p, m, v); }

  // Weight loads: fp32 as is, fp16 converted with F16C (accumulation stays fp32).
  static V LoadWeights(const float* p) { return _mm256_load_ps(p); }
  static V LoadWeights(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static void Prefetch(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }
};

}  // namespace nemesyst::kernels::avx2

#endif  // NEMESYST_KERNELS_AVX2_SIMD_H_
