// Vectorised exp, sigmoid and tanh written once over a vector-traits type `S` (Vec256 in
// kernels/avx2/simd.h, Vec512 in kernels/avx512/vec512.h), so the avx2 and avx512 backends compute
// the activations with the same algorithm and the same constants.
//
// Accuracy: exp follows Cephes expf (range reduction by ln 2 split in two constants, degree-5
// polynomial), within ~2 ulp; sigmoid and tanh build on it (absolute error ≤ ~3e-7). That keeps the
// SIMD backends within the 1e-5 relative error the tests demand of them against `ref`. Divisions
// are a reciprocal estimate plus one Newton step (S::Reciprocal).
//
// A traits type provides: V (the vector), Mask, kLanes, Zero, Set1, Load (aligned),
// LoadU/StoreU, Add, Sub, Mul, Min, Max, Fmadd(a, b, c) = a·b + c, Fnmadd = c − a·b,
// Fmsub = a·b − c, Floor, Pow2(n) = 2^n for an integral-valued float vector in the normal range,
// Reciprocal, TailMask(n), MaskLoad, MaskStore, Broadcast, LoadWeights (fp32 / fp16), Prefetch,
// and the tile sizes (kCellAccumulators, kCellRows, kGemmRows, kGemmVectors, kGemmKBlock).
#ifndef NEMESYST_KERNELS_AVX2_SIMD_MATH_H_
#define NEMESYST_KERNELS_AVX2_SIMD_MATH_H_

namespace nemesyst::kernels::simd {

template <typename S>
inline typename S::V Exp(typename S::V x) {
  using V = typename S::V;
  // Clamped so that 2^n stays a normal float (n >= -126) and exp does not overflow.
  x = S::Min(x, S::Set1(88.3762626647949f));
  x = S::Max(x, S::Set1(-87.3365447505531f));
  const V fx = S::Floor(S::Fmadd(x, S::Set1(1.44269504088896341f), S::Set1(0.5f)));
  x = S::Fnmadd(fx, S::Set1(0.693359375f), x);
  x = S::Fnmadd(fx, S::Set1(-2.12194440e-4f), x);
  const V z = S::Mul(x, x);
  V y = S::Set1(1.9875691500E-4f);
  y = S::Fmadd(y, x, S::Set1(1.3981999507E-3f));
  y = S::Fmadd(y, x, S::Set1(8.3334519073E-3f));
  y = S::Fmadd(y, x, S::Set1(4.1665795894E-2f));
  y = S::Fmadd(y, x, S::Set1(1.6666665459E-1f));
  y = S::Fmadd(y, x, S::Set1(5.0000001201E-1f));
  y = S::Fmadd(y, z, x);
  y = S::Add(y, S::Set1(1.0f));
  return S::Mul(y, S::Pow2(fx));
}

// 1 / (1 + e^-x).
template <typename S>
inline typename S::V Sigmoid(typename S::V x) {
  return S::Reciprocal(S::Add(S::Set1(1.0f), Exp<S>(S::Sub(S::Zero(), x))));
}

// tanh(x) = 2·σ(2x) − 1: one exp and one reciprocal, as cheap as a sigmoid (the fused cell
// computes two tanh per unit per step). Absolute error ≤ ~3e-7 over the whole range (relative
// error grows only for |x| ≲ 1e-3, where the value itself is that small).
template <typename S>
inline typename S::V Tanh(typename S::V x) {
  const typename S::V one = S::Set1(1.0f);
  const typename S::V e = Exp<S>(S::Mul(x, S::Set1(-2.0f)));
  return S::Fmsub(S::Set1(2.0f), S::Reciprocal(S::Add(one, e)), one);
}

}  // namespace nemesyst::kernels::simd

#endif  // NEMESYST_KERNELS_AVX2_SIMD_MATH_H_
