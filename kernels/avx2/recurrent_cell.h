// The fused recurrent cell of the SIMD backends (avx2 and avx512), written once over a vector
// traits type S (simd_math.h): for a tile of MR batch rows × NB blocks of S::kLanes hidden units it
// accumulates every gate of those units (x_t·W_ihᵀ + h_{t-1}·W_hhᵀ + bias) in registers, applies
// the activations and the state update, and writes h_t (and c_t) — one pass, no gate matrix in
// memory. With kTape it also records what BPTT needs.
//
// Packed weight layout (built by the kernel's SetWeights, block width L = S::kLanes): for hidden
// block b (units L·b .. L·b+L-1, zero padded past H), a panel [K = I + H][G][L] whose row k holds,
// gate by gate, the L units' weights for input k (k < I: w_ih, else w_hh). One k row is G×L
// contiguous values, so a tile streams its panels front to back; the bias is packed the same way,
// [block][BiasRows][L] (kGru: b_r, b_z, b_xn, b_hn).
// kGruClassic's panel has the same size but three parts, in the order its two phases read them:
// x rows [I][3][L] (r, z, n), h rows [H][2][L] (r, z), then R_n [H][1][L], which multiplies r⊙h.
//
// The cells (CellOp) differ in their accumulators per block: LSTM i, f, g, o; RNN one; kGru r, z,
// and the candidate's x and h products apart (xn, hn: r multiplies hn only), so its h rows add
// gate 2 into a fourth accumulator; kGruClassic phase 0 r, z, xn, phase 1 the candidate, which
// starts from phase 0's xn (saved in CellStep::gates) instead of a bias.
#ifndef NEMESYST_KERNELS_AVX2_RECURRENT_CELL_H_
#define NEMESYST_KERNELS_AVX2_RECURRENT_CELL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "kernels/avx2/isa_ops.h"
#include "kernels/avx2/simd_math.h"

namespace nemesyst::kernels::simd {

constexpr int kPrefetchRows = 16;

// One fused-cell computation (a kGruClassic step is two: gates, then candidate).
enum class CellOp { kLstm, kRnnTanh, kGru, kGruClassicGates, kGruClassicCandidate };

// Accumulators per block of one tile row.
constexpr int CellAccumulators(CellOp op) {
  switch (op) {
    case CellOp::kLstm:
    case CellOp::kGru:
      return 4;
    case CellOp::kGruClassicGates:
      return 3;
    default:
      return 1;
  }
}
// Gates per panel row k of the x part (0: the op reads no x) and of the h part.
constexpr int CellXGates(CellOp op) {
  return op == CellOp::kLstm                  ? 4
         : op == CellOp::kRnnTanh             ? 1
         : op == CellOp::kGruClassicCandidate ? 0
                                              : 3;
}
constexpr int CellHGates(CellOp op) {
  return op == CellOp::kLstm ? 4 : op == CellOp::kGru ? 3 : op == CellOp::kGruClassicGates ? 2 : 1;
}

// acc[r][b][·] += Σ_k a[r][k] · w[k][gate][·] over k < kn, gate g of a panel row going to
// accumulator g, except gate 2 to kNSlot (kGru's h rows: hn). Inlined into the tile so that acc
// stays in registers.
template <typename S, int kAcc, int kGates, int kNSlot, int MR, int NB, typename WT>
__attribute__((always_inline)) inline void AccumulateRows(typename S::V (&acc)[MR][NB][kAcc],
                                                          const float* a, int lda, int kn,
                                                          const WT* w, size_t panel_stride) {
  using V = typename S::V;
  constexpr int L = S::kLanes;
  for (int k = 0; k < kn; ++k, w += kGates * L) {
    if constexpr (MR == 1 && std::is_same_v<WT, float>) {
      // A GEMV streams each weight once per step from L2 (or L3): with two-line rows (avx2),
      // fetch one line kPrefetchRows rows ahead per panel per k, alternating lines (k & 1).
      // Longer rows (avx512: 4 lines) get none: a prefetch per line took as many load-port
      // slots as the weight loads and halved the batch-1 rate (29 → 59 GFLOP/s at H = 256
      // without them; the hardware prefetchers keep up with the sequential panels).
      constexpr int kLines = kGates * L * 4 / 64;
#pragma GCC unroll 8
      for (int b = 0; b < NB; ++b) {
        const WT* ahead = w + b * panel_stride + kPrefetchRows * kGates * L;
        if constexpr (kLines <= 2) {
          S::Prefetch(ahead + (k & 1) * 16);
        }
      }
    }
    V av[MR];
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) av[r] = S::Broadcast(a + r * lda + k);
#pragma GCC unroll 8
    for (int b = 0; b < NB; ++b) {
#pragma GCC unroll 4
      for (int g = 0; g < kGates; ++g) {
        const V wv = S::LoadWeights(w + b * panel_stride + g * L);
        const int slot = g == 2 ? kNSlot : g;
#pragma GCC unroll 8
        for (int r = 0; r < MR; ++r) acc[r][b][slot] = S::Fmadd(av[r], wv, acc[r][b][slot]);
      }
    }
  }
}

