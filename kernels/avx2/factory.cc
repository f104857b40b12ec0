// The avx2 factories. Compiled WITHOUT -mavx2 (see CMakeLists.txt): this is the one place that
// runs before we know the CPU has AVX2, FMA and F16C, so it must not contain any of them.
#include <cpuid.h>

#include <string>

#include "kernels/avx2/internal.h"

namespace nemesyst::kernels {
namespace {

// F16C (CPUID.1:ECX bit 29) directly: not every compiler's __builtin_cpu_supports knows "f16c".
// The AVX OS-support check is part of the avx2 test below.
bool CpuHasF16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}

Status CheckCpuAndOptions(const KernelOptions& options) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    return Status::Unimplemented("avx2 backend: this CPU lacks AVX2/FMA");
  }
  if (options.fp16_weights && !CpuHasF16c()) {
    return Status::Unimplemented("avx2 backend: fp16_weights needs F16C, which this CPU lacks");
  }
  if (options.threads < 1 || options.threads > 256) {
    return Status::InvalidArgument("avx2 backend: threads must be in [1, 256], got " +
                                   std::to_string(options.threads));
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<RecurrentKernel>> CreateAvx2RecurrentKernel(const RecurrentShape& shape,
                                                                   const KernelOptions& options) {
  NEMESYST_RETURN_IF_ERROR(CheckCpuAndOptions(options));
  if (shape.input < 1 || shape.hidden < 1) {
    return Status::InvalidArgument("avx2 recurrent kernel: input and hidden must be >= 1");
  }
  return avx2::NewRecurrentKernel(shape, options);
}

Result<std::unique_ptr<DenseKernel>> CreateAvx2DenseKernel(const DenseShape& shape,
                                                           const KernelOptions& options) {
  NEMESYST_RETURN_IF_ERROR(CheckCpuAndOptions(options));
  if (shape.input < 1 || shape.output < 1) {
    return Status::InvalidArgument("avx2 dense kernel: input and output must be >= 1");
  }
  return avx2::NewDenseKernel(shape, options);
}

}  // namespace nemesyst::kernels
