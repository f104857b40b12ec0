// Built instead of the oneDNN backend when NEMESYST_ONEDNN=OFF.
#include "kernels/dense_kernel.h"
#include "kernels/recurrent_kernel.h"

namespace nemesyst::kernels {

Result<std::unique_ptr<RecurrentKernel>> CreateOnednnRecurrentKernel(const RecurrentShape&,
                                                                     const KernelOptions&) {
  return Status::Unimplemented("this build has no oneDNN backend (NEMESYST_ONEDNN=OFF)");
}

Result<std::unique_ptr<DenseKernel>> CreateOnednnDenseKernel(const DenseShape&,
                                                             const KernelOptions&) {
  return Status::Unimplemented("this build has no oneDNN backend (NEMESYST_ONEDNN=OFF)");
}

}  // namespace nemesyst::kernels
