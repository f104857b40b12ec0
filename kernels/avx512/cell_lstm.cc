// The avx512 instance of the fused lstm cell step (kernels/avx2/recurrent_cell.h): one
// translation unit per cell op, so they compile in parallel.
// vec512.h first: it must be the first to include <immintrin.h> (see there).
#include "kernels/avx512/vec512.h"
// (the comment line keeps clang-format from sorting vec512.h after the shared templates)
#include "kernels/avx2/recurrent_cell.h"

namespace nemesyst::kernels::simd {

NEMESYST_CELL_OP_STEP(, avx512::Vec512, CellOp::kLstm);

}  // namespace nemesyst::kernels::simd
