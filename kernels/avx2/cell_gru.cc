// The avx2 instance of the fused gru cell step (kernels/avx2/recurrent_cell.h): one
// translation unit per cell op, so they compile in parallel.
#include "kernels/avx2/recurrent_cell.h"
#include "kernels/avx2/simd.h"

namespace nemesyst::kernels::simd {

NEMESYST_CELL_OP_STEP(, avx2::Vec256, CellOp::kGru);

}  // namespace nemesyst::kernels::simd
