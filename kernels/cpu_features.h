// What this CPU can run, detected once at run time (never from compile flags: the binary is built
// without -march=native and the avx2 backend is only entered after these checks).
#ifndef NEMESYST_KERNELS_CPU_FEATURES_H_
#define NEMESYST_KERNELS_CPU_FEATURES_H_

#include <string>

namespace nemesyst::kernels {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;  // reported for information; no backend uses it
  std::string vendor;    // "GenuineIntel", "AuthenticAMD", ... (empty if unknown)
};

// Detected on first call (thread-safe), then cached.
const CpuFeatures& GetCpuFeatures();

// True when the avx2 backend's instructions (AVX2 + FMA, and F16C when fp16 weights are wanted)
// are all present.
bool CpuSupportsAvx2Backend(bool need_f16c);

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_CPU_FEATURES_H_