template <typename S, CellOp kOp, int MR, int NB, typename WT, bool kTape>
void CellTile(const CellStep& s, const WT* panels, size_t panel_stride, const float* bias_p,
              int row0, int blk0) {
  using V = typename S::V;
  constexpr int L = S::kLanes;
  constexpr int kAcc = CellAccumulators(kOp);
  constexpr int kXGates = CellXGates(kOp);
  constexpr int kHGates = CellHGates(kOp);
  const int in = s.input;
  const int hid = s.hidden;
  V acc[MR][NB][kAcc];
  if constexpr (kOp == CellOp::kGruClassicCandidate) {
    // The candidate starts from phase 0's x·W_nᵀ + b_n.
#pragma GCC unroll 8
    for (int b = 0; b < NB; ++b) {
      const int j0 = (blk0 + b) * L;
      const typename S::Mask mask = S::TailMask(std::min(L, hid - j0));
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        acc[r][b][0] =
            S::MaskLoad(s.gates + static_cast<ptrdiff_t>(row0 + r) * 3 * hid + 2 * hid + j0, mask);
      }
    }
  } else {
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
      for (int b = 0; b < NB; ++b)
#pragma GCC unroll 4
        for (int g = 0; g < kAcc; ++g) acc[r][b][g] = S::Load(bias_p + ((blk0 + b) * kAcc + g) * L);
  }

  const WT* panel0 = panels + static_cast<size_t>(blk0) * panel_stride;
  const float* x = s.x + static_cast<ptrdiff_t>(row0) * in;
  const float* h = s.h_prev + static_cast<ptrdiff_t>(row0) * hid;
  if constexpr (kOp == CellOp::kLstm || kOp == CellOp::kRnnTanh) {
    // Two source ranges share one k loop body: x_t for k < I, h_{t-1} after.
    for (int part = 0; part < 2; ++part) {
      const float* a = part == 0 ? x : h;
      const int lda = part == 0 ? in : hid;
      const WT* w = panel0 + (part == 0 ? 0 : static_cast<size_t>(in) * kXGates * L);
      AccumulateRows<S, kAcc, kXGates, 2, MR, NB>(acc, a, lda, lda, w, panel_stride);
    }
  } else if constexpr (kOp == CellOp::kGruClassicCandidate) {
    const float* rh = s.rh + static_cast<ptrdiff_t>(row0) * hid;
    const WT* w = panel0 + static_cast<size_t>(in) * 3 * L + static_cast<size_t>(hid) * 2 * L;
    AccumulateRows<S, kAcc, kHGates, 2, MR, NB>(acc, rh, hid, hid, w, panel_stride);
  } else {
    AccumulateRows<S, kAcc, kXGates, 2, MR, NB>(acc, x, in, in, panel0, panel_stride);
    constexpr int kNSlot = kOp == CellOp::kGru ? 3 : 2;
    AccumulateRows<S, kAcc, kHGates, kNSlot, MR, NB>(
        acc, h, hid, hid, panel0 + static_cast<size_t>(in) * kXGates * L, panel_stride);
  }

