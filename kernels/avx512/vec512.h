// Vec512: the AVX-512 (F/BW/DQ/VL) vector traits the shared kernel templates of kernels/avx2/
// (simd_math.h, recurrent_cell.h, gemm_tile.h, gate_grads.h) are instantiated with for the avx512
// backend: 16 lanes, 32 zmm registers, k-register tail masks. Only included by files compiled
// with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma -mf16c.
#ifndef NEMESYST_KERNELS_AVX512_VEC512_H_
#define NEMESYST_KERNELS_AVX512_VEC512_H_

// GCC 12's avx512fintrin.h initialises _mm512_undefined_ps() from itself, which -Wuninitialized
// reports at every inlined use (GCC bug 105593, fixed in 12.3): silence it for that header only.
// This header must therefore be the first to include <immintrin.h> in its translation unit.
// (clang has neither the bug nor the -Wmaybe-uninitialized group, so the pragmas are GCC-only.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif

#include <cstdint>

#include "kernels/avx2/simd_math.h"

namespace nemesyst::kernels::avx512 {

struct Vec512 {
  using V = __m512;
  using Mask = __mmask16;
  static constexpr int kLanes = 16;
  // Register budget (32 zmm): up to 24 accumulators per fused-cell tile (6 batch rows × 4 gates
  // of one 16-unit block for the LSTM) leaves room for the broadcasts and weight vectors; the
  // GEMM tile is 12 rows × 2 vectors (32 columns) of B.
  static constexpr int kCellAccumulators = 24;
  static constexpr int kCellRows = 6;
  static constexpr int kGemmRows = 12;
  static constexpr int kGemmVectors = 2;
  static constexpr int kGemmKBlock = 256;  // a 32-column B panel block of 32 KiB stays in L1

  static V Zero() { return _mm512_setzero_ps(); }
  static V Set1(float v) { return _mm512_set1_ps(v); }
  static V Load(const float* p) { return _mm512_load_ps(p); }
  static V LoadU(const float* p) { return _mm512_loadu_ps(p); }
  static void StoreU(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V Broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V Add(V a, V b) { return _mm512_add_ps(a, b); }
  static V Sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V Mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V Min(V a, V b) { return _mm512_min_ps(a, b); }
  static V Max(V a, V b) { return _mm512_max_ps(a, b); }
  static V Fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V Fnmadd(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }
  static V Fmsub(V a, V b, V c) { return _mm512_fmsub_ps(a, b, c); }
  // min(max(x, −limit), limit) in one vrangeps: the operand of smaller magnitude, with x's sign.
  static V ClampAbs(V x, float limit) { return _mm512_range_ps(x, _mm512_set1_ps(limit), 0x02); }
  // The float whose exponent field holds the low 8 bits of t's mantissa (see OnePlusExpNegScaled).
  static V ExponentFromLowBits(V t) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_castps_si512(t), 23));
  }
  // 1/d from the 14-bit rcp14 estimate refined by one Newton step (relative error < 1e-7).
  static V Reciprocal(V d) {
    const V r = _mm512_rcp14_ps(d);
    return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(1.0f)), r);
  }

  // Lane mask with the first `n` (0..16) lanes set.
  static Mask TailMask(int n) { return static_cast<Mask>((1u << n) - 1u); }
  static V MaskLoad(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static void MaskStore(float* p, Mask m, V v) { _mm512_mask_storeu_ps(p, m, v); }

  // Weight loads: fp32 as is, fp16 converted by vcvtph2ps (accumulation stays fp32).
  static V LoadWeights(const float* p) { return _mm512_load_ps(p); }
  static V LoadWeights(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static void Prefetch(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }
};

}  // namespace nemesyst::kernels::avx512

#endif  // NEMESYST_KERNELS_AVX512_VEC512_H_
