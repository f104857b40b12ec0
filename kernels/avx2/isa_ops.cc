// The avx2 instance of the shared SIMD kernels (see isa_ops.h).
#include "kernels/avx2/isa_ops_impl.h"
#include "kernels/avx2/simd.h"

namespace nemesyst::kernels::simd {

// The cells are instantiated in cell_*.cc (one file per op, compiled in parallel).
NEMESYST_CELL_OP_STEP(extern, avx2::Vec256, CellOp::kLstm);
NEMESYST_CELL_OP_STEP(extern, avx2::Vec256, CellOp::kRnnTanh);
NEMESYST_CELL_OP_STEP(extern, avx2::Vec256, CellOp::kGru);
NEMESYST_CELL_OP_STEP(extern, avx2::Vec256, CellOp::kGruClassicGates);
NEMESYST_CELL_OP_STEP(extern, avx2::Vec256, CellOp::kGruClassicCandidate);

constinit const IsaOps kAvx2Ops = MakeIsaOps<avx2::Vec256>(Backend::kAvx2, "avx2");

}  // namespace nemesyst::kernels::simd
