// Placeholder until the AVX2 backend lands: the factories report Unimplemented.
#include "kernels/dense_kernel.h"
#include "kernels/recurrent_kernel.h"

namespace nemesyst::kernels {

Result<std::unique_ptr<RecurrentKernel>> CreateAvx2RecurrentKernel(const RecurrentShape&,
                                                                   const KernelOptions&) {
  return Status::Unimplemented("avx2 recurrent kernel not built yet");
}

Result<std::unique_ptr<DenseKernel>> CreateAvx2DenseKernel(const DenseShape&,
                                                           const KernelOptions&) {
  return Status::Unimplemented("avx2 dense kernel not built yet");
}

}  // namespace nemesyst::kernels
