// The contract between the dense (fully connected) layer and its backends.
//   y [B][O] = x [B][I] · Wᵀ + b,   W [O][I] row-major, b [O].
// Ownership, thread-safety and allocation rules as in recurrent_kernel.h.
#ifndef NEMESYST_KERNELS_DENSE_KERNEL_H_
#define NEMESYST_KERNELS_DENSE_KERNEL_H_

#include <memory>

#include "nemesyst/kernels.h"
#include "nemesyst/status.h"

namespace nemesyst::kernels {

struct DenseShape {
  int input = 0;   // I
  int output = 0;  // O
};

class DenseKernel {
 public:
  virtual ~DenseKernel() = default;
  virtual Backend backend() const = 0;
  virtual const DenseShape& shape() const = 0;
  // Copies (packs) W [O][I] and b [O]; call again after every update.
  virtual Status SetWeights(const float* w, const float* b) = 0;
  virtual Status Forward(int batch, const float* x, float* y) = 0;
  // dx [B][I] written when non-null; dw [O][I] and db [O] accumulated (+=).
  virtual Status Backward(int batch, const float* x, const float* dy, float* dx, float* dw,
                          float* db) = 0;
};

Result<std::unique_ptr<DenseKernel>> CreateRefDenseKernel(const DenseShape& shape,
                                                          const KernelOptions& options);
Result<std::unique_ptr<DenseKernel>> CreateAvx2DenseKernel(const DenseShape& shape,
                                                           const KernelOptions& options);
Result<std::unique_ptr<DenseKernel>> CreateOnednnDenseKernel(const DenseShape& shape,
                                                             const KernelOptions& options);

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_DENSE_KERNEL_H_
