#include "kernels/cpu_features.h"

#include <atomic>

#include "nemesyst/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

#include <cstring>
#endif

namespace nemesyst::kernels {
namespace {

#if defined(__x86_64__) || defined(__i386__)
// XCR0 (which register state the OS saves on context switches) by xgetbv, written as asm so this
// file needs no -mxsave. Only valid when CPUID reports OSXSAVE (leaf 1, ECX bit 27).
unsigned long long ReadXcr0() {
  unsigned eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}
#endif

CpuFeatures Detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512dq = __builtin_cpu_supports("avx512dq");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
  // __builtin_cpu_supports has no "f16c" in every GCC; CPUID leaf 1, ECX bit 29 is F16C. It is
  // only usable when the OS saves AVX state, which the avx2 check above already implies.
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
    f.f16c = (ecx >> 29) & 1u;
    // XCR0: SSE (1), AVX (2), opmask (5), ZMM_Hi256 (6), Hi16_ZMM (7) must all be enabled.
    const bool osxsave = (ecx >> 27) & 1u;
    f.os_zmm = osxsave && (ReadXcr0() & 0xE6u) == 0xE6u;
  }
  if (__get_cpuid(0, &eax, &ebx, &ecx, &edx)) {
    char vendor[13];
    std::memcpy(vendor, &ebx, 4);
    std::memcpy(vendor + 4, &edx, 4);
    std::memcpy(vendor + 8, &ecx, 4);
    vendor[12] = '\0';
    f.vendor = vendor;
  }
  f.f16c = f.f16c && f.avx2;
#endif
  return f;
}

std::atomic<IsaLimit> g_isa_limit{IsaLimit::kAvx512};

}  // namespace

IsaLimit CurrentIsaLimit() { return g_isa_limit.load(std::memory_order_relaxed); }

const CpuFeatures& GetCpuFeatures() {
  static const CpuFeatures features = Detect();
  return features;
}

bool CpuSupportsAvx2Backend(bool need_f16c) {
  const CpuFeatures& f = GetCpuFeatures();
  return CurrentIsaLimit() != IsaLimit::kNone && f.avx2 && f.fma && (!need_f16c || f.f16c);
}

bool CpuSupportsAvx512Backend(bool need_f16c) {
  const CpuFeatures& f = GetCpuFeatures();
  return CurrentIsaLimit() == IsaLimit::kAvx512 && CpuSupportsAvx2Backend(need_f16c) && f.f16c &&
         f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl && f.os_zmm;
}

}  // namespace nemesyst::kernels

namespace nemesyst {

Status SetKernelIsaLimit(std::string_view max_isa) {
  using kernels::IsaLimit;
  IsaLimit limit;
  if (max_isa == "avx512") {
    limit = IsaLimit::kAvx512;
  } else if (max_isa == "avx2") {
    limit = IsaLimit::kAvx2;
  } else if (max_isa == "none") {
    limit = IsaLimit::kNone;
  } else {
    return Status::InvalidArgument("kernel ISA limit must be avx512, avx2 or none, not '" +
                                   std::string(max_isa) + "'");
  }
  kernels::g_isa_limit.store(limit, std::memory_order_relaxed);
  return Status::OK();
}

}  // namespace nemesyst
