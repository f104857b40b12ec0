// IEEE 754 binary16 conversion in portable C++ (no F16C), round-to-nearest-even. Used by the
// `ref` backend to emulate KernelOptions::fp16_weights exactly as an F16C kernel stores weights
// (vcvtps2ph with rounding mode 0 = nearest even), so fp16 backends can be tested against it.
// Note: the subnormal path uses float arithmetic and assumes DAZ/FTZ are off.
#ifndef NEMESYST_KERNELS_FP16_H_
#define NEMESYST_KERNELS_FP16_H_

#include <cstdint>
#include <cstring>

namespace nemesyst::kernels {

inline uint16_t FloatToHalf(float value) {
  uint32_t f;
  std::memcpy(&f, &value, 4);
  const uint32_t sign = f & 0x80000000u;
  f ^= sign;
  uint16_t out;
  if (f >= (127u + 16u) << 23) {               // >= 65536: Inf, NaN or overflow
    out = f > (255u << 23) ? 0x7e00 : 0x7c00;  // NaN -> quiet NaN, else Inf
  } else if (f < (113u << 23)) {               // result is subnormal or zero
    const uint32_t magic_bits = ((127u - 15u) + (23u - 10u) + 1u) << 23;
    float magic, v;
    std::memcpy(&magic, &magic_bits, 4);
    std::memcpy(&v, &f, 4);
    v += magic;  // aligns the 10 mantissa bits at the bottom; FP addition rounds to nearest even
    std::memcpy(&f, &v, 4);
    out = static_cast<uint16_t>(f - magic_bits);
  } else {
    const uint32_t mantissa_odd = (f >> 13) & 1u;
    f += (static_cast<uint32_t>(15 - 127) << 23) + 0xfffu;  // rebias exponent, round half ...
    f += mantissa_odd;                                      // ... to even
    out = static_cast<uint16_t>(f >> 13);
  }
  return static_cast<uint16_t>(out | (sign >> 16));
}

inline float HalfToFloat(uint16_t half) {
  const uint32_t shifted_exp = 0x7c00u << 13;
  uint32_t o = (static_cast<uint32_t>(half) & 0x7fffu) << 13;
  const uint32_t exp = shifted_exp & o;
  o += (127u - 15u) << 23;
  if (exp == shifted_exp) {  // Inf / NaN
    o += (128u - 16u) << 23;
  } else if (exp == 0) {  // zero / subnormal: renormalise
    o += 1u << 23;
    const uint32_t magic_bits = 113u << 23;
    float magic, v;
    std::memcpy(&magic, &magic_bits, 4);
    std::memcpy(&v, &o, 4);
    v -= magic;
    std::memcpy(&o, &v, 4);
  }
  o |= (static_cast<uint32_t>(half) & 0x8000u) << 16;
  float result;
  std::memcpy(&result, &o, 4);
  return result;
}

// The float an fp16 store of `value` reads back as.
inline float RoundToHalf(float value) { return HalfToFloat(FloatToHalf(value)); }

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_FP16_H_
