// Chooses a backend per operation at run time (after oneDNN's "ordered list of implementations"):
// for Backend::kAuto the list is avx512 -> avx2 -> onednn -> ref and the first factory that does
// not answer Unimplemented wins; any other error (bad shape) is returned at once. A forced backend
// returns its own error, e.g. Unimplemented for avx512 on a CPU without AVX-512 F/BW/DQ/VL (or
// whose OS does not save the ZMM state), or for avx2 on a CPU without AVX2/FMA.
//
// Every layer, model, trainer and streaming predictor creates its kernels through here, so each
// backend benefits everything above it.
#ifndef NEMESYST_KERNELS_DISPATCH_H_
#define NEMESYST_KERNELS_DISPATCH_H_

#include <memory>

#include "kernels/dense_kernel.h"
#include "kernels/recurrent_kernel.h"
#include "nemesyst/kernels.h"
#include "nemesyst/status.h"

namespace nemesyst::kernels {

Result<std::unique_ptr<RecurrentKernel>> CreateRecurrentKernel(const RecurrentShape& shape,
                                                               Backend backend,
                                                               const KernelOptions& options);
Result<std::unique_ptr<DenseKernel>> CreateDenseKernel(const DenseShape& shape, Backend backend,
                                                       const KernelOptions& options);

// The avx512 backend's factories (kernels/avx2/factory.cc; the other backends' factories are
// declared next to their kernel interfaces). Unimplemented on a CPU or OS without AVX-512
// F/BW/DQ/VL and ZMM state, never a crash.
Result<std::unique_ptr<RecurrentKernel>> CreateAvx512RecurrentKernel(const RecurrentShape& shape,
                                                                     const KernelOptions& options);
Result<std::unique_ptr<DenseKernel>> CreateAvx512DenseKernel(const DenseShape& shape,
                                                             const KernelOptions& options);

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_DISPATCH_H_
