// The fused recurrent cell of the avx2 backend: for a tile of MR batch rows × NB blocks of 8
// hidden units it accumulates every gate of those units (x_t·W_ihᵀ + h_{t-1}·W_hhᵀ + bias) in
// registers, applies the activations and the state update, and writes h_t (and c_t) — one pass,
// no gate matrix in memory. With kTape it also records what BPTT needs.
//
// Packed weight layout (built by PackCellWeights): for hidden block b (units 8b..8b+7, zero
// padded past H), a panel [K = I + H][G][8] whose row k holds, gate by gate, the 8 units' weights
// for input k (k < I: w_ih, else w_hh). One k row is G×8 contiguous values, so a tile streams its
// panels front to back; the bias is packed the same way, [block][G][8].
#ifndef NEMESYST_KERNELS_AVX2_RECURRENT_CELL_H_
#define NEMESYST_KERNELS_AVX2_RECURRENT_CELL_H_

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "kernels/avx2/simd.h"

namespace nemesyst::kernels::avx2 {

constexpr int kCellBlock = 8;
constexpr int kPrefetchRows = 16;

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

template <int G, int MR, int NB, typename WT, bool kTape>
void CellTile(const CellStep& s, const WT* panels, size_t panel_stride, const float* bias_p,
              int row0, int blk0) {
  const int in = s.input;
  const int hid = s.hidden;
  __m256 acc[MR][NB][G];
#pragma GCC unroll 3
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int b = 0; b < NB; ++b)
#pragma GCC unroll 4
      for (int g = 0; g < G; ++g)
        acc[r][b][g] = _mm256_load_ps(bias_p + ((blk0 + b) * G + g) * kCellBlock);

  const WT* panel0 = panels + static_cast<size_t>(blk0) * panel_stride;
  // Two source ranges share one k loop body: x_t for k < I, h_{t-1} after.
  for (int part = 0; part < 2; ++part) {
    const float* a = part == 0 ? s.x + static_cast<ptrdiff_t>(row0) * in
                               : s.h_prev + static_cast<ptrdiff_t>(row0) * hid;
    const int lda = part == 0 ? in : hid;
    const int kn = lda;
    const WT* w = panel0 + (part == 0 ? 0 : static_cast<size_t>(in) * G * kCellBlock);
    for (int k = 0; k < kn; ++k, w += G * kCellBlock) {
      if constexpr (MR == 1 && std::is_same_v<WT, float>) {
        // A GEMV streams each weight once per step from L2 (or L3): fetch kPrefetchRows rows
        // ahead into L1, one cache line per panel per k (a row is G × 32 bytes).
#pragma GCC unroll 8
        for (int b = 0; b < NB; ++b) {
          _mm_prefetch(reinterpret_cast<const char*>(w + b * panel_stride +
                                                     kPrefetchRows * G * kCellBlock + (k & 1) * 16),
                       _MM_HINT_T0);
        }
      }
      __m256 av[MR];
#pragma GCC unroll 3
      for (int r = 0; r < MR; ++r) av[r] = _mm256_broadcast_ss(a + r * lda + k);
#pragma GCC unroll 8
      for (int b = 0; b < NB; ++b) {
#pragma GCC unroll 4
        for (int g = 0; g < G; ++g) {
          const __m256 wv = LoadWeights(w + b * panel_stride + g * kCellBlock);
#pragma GCC unroll 3
          for (int r = 0; r < MR; ++r) acc[r][b][g] = _mm256_fmadd_ps(av[r], wv, acc[r][b][g]);
        }
      }
    }
  }

#pragma GCC unroll 8
  for (int b = 0; b < NB; ++b) {
    const int j0 = (blk0 + b) * kCellBlock;
    const __m256i mask = TailMask(std::min(kCellBlock, hid - j0));
#pragma GCC unroll 3
    for (int r = 0; r < MR; ++r) {
      const ptrdiff_t row = row0 + r;
      const ptrdiff_t at = row * hid + j0;
      if constexpr (G == 4) {
        const __m256 ig = Sigmoid(acc[r][b][0]);
        const __m256 fg = Sigmoid(acc[r][b][1]);
        const __m256 gg = Tanh(acc[r][b][2]);
        const __m256 og = Sigmoid(acc[r][b][3]);
        const __m256 c_prev = _mm256_maskload_ps(s.c_in + at, mask);
        const __m256 c = _mm256_fmadd_ps(fg, c_prev, _mm256_mul_ps(ig, gg));
        const __m256 tc = Tanh(c);
        _mm256_maskstore_ps(s.c_out + at, mask, c);
        _mm256_maskstore_ps(s.h_out + at, mask, _mm256_mul_ps(og, tc));
        if constexpr (kTape) {
          float* gates = s.gates + row * 4 * hid + j0;
          _mm256_maskstore_ps(gates, mask, ig);
          _mm256_maskstore_ps(gates + hid, mask, fg);
          _mm256_maskstore_ps(gates + 2 * hid, mask, gg);
          _mm256_maskstore_ps(gates + 3 * hid, mask, og);
          _mm256_maskstore_ps(s.tanh_c + at, mask, tc);
        }
      } else {
        _mm256_maskstore_ps(s.h_out + at, mask, Tanh(acc[r][b][0]));
      }
    }
  }
}

