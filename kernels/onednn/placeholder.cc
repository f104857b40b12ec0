// Placeholder until the oneDNN backend lands: the factories report Unimplemented.
#include "kernels/dense_kernel.h"
#include "kernels/recurrent_kernel.h"

namespace nemesyst::kernels {

Result<std::unique_ptr<RecurrentKernel>> CreateOnednnRecurrentKernel(const RecurrentShape&,
                                                                   const KernelOptions&) {
  return Status::Unimplemented("onednn recurrent kernel not built yet");
}

Result<std::unique_ptr<DenseKernel>> CreateOnednnDenseKernel(const DenseShape&,
                                                           const KernelOptions&) {
  return Status::Unimplemented("onednn dense kernel not built yet");
}

}  // namespace nemesyst::kernels