#pragma GCC unroll 8
  for (int b = 0; b < NB; ++b) {
    const int j0 = (blk0 + b) * L;
    const typename S::Mask mask = S::TailMask(std::min(L, hid - j0));
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const ptrdiff_t row = row0 + r;
      const ptrdiff_t at = row * hid + j0;
      if constexpr (kOp == CellOp::kLstm) {
        const V ig = Sigmoid<S>(acc[r][b][0]);
        const V fg = Sigmoid<S>(acc[r][b][1]);
        const V gg = Tanh<S>(acc[r][b][2]);
        const V og = Sigmoid<S>(acc[r][b][3]);
        const V c_prev = S::MaskLoad(s.c_in + at, mask);
        const V c = S::Fmadd(fg, c_prev, S::Mul(ig, gg));
        const V tc = Tanh<S>(c);
        S::MaskStore(s.c_out + at, mask, c);
        S::MaskStore(s.h_out + at, mask, S::Mul(og, tc));
        if constexpr (kTape) {
          float* gates = s.gates + row * 4 * hid + j0;
          S::MaskStore(gates, mask, ig);
          S::MaskStore(gates + hid, mask, fg);
          S::MaskStore(gates + 2 * hid, mask, gg);
          S::MaskStore(gates + 3 * hid, mask, og);
          S::MaskStore(s.tanh_c + at, mask, tc);
        }
      } else if constexpr (kOp == CellOp::kRnnTanh) {
        S::MaskStore(s.h_out + at, mask, Tanh<S>(acc[r][b][0]));
      } else if constexpr (kOp == CellOp::kGru) {
        // n = tanh(xn + r⊙hn); h' = (1−z)⊙n + z⊙h = n + z⊙(h − n).
        const V rg = Sigmoid<S>(acc[r][b][0]);
        const V zg = Sigmoid<S>(acc[r][b][1]);
        const V ng = Tanh<S>(S::Fmadd(rg, acc[r][b][3], acc[r][b][2]));
        const V h_prev = S::MaskLoad(s.h_prev + at, mask);
        S::MaskStore(s.h_out + at, mask, S::Fmadd(zg, S::Sub(h_prev, ng), ng));
        if constexpr (kTape) {
          float* gates = s.gates + row * 4 * hid + j0;
          S::MaskStore(gates, mask, rg);
          S::MaskStore(gates + hid, mask, zg);
          S::MaskStore(gates + 2 * hid, mask, ng);
          S::MaskStore(gates + 3 * hid, mask, acc[r][b][3]);
        }
      } else if constexpr (kOp == CellOp::kGruClassicGates) {
        const V rg = Sigmoid<S>(acc[r][b][0]);
        const V zg = Sigmoid<S>(acc[r][b][1]);
        const V h_prev = S::MaskLoad(s.h_prev + at, mask);
        S::MaskStore(s.rh + at, mask, S::Mul(rg, h_prev));
        float* gates = s.gates + row * 3 * hid + j0;
        if constexpr (kTape) S::MaskStore(gates, mask, rg);
        S::MaskStore(gates + hid, mask, zg);
        S::MaskStore(gates + 2 * hid, mask, acc[r][b][2]);
      } else {
        float* gates = s.gates + row * 3 * hid + j0;
        const V ng = Tanh<S>(acc[r][b][0]);
        const V zg = S::MaskLoad(gates + hid, mask);
        const V h_prev = S::MaskLoad(s.h_prev + at, mask);
        S::MaskStore(s.h_out + at, mask, S::Fmadd(zg, S::Sub(h_prev, ng), ng));
        if constexpr (kTape) S::MaskStore(gates + 2 * hid, mask, ng);
      }
    }
  }
}

template <typename WT>
using CellTileFn = void (*)(const CellStep&, const WT*, size_t, const float*, int, int);

// Blocks per tile RunCellStep asks for with several rows: one for the many-accumulator ops (their
// registers go to rows), four otherwise. A single row takes up to the register budget.
constexpr int CellRowsBlocks(CellOp op) { return CellAccumulators(op) >= 3 ? 1 : 4; }

template <typename S, CellOp kOp, int MR, typename WT, bool kTape, int... kNb>
CellTileFn<WT> PickTileNb(int nb, std::integer_sequence<int, kNb...>) {
  CellTileFn<WT> fn = nullptr;
  auto pick = [&](auto nb_constant) {
    constexpr int kNbValue = decltype(nb_constant)::value;
    // Only the tiles RunCellStep can ask for are instantiated (each one is a large unrolled
    // function: the unreachable ones cost compile time, notably under the sanitizers).
    if constexpr (MR * kNbValue * CellAccumulators(kOp) <= S::kCellAccumulators &&
                  (MR == 1 || kNbValue <= CellRowsBlocks(kOp))) {
      if (nb == kNbValue) fn = &CellTile<S, kOp, MR, kNbValue, WT, kTape>;
    }
  };
  (pick(std::integral_constant<int, kNb + 1>{}), ...);
  return fn;
}

// The tile for `mr` rows (1..S::kCellRows) × `nb` blocks (1..8) within the register budget, or
// null.
template <typename S, CellOp kOp, typename WT, bool kTape, int... kMr>
CellTileFn<WT> PickTileMr(int mr, int nb, std::integer_sequence<int, kMr...>) {
  CellTileFn<WT> fn = nullptr;
  auto pick = [&](auto mr_constant) {
    constexpr int kMrValue = decltype(mr_constant)::value;
    if (mr == kMrValue) {
      fn = PickTileNb<S, kOp, kMrValue, WT, kTape>(nb, std::make_integer_sequence<int, 8>{});
    }
  };
  (pick(std::integral_constant<int, kMr + 1>{}), ...);
  return fn;
}

template <typename S, CellOp kOp, typename WT, bool kTape>
CellTileFn<WT> PickTile(int mr, int nb) {
  return PickTileMr<S, kOp, WT, kTape>(mr, nb, std::make_integer_sequence<int, S::kCellRows>{});
}

