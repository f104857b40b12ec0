// The element-wise step of BPTT for one batch row at one time step, over a vector traits type S
// (simd_math.h): from dh (the gradient flowing into h_t: dh_next + dy_t) and the tape, the gate
// pre-activation gradients dG_t (LSTM: di, df, dg, do; RNN: d of the tanh input) and, for the
// LSTM, the running cell gradient dc (updated in place to dc_{t-1}). The GRUs' passes are
// GruGradsRow (below).
#ifndef NEMESYST_KERNELS_AVX2_GATE_GRADS_H_
#define NEMESYST_KERNELS_AVX2_GATE_GRADS_H_

#include <algorithm>

#include "kernels/avx2/isa_ops.h"

namespace nemesyst::kernels::simd {

// The GRUs (equations in kernels/recurrent_kernel.h), with dh = dh_t, gates r, z, n from the
// tape and h = h_{t-1}:
//   dn = dh⊙(1−z)⊙(1−n²)  (of n's pre-activation; for kGru also db_xn and the x side's dW_n)
//   dz = dh⊙(h−n)⊙z⊙(1−z)
//   kGru:        dhn = dn⊙r (of hn = h·R_nᵀ + b_hn), dr = dn⊙hn⊙r⊙(1−r)
//   kGruClassic: d(r⊙h) = dn·R_n (the caller's GEMM between the passes), dr = d(r⊙h)⊙h⊙r⊙(1−r)
// and dh_next becomes the direct part of dh_{t-1}: dh⊙z (+ d(r⊙h)⊙r for the classic cell); the
// caller adds the products through R_r, R_z (and, kGru, R_n) on top.
template <typename S>
void GruGradsRow(const GateGradRow& a) {
  using V = typename S::V;
  constexpr int L = S::kLanes;
  const int hid = a.hidden;
  const V one = S::Set1(1.0f);
  for (int j = 0; j < hid; j += L) {
    const typename S::Mask mask = S::TailMask(std::min(L, hid - j));
    const V h = S::MaskLoad(a.h + j, mask);
    const V r = S::MaskLoad(a.gates + j, mask);
    const V dsig_r = S::Mul(r, S::Sub(one, r));
    if (a.gru == GruGradPass::kClassicReset) {
      const V drh = S::MaskLoad(a.drh + j, mask);
      S::MaskStore(a.dg + j, mask, S::Mul(S::Mul(drh, h), dsig_r));
      S::MaskStore(a.dh_next + j, mask, S::Fmadd(drh, r, S::MaskLoad(a.dh_next + j, mask)));
      continue;
    }
    V dh = S::MaskLoad(a.dh_next + j, mask);
    if (a.dy != nullptr) dh = S::Add(dh, S::MaskLoad(a.dy + j, mask));
    const V z = S::MaskLoad(a.gates + hid + j, mask);
    const V n = S::MaskLoad(a.gates + 2 * hid + j, mask);
    const V dn = S::Mul(S::Mul(dh, S::Sub(one, z)), S::Fnmadd(n, n, one));
    const V dz = S::Mul(S::Mul(dh, S::Sub(h, n)), S::Mul(z, S::Sub(one, z)));
    S::MaskStore(a.dg + hid + j, mask, dz);
    S::MaskStore(a.dg + 2 * hid + j, mask, dn);
    S::MaskStore(a.dh_next + j, mask, S::Mul(dh, z));
    if (a.gru == GruGradPass::kGru) {
      const V hn = S::MaskLoad(a.gates + 3 * hid + j, mask);
      S::MaskStore(a.dg + 3 * hid + j, mask, S::Mul(dn, r));
      S::MaskStore(a.dg + j, mask, S::Mul(S::Mul(dn, hn), dsig_r));
    }
  }
}

template <typename S>
void GateGradsRow(const GateGradRow& a) {
  using V = typename S::V;
  constexpr int L = S::kLanes;
  const int hid = a.hidden;
  if (a.gru != GruGradPass::kNone) {
    GruGradsRow<S>(a);
    return;
  }
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