template <int G, typename WT, bool kTape>
using CellTileFn = void (*)(const CellStep&, const WT*, size_t, const float*, int, int);

template <int G, int MR, typename WT, bool kTape>
CellTileFn<G, WT, kTape> PickTileNb(int nb) {
  CellTileFn<G, WT, kTape> fn = nullptr;
  auto pick = [&](auto nb_constant) {
    constexpr int kNb = decltype(nb_constant)::value;
    if constexpr (MR * kNb * G <= 12) fn = &CellTile<G, MR, kNb, WT, kTape>;
  };
  switch (nb) {
    case 1:
      pick(std::integral_constant<int, 1>{});
      break;
    case 2:
      pick(std::integral_constant<int, 2>{});
      break;
    case 3:
      pick(std::integral_constant<int, 3>{});
      break;
    case 4:
      pick(std::integral_constant<int, 4>{});
      break;
    case 5:
      pick(std::integral_constant<int, 5>{});
      break;
    case 6:
      pick(std::integral_constant<int, 6>{});
      break;
    case 7:
      pick(std::integral_constant<int, 7>{});
      break;
    case 8:
      pick(std::integral_constant<int, 8>{});
      break;
    default:
      break;
  }
  return fn;
}

template <int G, typename WT, bool kTape>
CellTileFn<G, WT, kTape> PickTile(int mr, int nb) {
  switch (mr) {
    case 1:
      return PickTileNb<G, 1, WT, kTape>(nb);
    case 2:
      return PickTileNb<G, 2, WT, kTape>(nb);
    case 3:
      return PickTileNb<G, 3, WT, kTape>(nb);
    default:
      return nullptr;
  }
}

// Runs one time step for rows [row_begin, row_end) and hidden blocks [blk_begin, blk_end).
// Several rows: blocks outermost (a block's panel stays in L1 while 3-row tiles stream over the
// batch). One row (a GEMV): several blocks per tile so enough independent FMA chains are in
// flight to cover the FMA latency.
template <int G, typename WT, bool kTape>
void RunCellStep(const CellStep& s, const WT* panels, size_t panel_stride, const float* bias_p,
                 int row_begin, int row_end, int blk_begin, int blk_end) {
  constexpr int kRowsNb = G == 4 ? 1 : 4;
  constexpr int kWideNb = G == 4 ? 3 : 8;
  const int rows = row_end - row_begin;
  if (rows <= 0 || blk_end <= blk_begin) return;
  if (rows >= 2) {
    for (int blk = blk_begin; blk < blk_end; blk += kRowsNb) {
      const int nb = std::min(kRowsNb, blk_end - blk);
      int r = row_begin;
      while (r < row_end) {
        const int left = row_end - r;
        const int mr = left == 4 ? 2 : std::min(3, left);
        PickTile<G, WT, kTape>(mr, nb)(s, panels, panel_stride, bias_p, r, blk);
        r += mr;
      }
    }
  } else {
    // A lone last block would leave a tile with only G chains (latency-bound): end with
    // (kWideNb - 1) + 2 blocks instead of kWideNb + 1, e.g. 4 blocks as 2 + 2, not 3 + 1.
    for (int blk = blk_begin; blk < blk_end;) {
      const int left = blk_end - blk;
      const int nb = left == kWideNb + 1 && kWideNb > 2 ? kWideNb - 1 : std::min(kWideNb, left);
      PickTile<G, WT, kTape>(1, nb)(s, panels, panel_stride, bias_p, row_begin, blk);
      blk += nb;
    }
  }
}

}  // namespace nemesyst::kernels::avx2

#endif  // NEMESYST_KERNELS_AVX2_RECURRENT_CELL_H_
