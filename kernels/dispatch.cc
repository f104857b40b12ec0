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

// Runs the backend factories in `Auto` order (or only the forced one). `Avx2`, `Onednn` and
// `Ref` are the three factories for the operation.
template <typename Kernel, typename Shape, typename Factory>
Result<std::unique_ptr<Kernel>> Dispatch(const Shape& shape, Backend backend,
                                         const KernelOptions& options, Factory avx2, Factory onednn,
                                         Factory reference) {
  NEMESYST_RETURN_IF_ERROR(ValidateOptions(options));
  auto try_avx2 = [&]() -> Result<std::unique_ptr<Kernel>> {
    // The avx2 object files are compiled for AVX2/FMA/F16C: do not enter them on a CPU without.
    if (!CpuSupportsAvx2Backend(options.fp16_weights)) {
      return Status::Unimplemented(options.fp16_weights
                                       ? "avx2 backend: this CPU lacks AVX2, FMA or F16C"
                                       : "avx2 backend: this CPU lacks AVX2 or FMA");
    }
    return avx2(shape, options);
  };
  switch (backend) {
    case Backend::kAvx2:
      return try_avx2();
    case Backend::kOnednn:
      return onednn(shape, options);
    case Backend::kRef:
      return reference(shape, options);
    case Backend::kAuto:
      break;
  }
  auto a = try_avx2();
  if (a.ok() || a.status().code() != StatusCode::kUnimplemented) return a;
  auto o = onednn(shape, options);
  if (o.ok() || o.status().code() != StatusCode::kUnimplemented) return o;
  return reference(shape, options);
}

}  // namespace

Result<std::unique_ptr<RecurrentKernel>> CreateRecurrentKernel(const RecurrentShape& shape,
                                                               Backend backend,
                                                               const KernelOptions& options) {
  using Factory =
      Result<std::unique_ptr<RecurrentKernel>> (*)(const RecurrentShape&, const KernelOptions&);
  return Dispatch<RecurrentKernel, RecurrentShape, Factory>(
      shape, backend, options, &CreateAvx2RecurrentKernel, &CreateOnednnRecurrentKernel,
      &CreateRefRecurrentKernel);
}

Result<std::unique_ptr<DenseKernel>> CreateDenseKernel(const DenseShape& shape, Backend backend,
                                                       const KernelOptions& options) {
  using Factory = Result<std::unique_ptr<DenseKernel>> (*)(const DenseShape&, const KernelOptions&);
  return Dispatch<DenseKernel, DenseShape, Factory>(shape, backend, options, &CreateAvx2DenseKernel,
                                                    &CreateOnednnDenseKernel,
                                                    &CreateRefDenseKernel);
}

}  // namespace nemesyst::kernels
