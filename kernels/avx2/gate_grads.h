// The element-wise step of BPTT for one batch row at one time step, over a vector traits type S
// (simd_math.h): from dh (the gradient flowing into h_t: dh_next + dy_t) and the tape, the gate
// pre-activation gradients dG_t (LSTM: di, df, dg, do; RNN: d of the tanh input) and, for the
// LSTM, the running cell gradient dc (updated in place to dc_{t-1}).
#ifndef NEMESYST_KERNELS_AVX2_GATE_GRADS_H_
#define NEMESYST_KERNELS_AVX2_GATE_GRADS_H_

#include <algorithm>

#include "kernels/avx2/isa_ops.h"

namespace nemesyst::kernels::simd {

template <typename S>
void GateGradsRow(const GateGradRow& a) {
  using V = typename S::V;
  constexpr int L = S::kLanes;
  const int hid = a.hidden;
  const V one = S::Set1(1.0f);
  for (int j = 0; j < hid; j += L) {
    const typename S::Mask mask = S::TailMask(std::min(L, hid - j));
    V dh = S::MaskLoad(a.dh_next + j, mask);
    if (a.dy != nullptr) dh = S::Add(dh, S::MaskLoad(a.dy + j, mask));
    if (a.gates != nullptr) {
      const V ig = S::MaskLoad(a.gates + j, mask);
      const V fg = S::MaskLoad(a.gates + hid + j, mask);
      const V gg = S::MaskLoad(a.gates + 2 * hid + j, mask);
      const V og = S::MaskLoad(a.gates + 3 * hid + j, mask);
      const V tc = S::MaskLoad(a.tanh_c + j, mask);
      const V c_prev = S::MaskLoad(a.c_prev + j, mask);
      V dc = S::MaskLoad(a.dc + j, mask);
      dc = S::Fmadd(S::Mul(dh, og), S::Fnmadd(tc, tc, one), dc);
      const V d_o = S::Mul(S::Mul(dh, tc), S::Mul(og, S::Sub(one, og)));
      const V d_i = S::Mul(S::Mul(dc, gg), S::Mul(ig, S::Sub(one, ig)));
      const V d_g = S::Mul(S::Mul(dc, ig), S::Fnmadd(gg, gg, one));
      const V d_f = S::Mul(S::Mul(dc, c_prev), S::Mul(fg, S::Sub(one, fg)));
      S::MaskStore(a.dc + j, mask, S::Mul(dc, fg));
      S::MaskStore(a.dg + j, mask, d_i);
      S::MaskStore(a.dg + hid + j, mask, d_f);
      S::MaskStore(a.dg + 2 * hid + j, mask, d_g);
      S::MaskStore(a.dg + 3 * hid + j, mask, d_o);
    } else {
      const V h = S::MaskLoad(a.h + j, mask);
      S::MaskStore(a.dg + j, mask, S::Mul(dh, S::Fnmadd(h, h, one)));
    }
  }
}

}  // namespace nemesyst::kernels::simd

#endif  // NEMESYST_KERNELS_AVX2_GATE_GRADS_H_
