// IsaOps: the table of instruction-set-specific routines behind the SIMD backends. The kernel
// classes (recurrent_kernel.cc, dense_kernel.cc: packing, threading, tape, error handling) are
// written once and call the hot loops through this table; each instruction set provides one
// table, built from the shared templates (recurrent_cell.h, gemm_tile.h, gate_grads.h) in a
// translation unit compiled for it:
//   kAvx2Ops   (isa_ops.cc, -mavx2 -mfma -mf16c; Vec256, 8 lanes)
//   kAvx512Ops (kernels/avx512/isa_ops.cc, AVX-512 F/BW/DQ/VL; Vec512, 16 lanes)
// The tables are plain constant data: reading one runs no code, so the factories may take the
// address of either before the CPU check; calling through them requires that ISA.
#ifndef NEMESYST_KERNELS_AVX2_ISA_OPS_H_
#define NEMESYST_KERNELS_AVX2_ISA_OPS_H_

#include <cstddef>
#include <cstdint>

#include "kernels/avx2/gemm.h"
#include "kernels/recurrent_kernel.h"
#include "nemesyst/kernels.h"

namespace nemesyst::kernels::simd {

// One time step's operands. Rows are batch elements; all row strides are the natural ones
// (I for x, H for h, c and rh, G*H or 4H for gates).
struct CellStep {
  const float* x = nullptr;       // [B][I]
  const float* h_prev = nullptr;  // [B][H]
  float* h_out = nullptr;         // [B][H], must not alias h_prev
  const float* c_in = nullptr;    // [B][H] (LSTM), may alias c_out
  float* c_out = nullptr;         // [B][H] (LSTM)
  // LSTM, tape only: [B][4H] activated gates i, f, g, o. kGru, tape only: [B][4H] r, z, n and
  // hn = h·R_nᵀ + b_hn. kGruClassic, always (scratch when not recording): [B][3H] r (tape only),
  // z, and in the n slot the pre-activation x·W_nᵀ + b_n between the two phases, n after.
  float* gates = nullptr;
  float* tanh_c = nullptr;  // tape: [B][H] tanh(c_t) (LSTM)
  float* rh = nullptr;      // [B][H] r⊙h_{t-1} (kGruClassic: phase 0 writes, phase 1 reads)
  // kGruClassic runs a step in two phases: 0 computes r and z (and r⊙h), 1 the candidate from
  // (r⊙h)·R_nᵀ and h_t. Every unit of r⊙h must be written before any tile of phase 1 starts.
  int phase = 0;
  int input = 0;
  int hidden = 0;
};

// The packed cell weights (layout in recurrent_cell.h). f16 non-null selects the fp16 copy
// (inference only); the tape path always uses f32.
struct CellWeights {
  CellKind cell = CellKind::kLstm;  // selects the fused cell (and panel layout)
  const float* f32 = nullptr;
  const uint16_t* f16 = nullptr;
  size_t panel_stride = 0;  // elements between consecutive blocks' panels
  const float* bias = nullptr;
};

// Which GRU gradient pass a GateGradRow asks for (gate_grads.h); kNone for LSTM and RNN.
//   kGru: every gate at once; kClassicCandidate then kClassicReset: kGruClassic's dz, dn, then
//   (after the caller's GEMM d(r⊙h) = dn·R_n) dr.
enum class GruGradPass { kNone, kGru, kClassicCandidate, kClassicReset };

// One batch row at one time step of BPTT (gate_grads.h). LSTM when gates is non-null and gru is
// kNone.
struct GateGradRow {
  float* dh_next = nullptr;       // [H] gradient from step t+1 (dh_{t}); GRUs: out, see below
  const float* dy = nullptr;      // [H] output gradient at t, may be null
  float* dg = nullptr;            // [G*H] out (kGru: [4H] dr, dz, dn, dhn)
  const float* gates = nullptr;   // [4H] activated gates (LSTM); GRUs: CellStep::gates' tape
  const float* tanh_c = nullptr;  // [H] (LSTM)
  const float* c_prev = nullptr;  // [H] c_{t-1} (LSTM)
  float* dc = nullptr;            // [H] in: dc_t, out: dc_{t-1} (LSTM)
  const float* h = nullptr;       // [H] h_t (RNN), h_{t-1} (GRUs)
  // GRUs: dh_next is replaced by the part of dh_{t-1} that bypasses the weights: dh_t⊙z, plus
  // (kClassicReset) d(r⊙h)⊙r, where drh [H] is d(r⊙h).
  const float* drh = nullptr;
  GruGradPass gru = GruGradPass::kNone;
  int hidden = 0;
};

struct IsaOps {
  Backend backend;
  const char* name;      // "avx2", "avx512": prefixes error messages
  int lanes;             // hidden units per fused-cell block
  int gemm_panel_width;  // columns per PackB panel for `gemm`
  void (*cell_step)(const CellStep& s, const CellWeights& w, bool tape, int row_begin, int row_end,
                    int blk_begin, int blk_end);
  GemmFn gemm;
  void (*gate_grads_row)(const GateGradRow& row);
};

extern const IsaOps kAvx2Ops;
extern const IsaOps kAvx512Ops;

}  // namespace nemesyst::kernels::simd

#endif  // NEMESYST_KERNELS_AVX2_ISA_OPS_H_
