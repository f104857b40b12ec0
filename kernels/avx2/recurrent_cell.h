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
// [block][G][L].
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

template <typename S, int G, int MR, int NB, typename WT, bool kTape>
void CellTile(const CellStep& s, const WT* panels, size_t panel_stride, const float* bias_p,
              int row0, int blk0) {
  using V = typename S::V;
  constexpr int L = S::kLanes;
  const int in = s.input;
  const int hid = s.hidden;
  V acc[MR][NB][G];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int b = 0; b < NB; ++b)
#pragma GCC unroll 4
      for (int g = 0; g < G; ++g) acc[r][b][g] = S::Load(bias_p + ((blk0 + b) * G + g) * L);

  const WT* panel0 = panels + static_cast<size_t>(blk0) * panel_stride;
  // Two source ranges share one k loop body: x_t for k < I, h_{t-1} after.
  for (int part = 0; part < 2; ++part) {
    const float* a = part == 0 ? s.x + static_cast<ptrdiff_t>(row0) * in
                               : s.h_prev + static_cast<ptrdiff_t>(row0) * hid;
    const int lda = part == 0 ? in : hid;
    const int kn = lda;
    const WT* w = panel0 + (part == 0 ? 0 : static_cast<size_t>(in) * G * L);
    for (int k = 0; k < kn; ++k, w += G * L) {
      if constexpr (MR == 1 && std::is_same_v<WT, float>) {
        // A GEMV streams each weight once per step from L2 (or L3): with two-line rows (avx2),
        // fetch one line kPrefetchRows rows ahead per panel per k, alternating lines (k & 1).
        // Longer rows (avx512: 4 lines) get none: a prefetch per line took as many load-port
        // slots as the weight loads and halved the batch-1 rate (29 → 59 GFLOP/s at H = 256
        // without them; the hardware prefetchers keep up with the sequential panels).
        constexpr int kLines = G * L * 4 / 64;
#pragma GCC unroll 8
        for (int b = 0; b < NB; ++b) {
          const WT* ahead = w + b * panel_stride + kPrefetchRows * G * L;
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
        for (int g = 0; g < G; ++g) {
          const V wv = S::LoadWeights(w + b * panel_stride + g * L);
#pragma GCC unroll 8
          for (int r = 0; r < MR; ++r) acc[r][b][g] = S::Fmadd(av[r], wv, acc[r][b][g]);
        }
      }
    }
  }

#pragma GCC unroll 8
  for (int b = 0; b < NB; ++b) {
    const int j0 = (blk0 + b) * L;
    const typename S::Mask mask = S::TailMask(std::min(L, hid - j0));
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const ptrdiff_t row = row0 + r;
      const ptrdiff_t at = row * hid + j0;
      if constexpr (G == 4) {
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
      } else {
        S::MaskStore(s.h_out + at, mask, Tanh<S>(acc[r][b][0]));
      }
    }
  }
}

template <typename WT>
using CellTileFn = void (*)(const CellStep&, const WT*, size_t, const float*, int, int);

template <typename S, int G, int MR, typename WT, bool kTape, int... kNb>
CellTileFn<WT> PickTileNb(int nb, std::integer_sequence<int, kNb...>) {
  CellTileFn<WT> fn = nullptr;
  auto pick = [&](auto nb_constant) {
    constexpr int kNbValue = decltype(nb_constant)::value;
    if constexpr (MR * kNbValue * G <= S::kCellAccumulators) {
      if (nb == kNbValue) fn = &CellTile<S, G, MR, kNbValue, WT, kTape>;
    }
  };
  (pick(std::integral_constant<int, kNb + 1>{}), ...);
  return fn;
}

// The tile for `mr` rows (1..S::kCellRows) × `nb` blocks (1..8) within the register budget, or
// null.
template <typename S, int G, typename WT, bool kTape, int... kMr>
CellTileFn<WT> PickTileMr(int mr, int nb, std::integer_sequence<int, kMr...>) {
  CellTileFn<WT> fn = nullptr;
  auto pick = [&](auto mr_constant) {
    constexpr int kMrValue = decltype(mr_constant)::value;
    if (mr == kMrValue) {
      fn = PickTileNb<S, G, kMrValue, WT, kTape>(nb, std::make_integer_sequence<int, 8>{});
    }
  };
  (pick(std::integral_constant<int, kMr + 1>{}), ...);
  return fn;
}

template <typename S, int G, typename WT, bool kTape>
CellTileFn<WT> PickTile(int mr, int nb) {
  return PickTileMr<S, G, WT, kTape>(mr, nb, std::make_integer_sequence<int, S::kCellRows>{});
}

// Runs one time step for rows [row_begin, row_end) and hidden blocks [blk_begin, blk_end).
// Several rows: blocks outermost (a block's panel stays in L1 while row tiles stream over the
// batch), rows in nearly equal tiles of at most S::kCellRows. One row (a GEMV): several blocks per
// tile so enough independent FMA chains are in flight to cover the FMA latency.
template <typename S, int G, typename WT, bool kTape>
void RunCellStep(const CellStep& s, const WT* panels, size_t panel_stride, const float* bias_p,
                 int row_begin, int row_end, int blk_begin, int blk_end) {
  constexpr int kRowsNb = G == 4 ? 1 : 4;
  constexpr int kWideNb = std::min(8, S::kCellAccumulators / G);
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
        PickTile<S, G, WT, kTape>(mr, nb)(s, panels, panel_stride, bias_p, r, blk);
        r += mr;
      }
    }
  } else {
    // A lone last block would leave a tile with only G chains (latency-bound): end with
    // (kWideNb - 1) + 2 blocks instead of kWideNb + 1, e.g. 4 blocks as 2 + 2, not 3 + 1.
    for (int blk = blk_begin; blk < blk_end;) {
      const int left = blk_end - blk;
      const int nb = left == kWideNb + 1 && kWideNb > 2 ? kWideNb - 1 : std::min(kWideNb, left);
      PickTile<S, G, WT, kTape>(1, nb)(s, panels, panel_stride, bias_p, row_begin, blk);
      blk += nb;
    }
  }
}

// The IsaOps entry: one step of the cell described by `w` (gate count, fp32 or fp16 panels).
template <typename S>
void CellStepFor(const CellStep& s, const CellWeights& w, bool tape, int row_begin, int row_end,
                 int blk_begin, int blk_end) {
  auto run = [&](auto gates_constant) {
    constexpr int G = decltype(gates_constant)::value;
    if (tape) {
      RunCellStep<S, G, float, true>(s, w.f32, w.panel_stride, w.bias, row_begin, row_end,
                                     blk_begin, blk_end);
    } else if (w.f16 != nullptr) {
      RunCellStep<S, G, uint16_t, false>(s, w.f16, w.panel_stride, w.bias, row_begin, row_end,
                                         blk_begin, blk_end);
    } else {
      RunCellStep<S, G, float, false>(s, w.f32, w.panel_stride, w.bias, row_begin, row_end,
                                      blk_begin, blk_end);
    }
  };
  if (w.gates == 4) {
    run(std::integral_constant<int, 4>{});
  } else {
    run(std::integral_constant<int, 1>{});
  }
}

}  // namespace nemesyst::kernels::simd

#endif  // NEMESYST_KERNELS_AVX2_RECURRENT_CELL_H_
