#include "kernels/dispatch.h"

#include <string>

#include "kernels/cpu_features.h"

namespace nemesyst::kernels {
namespace {

Status ValidateOptions(const KernelOptions& options) {
  if (options.threads < 1) {
    return Status::InvalidArgument("kernel option threads must be >= 1 (got " +
                                   std::to_string(options.threads) + ")");
  }
  return Status::OK();
}

// The factories of one operation, one per backend.
template <typename Factory>
struct Factories {
  Factory avx512;
  Factory avx2;
  Factory onednn;
  Factory reference;
};

// Runs the backend factories in `Auto` order (or only the forced one).
template <typename Kernel, typename Shape, typename Factory>
Result<std::unique_ptr<Kernel>> Dispatch(const Shape& shape, Backend backend,
                                         const KernelOptions& options,
                                         const Factories<Factory>& f) {
  NEMESYST_RETURN_IF_ERROR(ValidateOptions(options));
  auto try_avx2 = [&]() -> Result<std::unique_ptr<Kernel>> {
    // The avx2 object files are compiled for AVX2/FMA/F16C: do not enter them on a CPU without.
    if (!CpuSupportsAvx2Backend(options.fp16_weights)) {
      return Status::Unimplemented(options.fp16_weights
                                       ? "avx2 backend: this CPU lacks AVX2, FMA or F16C"
                                       : "avx2 backend: this CPU lacks AVX2 or FMA");
    }
    return f.avx2(shape, options);
  };
  // The avx512 factory checks the CPU and OS itself (before running any AVX-512 code).
  switch (backend) {
    case Backend::kAvx512:
      return f.avx512(shape, options);
    case Backend::kAvx2:
      return try_avx2();
    case Backend::kOnednn:
      return f.onednn(shape, options);
    case Backend::kRef:
      return f.reference(shape, options);
    case Backend::kAuto:
      break;
  }
  auto v = f.avx512(shape, options);
  if (v.ok() || v.status().code() != StatusCode::kUnimplemented) return v;
  auto a = try_avx2();
  if (a.ok() || a.status().code() != StatusCode::kUnimplemented) return a;
  auto o = f.onednn(shape, options);
  if (o.ok() || o.status().code() != StatusCode::kUnimplemented) return o;
  return f.reference(shape, options);
}

}  // namespace

Result<std::unique_ptr<RecurrentKernel>> CreateRecurrentKernel(const RecurrentShape& shape,
                                                               Backend backend,
                                                               const KernelOptions& options) {
  using Factory =
      Result<std::unique_ptr<RecurrentKernel>> (*)(const RecurrentShape&, const KernelOptions&);
  static constexpr Factories<Factory> kFactories{
      &CreateAvx512RecurrentKernel, &CreateAvx2RecurrentKernel, &CreateOnednnRecurrentKernel,
      &CreateRefRecurrentKernel};
  return Dispatch<RecurrentKernel>(shape, backend, options, kFactories);
}

Result<std::unique_ptr<DenseKernel>> CreateDenseKernel(const DenseShape& shape, Backend backend,
                                                       const KernelOptions& options) {
  using Factory = Result<std::unique_ptr<DenseKernel>> (*)(const DenseShape&, const KernelOptions&);
  static constexpr Factories<Factory> kFactories{&CreateAvx512DenseKernel, &CreateAvx2DenseKernel,
                                                 &CreateOnednnDenseKernel, &CreateRefDenseKernel};
  return Dispatch<DenseKernel>(shape, backend, options, kFactories);
}

}  // namespace nemesyst::kernels
