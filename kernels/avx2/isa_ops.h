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
#include "nemesyst/kernels.h"

namespace nemesyst::kernels::simd {

// One time step's operands. Rows are batch elements; all row strides are the natural ones
// (I for x, H for h and c, G*H for gates).
struct CellStep {
  const float* x = nullptr;       // [B][I]
  const float* h_prev = nullptr;  // [B][H]
  float* h_out = nullptr;         // [B][H], must not alias h_prev
  const float* c_in = nullptr;    // [B][H] (LSTM), may alias c_out
  float* c_out = nullptr;         // [B][H] (LSTM)
  float* gates = nullptr;         // tape: [B][G*H] activated gates i, f, g, o (LSTM)
  float* tanh_c = nullptr;        // tape: [B][H] tanh(c_t) (LSTM)
  int input = 0;
  int hidden = 0;
};

// The packed cell weights (layout in recurrent_cell.h). f16 non-null selects the fp16 copy
// (inference only); the tape path always uses f32.
struct CellWeights {
  int gates = 4;  // 4 (LSTM) or 1 (vanilla RNN)
  const float* f32 = nullptr;
  const uint16_t* f16 = nullptr;
  size_t panel_stride = 0;  // elements between consecutive blocks' panels
  const float* bias = nullptr;
};

// One batch row at one time step of BPTT (gate_grads.h). LSTM when gates is non-null.
struct GateGradRow {
  const float* dh_next = nullptr;  // [H] gradient from step t+1 (dh_{t})
  const float* dy = nullptr;       // [H] output gradient at t, may be null
  float* dg = nullptr;             // [G*H] out
  const float* gates = nullptr;    // [4H] activated gates (LSTM)
  const float* tanh_c = nullptr;   // [H] (LSTM)
  const float* c_prev = nullptr;   // [H] c_{t-1} (LSTM)
  float* dc = nullptr;             // [H] in: dc_t, out: dc_{t-1} (LSTM)
  const float* h = nullptr;        // [H] h_t (RNN)
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