// Runs one time step for rows [row_begin, row_end) and hidden blocks [blk_begin, blk_end).
// Several rows: blocks outermost (a block's panel stays in L1 while row tiles stream over the
// batch), rows in nearly equal tiles of at most S::kCellRows. One row (a GEMV): several blocks per
// tile so enough independent FMA chains are in flight to cover the FMA latency.
template <typename S, CellOp kOp, typename WT, bool kTape>
void RunCellStep(const CellStep& s, const WT* panels, size_t panel_stride, const float* bias_p,
                 int row_begin, int row_end, int blk_begin, int blk_end) {
  constexpr int kAcc = CellAccumulators(kOp);
  constexpr int kRowsNb = CellRowsBlocks(kOp);
  constexpr int kWideNb = std::min(8, S::kCellAccumulators / kAcc);
  const int rows = row_end - row_begin;
  if (rows <= 0 || blk_end <= blk_begin) return;
  if (rows >= 2) {
    for (int blk = blk_begin; blk < blk_end; blk += kRowsNb) {
      const int nb = std::min(kRowsNb, blk_end - blk);
      int r = row_begin;
      while (r < row_end) {
        const int left = row_end - r;
        const int tiles = (left + S::kCellRows - 1) / S::kCellRows;
        const int mr = (left + tiles - 1) / tiles;
        PickTile<S, kOp, WT, kTape>(mr, nb)(s, panels, panel_stride, bias_p, r, blk);
        r += mr;
      }
    }
  } else {
    // A lone last block would leave a tile with only G chains (latency-bound): end with
    // (kWideNb - 1) + 2 blocks instead of kWideNb + 1, e.g. 4 blocks as 2 + 2, not 3 + 1.
    for (int blk = blk_begin; blk < blk_end;) {
      const int left = blk_end - blk;
      const int nb = left == kWideNb + 1 && kWideNb > 2 ? kWideNb - 1 : std::min(kWideNb, left);
      PickTile<S, kOp, WT, kTape>(1, nb)(s, panels, panel_stride, bias_p, row_begin, blk);
      blk += nb;
    }
  }
}

// One step of cell op kOp, fp32 or fp16 panels, with or without the training tape. Explicitly
// instantiated per ISA and op in their own translation units (cell_<op>.cc in kernels/avx2/ and
// kernels/avx512/), so the build compiles the cells in parallel: the register-tile expansions of
// five ops × three weight variants in one file took the sanitizer build 14 minutes.
template <typename S, CellOp kOp>
void CellOpStep(const CellStep& s, const CellWeights& w, bool tape, int row_begin, int row_end,
                int blk_begin, int blk_end) {
  if (tape) {
    RunCellStep<S, kOp, float, true>(s, w.f32, w.panel_stride, w.bias, row_begin, row_end,
                                     blk_begin, blk_end);
  } else if (w.f16 != nullptr) {
    RunCellStep<S, kOp, uint16_t, false>(s, w.f16, w.panel_stride, w.bias, row_begin, row_end,
                                         blk_begin, blk_end);
  } else {
    RunCellStep<S, kOp, float, false>(s, w.f32, w.panel_stride, w.bias, row_begin, row_end,
                                      blk_begin, blk_end);
  }
}

// Declares (extern) or defines the instantiations of CellOpStep<S, op> for one ISA's traits.
#define NEMESYST_CELL_OP_STEP(prefix, S, op)                                                 \
  prefix template void CellOpStep<S, op>(const CellStep& s, const CellWeights& w, bool tape, \
                                         int row_begin, int row_end, int blk_begin, int blk_end)

// The IsaOps entry: one step (kGruClassic: one phase, s.phase) of the cell described by `w`
// (cell kind, fp32 or fp16 panels).
template <typename S>
void CellStepFor(const CellStep& s, const CellWeights& w, bool tape, int row_begin, int row_end,
                 int blk_begin, int blk_end) {
  switch (w.cell) {
    case CellKind::kLstm:
      CellOpStep<S, CellOp::kLstm>(s, w, tape, row_begin, row_end, blk_begin, blk_end);
      break;
    case CellKind::kRnnTanh:
      CellOpStep<S, CellOp::kRnnTanh>(s, w, tape, row_begin, row_end, blk_begin, blk_end);
      break;
    case CellKind::kGru:
      CellOpStep<S, CellOp::kGru>(s, w, tape, row_begin, row_end, blk_begin, blk_end);
      break;
    case CellKind::kGruClassic:
      if (s.phase == 0) {
        CellOpStep<S, CellOp::kGruClassicGates>(s, w, tape, row_begin, row_end, blk_begin, blk_end);
      } else {
        CellOpStep<S, CellOp::kGruClassicCandidate>(s, w, tape, row_begin, row_end, blk_begin,
                                                    blk_end);
      }
      break;
  }
}

}  // namespace nemesyst::kernels::simd

#endif  // NEMESYST_KERNELS_AVX2_RECURRENT_CELL_H_
