// Constructors of the avx2 kernels. They run AVX2 code, so only factory.cc calls them, after
// checking the CPU.
#ifndef NEMESYST_KERNELS_AVX2_INTERNAL_H_
#define NEMESYST_KERNELS_AVX2_INTERNAL_H_

#include <memory>

#include "kernels/dense_kernel.h"
#include "kernels/recurrent_kernel.h"

namespace nemesyst::kernels::avx2 {

std::unique_ptr<RecurrentKernel> NewRecurrentKernel(const RecurrentShape& shape,
                                                    const KernelOptions& options);
std::unique_ptr<DenseKernel> NewDenseKernel(const DenseShape& shape, const KernelOptions& options);

}  // namespace nemesyst::kernels::avx2

#endif  // NEMESYST_KERNELS_AVX2_INTERNAL_H_
