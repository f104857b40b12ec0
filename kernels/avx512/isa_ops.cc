// The avx512 instance of the shared SIMD kernels (see kernels/avx2/isa_ops.h): the same fused
// cell, GEMM and BPTT templates as avx2, instantiated with 16-lane zmm traits.
// vec512.h first: it must be the first to include <immintrin.h> (see there).
#include "kernels/avx512/vec512.h"
// (the comment line keeps clang-format from sorting vec512.h after the shared templates)
#include "kernels/avx2/isa_ops_impl.h"

namespace nemesyst::kernels::simd {

// The cells are instantiated in cell_*.cc (one file per op, compiled in parallel).
NEMESYST_CELL_OP_STEP(extern, avx512::Vec512, CellOp::kLstm);
NEMESYST_CELL_OP_STEP(extern, avx512::Vec512, CellOp::kRnnTanh);
NEMESYST_CELL_OP_STEP(extern, avx512::Vec512, CellOp::kGru);
NEMESYST_CELL_OP_STEP(extern, avx512::Vec512, CellOp::kGruClassicGates);
NEMESYST_CELL_OP_STEP(extern, avx512::Vec512, CellOp::kGruClassicCandidate);

constinit const IsaOps kAvx512Ops = MakeIsaOps<avx512::Vec512>(Backend::kAvx512, "avx512");

}  // namespace nemesyst::kernels::simd
