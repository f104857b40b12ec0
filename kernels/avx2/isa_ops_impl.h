// Builds an IsaOps table from the shared templates for vector traits S. Included only by the one
// translation unit per instruction set that defines its table (compiled with that ISA's flags).
#ifndef NEMESYST_KERNELS_AVX2_ISA_OPS_IMPL_H_
#define NEMESYST_KERNELS_AVX2_ISA_OPS_IMPL_H_

#include "kernels/avx2/gate_grads.h"
#include "kernels/avx2/gemm_tile.h"
#include "kernels/avx2/isa_ops.h"
#include "kernels/avx2/recurrent_cell.h"

namespace nemesyst::kernels::simd {

template <typename S>
constexpr IsaOps MakeIsaOps(Backend backend, const char* name) {
  return IsaOps{backend,         name,
                S::kLanes,       S::kGemmVectors * S::kLanes,
                &CellStepFor<S>, &GemmPackedB<S>,
                &GateGradsRow<S>};
}

}  // namespace nemesyst::kernels::simd

#endif  // NEMESYST_KERNELS_AVX2_ISA_OPS_IMPL_H_
