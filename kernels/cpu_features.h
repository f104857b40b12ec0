// What this CPU can run, detected once at run time (never from compile flags: the binary is built
// without -march=native and the SIMD backends are only entered after these checks).
#ifndef NEMESYST_KERNELS_CPU_FEATURES_H_
#define NEMESYST_KERNELS_CPU_FEATURES_H_

#include <string>

namespace nemesyst::kernels {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;  // CPUID bits: the instructions exist ...
  bool avx512bw = false;
  bool avx512dq = false;
  bool avx512vl = false;
  bool os_zmm = false;  // ... and the OS saves opmask and ZMM state (XCR0 bits 5-7, and 1-2)
  std::string vendor;   // "GenuineIntel", "AuthenticAMD", ... (empty if unknown)
};

// Detected on first call (thread-safe), then cached. The hardware's answer: the ISA limit below
// does not change it.
const CpuFeatures& GetCpuFeatures();

// The process-wide cap set by SetKernelIsaLimit (kernels.h); the Supports checks below obey it.
enum class IsaLimit { kAvx512, kAvx2, kNone };
IsaLimit CurrentIsaLimit();

// True when the avx2 backend's instructions (AVX2 + FMA, and F16C when fp16 weights are wanted)
// are all present and the ISA limit allows AVX2.
bool CpuSupportsAvx2Backend(bool need_f16c);

// True when the avx512 backend can run: everything the avx2 backend needs (its kernel classes are
// compiled for AVX2) plus AVX-512 F/BW/DQ/VL with the ZMM state enabled by the OS, and the ISA
// limit allows AVX-512.
bool CpuSupportsAvx512Backend(bool need_f16c);

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_CPU_FEATURES_H_
