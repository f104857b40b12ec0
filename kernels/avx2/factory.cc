// The factories of the SIMD backends (avx2 and avx512). Compiled WITHOUT -mavx2 (see
// CMakeLists.txt): this is the one place that runs before we know the CPU has the instructions,
// so it must not contain any of them. It only reads the IsaOps tables (constant data) and calls
// the constructors in internal.h after the CPU check.
#include <string>

#include "kernels/avx2/internal.h"
#include "kernels/cpu_features.h"
#include "kernels/dispatch.h"

namespace nemesyst::kernels {
namespace {

// Unimplemented when this CPU (or OS) cannot run `isa`'s code; InvalidArgument for bad options.
Status CheckCpuAndOptions(const simd::IsaOps& isa, const KernelOptions& options) {
  const std::string name = isa.name;
  if (isa.backend == Backend::kAvx512) {
    if (CurrentIsaLimit() != IsaLimit::kAvx512) {
      return Status::Unimplemented(
          "avx512 backend: not allowed by the ISA limit (kernels.max_isa)");
    }
    if (!CpuSupportsAvx512Backend(options.fp16_weights)) {
      return Status::Unimplemented(
          "avx512 backend: this CPU (or OS) lacks AVX-512 F/BW/DQ/VL with ZMM state enabled");
    }
  } else if (CurrentIsaLimit() == IsaLimit::kNone) {
    return Status::Unimplemented("avx2 backend: not allowed by the ISA limit (kernels.max_isa)");
  } else if (!CpuSupportsAvx2Backend(false)) {
    return Status::Unimplemented("avx2 backend: this CPU lacks AVX2/FMA");
  }
  if (options.fp16_weights && !GetCpuFeatures().f16c) {
    return Status::Unimplemented(name + " backend: fp16_weights needs F16C, which this CPU lacks");
  }
  if (options.threads < 1 || options.threads > 256) {
    return Status::InvalidArgument(name + " backend: threads must be in [1, 256], got " +
                                   std::to_string(options.threads));
  }
  return Status::OK();
}

Result<std::unique_ptr<RecurrentKernel>> CreateSimdRecurrentKernel(const simd::IsaOps& isa,
                                                                   const RecurrentShape& shape,
                                                                   const KernelOptions& options) {
  NEMESYST_RETURN_IF_ERROR(CheckCpuAndOptions(isa, options));
  if (shape.input < 1 || shape.hidden < 1) {
    return Status::InvalidArgument(std::string(isa.name) +
                                   " recurrent kernel: input and hidden must be >= 1");
  }
  return avx2::NewRecurrentKernel(shape, options, isa);
}

Result<std::unique_ptr<DenseKernel>> CreateSimdDenseKernel(const simd::IsaOps& isa,
                                                           const DenseShape& shape,
                                                           const KernelOptions& options) {
  NEMESYST_RETURN_IF_ERROR(CheckCpuAndOptions(isa, options));
  if (shape.input < 1 || shape.output < 1) {
    return Status::InvalidArgument(std::string(isa.name) +
                                   " dense kernel: input and output must be >= 1");
  }
  return avx2::NewDenseKernel(shape, options, isa);
}

}  // namespace

Result<std::unique_ptr<RecurrentKernel>> CreateAvx2RecurrentKernel(const RecurrentShape& shape,
                                                                   const KernelOptions& options) {
  return CreateSimdRecurrentKernel(simd::kAvx2Ops, shape, options);
}

Result<std::unique_ptr<DenseKernel>> CreateAvx2DenseKernel(const DenseShape& shape,
                                                           const KernelOptions& options) {
  return CreateSimdDenseKernel(simd::kAvx2Ops, shape, options);
}

Result<std::unique_ptr<RecurrentKernel>> CreateAvx512RecurrentKernel(const RecurrentShape& shape,
                                                                     const KernelOptions& options) {
  return CreateSimdRecurrentKernel(simd::kAvx512Ops, shape, options);
}

Result<std::unique_ptr<DenseKernel>> CreateAvx512DenseKernel(const DenseShape& shape,
                                                             const KernelOptions& options) {
  return CreateSimdDenseKernel(simd::kAvx512Ops, shape, options);
}

}  // namespace nemesyst::kernels
