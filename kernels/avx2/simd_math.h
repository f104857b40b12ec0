// Vectorised exp, sigmoid and tanh written once over a vector-traits type `S` (Vec256 in
// kernels/avx2/simd.h, Vec512 in kernels/avx512/vec512.h), so the avx2 and avx512 backends compute
// the activations with the same algorithm and the same constants.
//
// Both activations are built on one routine, OnePlusExpNegScaled(x) = 1 + e^-(s·x), so that a
// sigmoid is that plus one reciprocal and a tanh (2·σ(2x) − 1) one more operation: the fused cell
// evaluates five of them per unit per step (three σ, two tanh), and at small K (the streaming tick:
// K = 72 and 128) they are a quarter of the cell's time.
//
// Accuracy: e^-x by range reduction (−x = n·ln 2 + r, |r| ≤ ln 2 / 2, ln 2 split in two constants
// so n·ln 2 is exact) and e^r = 1 + r + r²·P(r) with P of degree 3 fitted (weighted least squares
// on Chebyshev points) to the relative error of e^r: max 1.2e-7 over the interval, ~2 ulp. Sigmoid
// and tanh therefore have absolute error ≤ ~3e-7, within the 1e-5 relative error the tests demand
// of the SIMD backends against `ref`. Divisions are a reciprocal estimate plus one Newton step
// (S::Reciprocal).
//
// A traits type provides: V (the vector), Mask, kLanes, Zero, Set1, Load (aligned),
// LoadU/StoreU, Add, Sub, Mul, Min, Max, Fmadd(a, b, c) = a·b + c, Fnmadd = c − a·b,
// Fmsub = a·b − c, ClampAbs(x, limit) = min(max(x, −limit), limit),
// ExponentFromLowBits(t) (see OnePlusExpNegScaled), Reciprocal, TailMask(n), MaskLoad,
// MaskStore, Broadcast, LoadWeights (fp32 / fp16), Prefetch, and the tile sizes
// (kCellAccumulators, kCellRows, kGemmRows, kGemmVectors, kGemmKBlock).
#ifndef NEMESYST_KERNELS_AVX2_SIMD_MATH_H_
#define NEMESYST_KERNELS_AVX2_SIMD_MATH_H_

namespace nemesyst::kernels::simd {

// 1 + e^-(s·x) for s = 2^kLog2Scale (1 for σ, 2 for tanh), x clamped to ±87/s (so 2^n below stays
// a normal float; σ and tanh are saturated far inside that range). The rounding
// n = round(−s·x·log2 e) is done by adding the magic number 1.5·2^23 + 127 + kLog2Scale: the sum t
// is a float in [2^23, 2^24) whose low mantissa bits hold the integer n + 127 + kLog2Scale, which
// S::ExponentFromLowBits(t) shifts into the exponent field to give s·2^n (one shift, instead of
// floor, convert, add and shift). With u = −r/s (−s·x = n·ln 2 + r) and e^r − 1 = q = −s·u +
// s²·u²·P(−s·u), the scale s is folded into P's coefficients (c_k·s^(k+1): exact, powers of two),
// so w = q/s = P_s·u² − u and 1 + e^-(s·x) = w·(s·2^n) + (2^n + 1). Scaling by a power of two is
// exact, so Tanh(x) gives bit for bit what σ's formula gives for 2x, one multiply cheaper.
template <typename S, int kLog2Scale>
inline typename S::V OnePlusExpNegScaled(typename S::V x) {
  using V = typename S::V;
  constexpr float kS = kLog2Scale == 0 ? 1.0f : 2.0f;
  constexpr float kMagic = 12582912.0f + 127.0f + kLog2Scale;  // 1.5 · 2^23, plus the bias
  x = S::ClampAbs(x, 87.0f / kS);
  const V t = S::Fnmadd(x, S::Set1(1.44269504088896341f * kS), S::Set1(kMagic));
  const V n = S::Sub(t, S::Set1(kMagic));
  // u = −r/s = x + n·ln 2/s, ln 2 = 0.693359375 − 2.12194440e-4 (the first part exact in n·C1).
  V u = S::Fmadd(n, S::Set1(0.693359375f / kS), x);
  u = S::Fmadd(n, S::Set1(-2.12194440e-4f / kS), u);
  const V z = S::Mul(u, u);
  // P(r) = c0 + c1·r + c2·r² + c3·r³ (fitted), by Horner in u, coefficients scaled by s^(k+1).
  V p = S::Set1(8.3338379505e-3f * kS * kS * kS * kS);
  p = S::Fnmadd(p, u, S::Set1(4.1898577938e-2f * kS * kS * kS));
  p = S::Fnmadd(p, u, S::Set1(1.6666886383e-1f * kS * kS));
  p = S::Fnmadd(p, u, S::Set1(4.9999142573e-1f * kS));
  const V w = S::Fmsub(p, z, u);              // (e^r − 1) / s
  const V scale = S::ExponentFromLowBits(t);  // s · 2^n
  const V one_plus = kLog2Scale == 0 ? S::Add(scale, S::Set1(1.0f))
                                     : S::Fmadd(scale, S::Set1(1.0f / kS), S::Set1(1.0f));
  return S::Fmadd(w, scale, one_plus);
}

// 1 / (1 + e^-x).
template <typename S>
inline typename S::V Sigmoid(typename S::V x) {
  return S::Reciprocal(OnePlusExpNegScaled<S, 0>(x));
}

// tanh(x) = 2·σ(2x) − 1. Absolute error ≤ ~3e-7 over the whole range (relative error grows only
// for |x| ≲ 1e-3, where the value itself is that small).
template <typename S>
inline typename S::V Tanh(typename S::V x) {
  const typename S::V one = S::Set1(1.0f);
  return S::Fmsub(S::Set1(2.0f), S::Reciprocal(OnePlusExpNegScaled<S, 1>(x)), one);
}

}  // namespace nemesyst::kernels::simd

#endif  // NEMESYST_KERNELS_AVX2_SIMD_MATH_H_
