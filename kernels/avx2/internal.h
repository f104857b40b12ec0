// Constructors of the SIMD kernels (avx2 and avx512 backends; `isa` is simd::kAvx2Ops or
// simd::kAvx512Ops). They run AVX2 code (and `isa`'s), so only factory.cc calls them, after
// checking the CPU.
#ifndef NEMESYST_KERNELS_AVX2_INTERNAL_H_
#define NEMESYST_KERNELS_AVX2_INTERNAL_H_

#include <memory>

#include "kernels/avx2/isa_ops.h"
#include "kernels/dense_kernel.h"
#include "kernels/recurrent_kernel.h"

namespace nemesyst::kernels::avx2 {

std::unique_ptr<RecurrentKernel> NewRecurrentKernel(const RecurrentShape& shape,
                                                    const KernelOptions& options,
                                                    const simd::IsaOps& isa);
std::unique_ptr<DenseKernel> NewDenseKernel(const DenseShape& shape, const KernelOptions& options,
                                            const simd::IsaOps& isa);

}  // namespace nemesyst::kernels::avx2

#endif  // NEMESYST_KERNELS_AVX2_INTERNAL_H_
