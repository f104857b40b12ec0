// AVX2/FMA building blocks shared by the avx2 kernels: accurate vectorised exp, sigmoid and tanh,
// tail masks, and fp32/fp16 weight loads. Only included by files compiled with -mavx2 -mfma -mf16c.
//
// Accuracy: exp follows Cephes expf (range reduction by ln 2 split in two constants, degree-5
// polynomial), within ~2 ulp; sigmoid and tanh build on it (absolute error ≤ ~3e-7). That keeps the
// backend within the 1e-5 relative error the tests demand of it against `ref`. Divisions are a
// reciprocal estimate plus one Newton step (see Reciprocal).
#ifndef NEMESYST_KERNELS_AVX2_SIMD_H_
#define NEMESYST_KERNELS_AVX2_SIMD_H_

#include <immintrin.h>

#include <cstdint>

namespace nemesyst::kernels::avx2 {

inline __m256 Exp(__m256 x) {
  // Clamped so that 2^n stays a normal float (n >= -126) and exp does not overflow.
  x = _mm256_min_ps(x, _mm256_set1_ps(88.3762626647949f));
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.3365447505531f));
  __m256 fx = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f));
  fx = _mm256_floor_ps(fx);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
  const __m256 z = _mm256_mul_ps(x, x);
  __m256 y = _mm256_set1_ps(1.9875691500E-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507E-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073E-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894E-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459E-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201E-1f));
  y = _mm256_fmadd_ps(y, z, x);
  y = _mm256_add_ps(y, _mm256_set1_ps(1.0f));
  __m256i n = _mm256_cvttps_epi32(fx);
  n = _mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(n));
}

// 1/d from the 12-bit rcpps estimate refined by one Newton step (relative error ~2e-7): a
// division costs ~5 cycles of a non-pipelined unit, and the fused cell needs five per 8 units.
inline __m256 Reciprocal(__m256 d) {
  const __m256 r = _mm256_rcp_ps(d);
  return _mm256_fmadd_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(1.0f)), r);
}

// 1 / (1 + e^-x).
inline __m256 Sigmoid(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return Reciprocal(_mm256_add_ps(one, Exp(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

// tanh(x) = 2·σ(2x) − 1: one exp and one reciprocal, as cheap as a sigmoid (the fused cell
// computes two tanh per unit per step). Absolute error ≤ ~3e-7 over the whole range (relative
// error grows only for |x| ≲ 1e-3, where the value itself is that small).
inline __m256 Tanh(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 e = Exp(_mm256_mul_ps(x, _mm256_set1_ps(-2.0f)));
  return _mm256_fmsub_ps(_mm256_set1_ps(2.0f), Reciprocal(_mm256_add_ps(one, e)), one);
}

// Lane mask with the first `n` (0..8) lanes set, for loads and stores at the end of a row.
inline __m256i TailMask(int n) {
  alignas(32) static const int32_t kTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                 0,  0,  0,  0,  0,  0,  0,  0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTable + 8 - n));
}

// Weight loads: fp32 as is, fp16 converted with F16C (accumulation stays fp32).
inline __m256 LoadWeights(const float* p) { return _mm256_load_ps(p); }
inline __m256 LoadWeights(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(p)));
}

}  // namespace nemesyst::kernels::avx2

#endif  // NEMESYST_KERNELS_AVX2_SIMD_H_
