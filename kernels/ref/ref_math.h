// The reference mathematics of the recurrent and dense layers, templated on the scalar type so
// the same code runs in float (the `ref` backend, the oracle every other backend is tested
// against) and in double (the finite-difference gradient checks in tests/kernels/).
//
// Written for obviousness, not speed: Eigen matrix products for the GEMMs and plain loops for the
// element-wise cell equations, exactly as documented in kernels/recurrent_kernel.h.
#ifndef NEMESYST_KERNELS_REF_REF_MATH_H_
#define NEMESYST_KERNELS_REF_REF_MATH_H_

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "kernels/recurrent_kernel.h"

namespace nemesyst::kernels::ref {

template <typename T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using ConstMatrixMap = Eigen::Map<const RowMatrix<T>>;
template <typename T>
using MatrixMap = Eigen::Map<RowMatrix<T>>;
template <typename T>
using ConstRowMap = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>;
template <typename T>
using RowMap = Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>;

template <typename T>
T Sigmoid(T v) {
  return T(1) / (T(1) + std::exp(-v));
}

template <typename T>
struct RecurrentParams {
  CellKind cell = CellKind::kLstm;
  int input = 0;
  int hidden = 0;
  const T* w_ih = nullptr;  // [G*H][I]
  const T* w_hh = nullptr;  // [G*H][H]
  const T* bias = nullptr;  // [BiasRows*H]
};

template <typename T>
struct RecurrentGradsT {
  T* w_ih = nullptr;
  T* w_hh = nullptr;
  T* bias = nullptr;
};

// Everything one forward pass records, as views into one caller-owned buffer of
// TraceSize() elements, laid out [gates | h | c]:
//   gates [T][B][TraceGateRows*H]  activated gates (LSTM: σ(i), σ(f), tanh(g), σ(o); RNN: the
//                                  new h; GRU: see below)
//   h     [T+1][B][H]  h[0] = h0, h[t+1] = output of step t
//   c     [T+1][B][H]  LSTM only; c[0] = c0
// Both GRUs record four rows per step: σ(r), σ(z), tanh(n) and the one product the backward
// pass needs besides them, which is where the two cells differ: kGru keeps h·R_nᵀ + b_hn (what r
// multiplies), kGruClassic keeps r⊙h (what R_n multiplies). Recording it also gives the forward
// pass a place to build it without a temporary, so Forward and Step never allocate.
template <typename T>
struct RecurrentTrace {
  T* gates = nullptr;
  T* h = nullptr;
  T* c = nullptr;
};

constexpr int TraceGateRows(CellKind cell) { return IsGru(cell) ? 4 : GateCount(cell); }

inline size_t TraceSize(CellKind cell, int seq, int batch, int hidden) {
  const size_t bh = static_cast<size_t>(batch) * hidden;
  const size_t states = (cell == CellKind::kLstm ? 2 : 1) * (static_cast<size_t>(seq) + 1) * bh;
  return static_cast<size_t>(seq) * bh * TraceGateRows(cell) + states;
}

template <typename T>
RecurrentTrace<T> TraceViews(CellKind cell, int seq, int batch, int hidden, T* buffer) {
  const size_t bh = static_cast<size_t>(batch) * hidden;
  RecurrentTrace<T> trace;
  trace.gates = buffer;
  trace.h = buffer + static_cast<size_t>(seq) * bh * TraceGateRows(cell);
  trace.c = cell == CellKind::kLstm ? trace.h + (static_cast<size_t>(seq) + 1) * bh : nullptr;
  return trace;
}

// A [rows][cols] block with row stride `stride`, e.g. the first 3H columns of a [B][4H] trace.
template <typename T>
using StridedMap = Eigen::Map<RowMatrix<T>, 0, Eigen::OuterStride<>>;
template <typename T>
using ConstStridedMap = Eigen::Map<const RowMatrix<T>, 0, Eigen::OuterStride<>>;

template <typename T>
void FillInitialState(const T* given, size_t n, T* out) {
  if (given) {
    std::copy(given, given + n, out);
  } else {
    std::fill(out, out + n, T(0));
  }
}

// The GRU forward (both cells), per kernels/recurrent_kernel.h. Per step the trace row of a
// sequence is [r | z | n | m] (H each), m = h·R_nᵀ + b_hn (kGru) or r⊙h (kGruClassic); the
// pre-activations are built in place in the first three blocks.
template <typename T>
void GruForward(const RecurrentParams<T>& p, int seq, int batch, const T* x, const T* h0,
                const RecurrentTrace<T>& trace) {
  const int H = p.hidden, I = p.input, S = 4 * H;  // S: trace row stride
  const bool lbr = p.cell == CellKind::kGru;       // linear before reset
  const size_t bh = static_cast<size_t>(batch) * H;
  ConstMatrixMap<T> w_ih(p.w_ih, 3 * H, I);
  ConstMatrixMap<T> w_hh(p.w_hh, 3 * H, H);
  FillInitialState(h0, bh, trace.h);
  for (int t = 0; t < seq; ++t) {
    ConstMatrixMap<T> x_t(x + static_cast<size_t>(t) * batch * I, batch, I);
    ConstMatrixMap<T> h_prev(trace.h + t * bh, batch, H);
    T* step = trace.gates + t * bh * 4;
    StridedMap<T> a(step, batch, 3 * H, Eigen::OuterStride<>(S));  // x-side, all three gates
    StridedMap<T> m(step + 3 * H, batch, H, Eigen::OuterStride<>(S));
    a.noalias() = x_t * w_ih.transpose();
    a.leftCols(2 * H).noalias() += h_prev * w_hh.topRows(2 * H).transpose();
    if (lbr) m.noalias() = h_prev * w_hh.bottomRows(H).transpose();
    T* h_next = trace.h + (t + 1) * bh;
    for (int b = 0; b < batch; ++b) {
      T* g = step + static_cast<size_t>(b) * S;
      const T* hp = h_prev.data() + static_cast<size_t>(b) * H;
      for (int j = 0; j < H; ++j) {
        g[j] = Sigmoid(g[j] + p.bias[j]);
        g[H + j] = Sigmoid(g[H + j] + p.bias[H + j]);
      }
      if (lbr) {
        for (int j = 0; j < H; ++j) {
          g[3 * H + j] += p.bias[3 * H + j];  // m = h·R_nᵀ + b_hn
          g[2 * H + j] = std::tanh(g[2 * H + j] + p.bias[2 * H + j] + g[j] * g[3 * H + j]);
        }
      } else {
        for (int j = 0; j < H; ++j) g[3 * H + j] = g[j] * hp[j];  // m = r⊙h
      }
    }
    if (!lbr) {
      // n's recurrent product needs every r of the row first: one more GEMM, then tanh.
      a.rightCols(H).noalias() += m * w_hh.bottomRows(H).transpose();
      for (int b = 0; b < batch; ++b) {
        T* g = step + static_cast<size_t>(b) * S;
        for (int j = 0; j < H; ++j) g[2 * H + j] = std::tanh(g[2 * H + j] + p.bias[2 * H + j]);
      }
    }
    for (int b = 0; b < batch; ++b) {
      const T* g = step + static_cast<size_t>(b) * S;
      const T* hp = h_prev.data() + static_cast<size_t>(b) * H;
      T* hn = h_next + static_cast<size_t>(b) * H;
      for (int j = 0; j < H; ++j) {
        const T z = g[H + j];
        hn[j] = (T(1) - z) * g[2 * H + j] + z * hp[j];
      }
    }
  }
}

// BPTT for both GRU cells over a trace filled by GruForward. With the pre-activation gradients
// dr, dz, dn (of r, z, n before σ/tanh) and dm (of m, kGru only):
//   dz = dh⊙(h − n)⊙z(1−z);  dn = dh⊙(1−z)⊙(1−n²)
//   kGru:    dm = dn⊙r;  dr = dn⊙m⊙r(1−r);  dh_prev = dh⊙z + [dr dz dm]·[R_r; R_z; R_n]
//            dbias = Σ [dr dz dn dm] (b_r, b_z, b_xn, b_hn)
//   classic: d(r⊙h) = dn·R_n;  dr = d(r⊙h)⊙h⊙r(1−r);  dh_prev = dh⊙z + d(r⊙h)⊙r + [dr dz]·[R_r;
//   R_z]
//            dR_n += dnᵀ·(r⊙h);  dbias = Σ [dr dz dn]
// and in both dW_ih += [dr dz dn]ᵀ·x, dx = [dr dz dn]·W_ih.
template <typename T>
void GruBackward(const RecurrentParams<T>& p, int seq, int batch, const T* x,
                 const RecurrentTrace<T>& trace, const T* dy, const T* dh_n, T* dx, T* dh0,
                 const RecurrentGradsT<T>& grads) {
  const int H = p.hidden, I = p.input, S = 4 * H;
  const bool lbr = p.cell == CellKind::kGru;
  const size_t bh = static_cast<size_t>(batch) * H;
  ConstMatrixMap<T> w_ih(p.w_ih, 3 * H, I);
  ConstMatrixMap<T> w_hh(p.w_hh, 3 * H, H);
  MatrixMap<T> dw_ih(grads.w_ih, 3 * H, I);
  MatrixMap<T> dw_hh(grads.w_hh, 3 * H, H);
  RowMap<T> dbias(grads.bias, BiasRows(p.cell) * H);

  RowMatrix<T> dh =
      dh_n ? RowMatrix<T>(ConstMatrixMap<T>(dh_n, batch, H)) : RowMatrix<T>::Zero(batch, H);
  RowMatrix<T> da(batch, S);  // [dr dz dn dm]; dm is d(r⊙h) for the classic cell
  RowMatrix<T> dh_prev(batch, H);
  for (int t = seq - 1; t >= 0; --t) {
    if (dy) dh += ConstMatrixMap<T>(dy + t * bh, batch, H);
    const T* step = trace.gates + t * bh * 4;
    const T* h_prev = trace.h + t * bh;
    ConstMatrixMap<T> h_prev_m(h_prev, batch, H);
    for (int b = 0; b < batch; ++b) {
      const T* g = step + static_cast<size_t>(b) * S;
      const T* hp = h_prev + static_cast<size_t>(b) * H;
      const T* dhb = dh.data() + static_cast<size_t>(b) * H;
      T* d = da.data() + static_cast<size_t>(b) * S;
      T* dhp = dh_prev.data() + static_cast<size_t>(b) * H;
      for (int j = 0; j < H; ++j) {
        const T r = g[j], z = g[H + j], n = g[2 * H + j];
        d[H + j] = dhb[j] * (hp[j] - n) * z * (T(1) - z);
        d[2 * H + j] = dhb[j] * (T(1) - z) * (T(1) - n * n);
        dhp[j] = dhb[j] * z;
        if (lbr) {
          d[3 * H + j] = d[2 * H + j] * r;
          d[j] = d[2 * H + j] * g[3 * H + j] * r * (T(1) - r);
        }
      }
    }
    auto dn = da.middleCols(2 * H, H);
    if (!lbr) {
      ConstStridedMap<T> rh(step + 3 * H, batch, H, Eigen::OuterStride<>(S));
      dw_hh.bottomRows(H).noalias() += dn.transpose() * rh;
      da.rightCols(H).noalias() = dn * w_hh.bottomRows(H);  // d(r⊙h)
      for (int b = 0; b < batch; ++b) {
        const T* g = step + static_cast<size_t>(b) * S;
        const T* hp = h_prev + static_cast<size_t>(b) * H;
        T* d = da.data() + static_cast<size_t>(b) * S;
        T* dhp = dh_prev.data() + static_cast<size_t>(b) * H;
        for (int j = 0; j < H; ++j) {
          const T r = g[j];
          d[j] = d[3 * H + j] * hp[j] * r * (T(1) - r);
          dhp[j] += d[3 * H + j] * r;
        }
      }
    } else {
      dw_hh.bottomRows(H).noalias() += da.rightCols(H).transpose() * h_prev_m;
      dh_prev.noalias() += da.rightCols(H) * w_hh.bottomRows(H);
    }
    ConstMatrixMap<T> x_t(x + static_cast<size_t>(t) * batch * I, batch, I);
    auto d_x_side = da.leftCols(3 * H);  // [dr dz dn]
    dw_ih.noalias() += d_x_side.transpose() * x_t;
    dw_hh.topRows(2 * H).noalias() += da.leftCols(2 * H).transpose() * h_prev_m;
    dh_prev.noalias() += da.leftCols(2 * H) * w_hh.topRows(2 * H);
    dbias.head(3 * H) += d_x_side.colwise().sum();
    if (lbr) dbias.tail(H) += da.rightCols(H).colwise().sum();
    if (dx) {
      MatrixMap<T>(dx + static_cast<size_t>(t) * batch * I, batch, I).noalias() = d_x_side * w_ih;
    }
    dh.swap(dh_prev);  // flows to step t-1
  }
  if (dh0) std::copy(dh.data(), dh.data() + bh, dh0);
}

// Forward over x [T][B][I]; h0/c0 may be null (zeros). Fills every array of `trace`.
template <typename T>
void RecurrentForward(const RecurrentParams<T>& p, int seq, int batch, const T* x, const T* h0,
                      const T* c0, const RecurrentTrace<T>& trace) {
  if (IsGru(p.cell)) {
    GruForward(p, seq, batch, x, h0, trace);
    return;
  }
  const int H = p.hidden, I = p.input, GH = GateCount(p.cell) * H;
  const bool lstm = p.cell == CellKind::kLstm;
  const size_t bh = static_cast<size_t>(batch) * H;
  ConstMatrixMap<T> w_ih(p.w_ih, GH, I);
  ConstMatrixMap<T> w_hh(p.w_hh, GH, H);
  ConstRowMap<T> bias(p.bias, GH);
  if (h0) {
    std::copy(h0, h0 + bh, trace.h);
  } else {
    std::fill(trace.h, trace.h + bh, T(0));
  }
  if (lstm) {
    if (c0) {
      std::copy(c0, c0 + bh, trace.c);
    } else {
      std::fill(trace.c, trace.c + bh, T(0));
    }
  }
  for (int t = 0; t < seq; ++t) {
    ConstMatrixMap<T> x_t(x + static_cast<size_t>(t) * batch * I, batch, I);
    ConstMatrixMap<T> h_prev(trace.h + t * bh, batch, H);
    MatrixMap<T> a(trace.gates + t * bh * GateCount(p.cell), batch, GH);
    a.noalias() = x_t * w_ih.transpose();
    a.noalias() += h_prev * w_hh.transpose();
    a.rowwise() += bias;
    T* h_next = trace.h + (t + 1) * bh;
    for (int b = 0; b < batch; ++b) {
      T* g = a.data() + static_cast<size_t>(b) * GH;
      T* hn = h_next + static_cast<size_t>(b) * H;
      if (!lstm) {
        for (int j = 0; j < H; ++j) hn[j] = g[j] = std::tanh(g[j]);
        continue;
      }
      const T* cp = trace.c + t * bh + static_cast<size_t>(b) * H;
      T* cn = trace.c + (t + 1) * bh + static_cast<size_t>(b) * H;
      for (int j = 0; j < H; ++j) {
        const T i = g[j] = Sigmoid(g[j]);
        const T f = g[H + j] = Sigmoid(g[H + j]);
        const T gg = g[2 * H + j] = std::tanh(g[2 * H + j]);
        const T o = g[3 * H + j] = Sigmoid(g[3 * H + j]);
        cn[j] = f * cp[j] + i * gg;
        hn[j] = o * std::tanh(cn[j]);
      }
    }
  }
}

// Backpropagation through time over a trace filled by RecurrentForward with the same x.
// dy [T][B][H], dh_n, dc_n may be null (zeros); dx [T][B][I], dh0, dc0 written when non-null;
// grads accumulated.
template <typename T>
void RecurrentBackward(const RecurrentParams<T>& p, int seq, int batch, const T* x,
                       const RecurrentTrace<T>& trace, const T* dy, const T* dh_n, const T* dc_n,
                       T* dx, T* dh0, T* dc0, const RecurrentGradsT<T>& grads) {
  if (IsGru(p.cell)) {
    GruBackward(p, seq, batch, x, trace, dy, dh_n, dx, dh0, grads);
    return;
  }
  const int H = p.hidden, I = p.input, GH = GateCount(p.cell) * H;
  const bool lstm = p.cell == CellKind::kLstm;
  const size_t bh = static_cast<size_t>(batch) * H;
  ConstMatrixMap<T> w_ih(p.w_ih, GH, I);
  ConstMatrixMap<T> w_hh(p.w_hh, GH, H);
  MatrixMap<T> dw_ih(grads.w_ih, GH, I);
  MatrixMap<T> dw_hh(grads.w_hh, GH, H);
  RowMap<T> dbias(grads.bias, GH);

  RowMatrix<T> dh =
      dh_n ? RowMatrix<T>(ConstMatrixMap<T>(dh_n, batch, H)) : RowMatrix<T>::Zero(batch, H);
  RowMatrix<T> dc = (lstm && dc_n) ? RowMatrix<T>(ConstMatrixMap<T>(dc_n, batch, H))
                                   : RowMatrix<T>::Zero(batch, H);
  RowMatrix<T> da(batch, GH);
  for (int t = seq - 1; t >= 0; --t) {
    if (dy) dh += ConstMatrixMap<T>(dy + t * bh, batch, H);
    const T* gates = trace.gates + t * bh * GateCount(p.cell);
    for (int b = 0; b < batch; ++b) {
      const T* g = gates + static_cast<size_t>(b) * GH;
      T* d = da.data() + static_cast<size_t>(b) * GH;
      const T* dhb = dh.data() + static_cast<size_t>(b) * H;
      if (!lstm) {
        for (int j = 0; j < H; ++j) d[j] = dhb[j] * (T(1) - g[j] * g[j]);
        continue;
      }
      const T* cp = trace.c + t * bh + static_cast<size_t>(b) * H;
      const T* cn = trace.c + (t + 1) * bh + static_cast<size_t>(b) * H;
      T* dcb = dc.data() + static_cast<size_t>(b) * H;
      for (int j = 0; j < H; ++j) {
        const T i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j];
        const T tc = std::tanh(cn[j]);
        const T d_o = dhb[j] * tc;
        const T d_c = dcb[j] + dhb[j] * o * (T(1) - tc * tc);
        d[j] = d_c * gg * i * (T(1) - i);
        d[H + j] = d_c * cp[j] * f * (T(1) - f);
        d[2 * H + j] = d_c * i * (T(1) - gg * gg);
        d[3 * H + j] = d_o * o * (T(1) - o);
        dcb[j] = d_c * f;  // flows to step t-1
      }
    }
    ConstMatrixMap<T> x_t(x + static_cast<size_t>(t) * batch * I, batch, I);
    ConstMatrixMap<T> h_prev(trace.h + t * bh, batch, H);
    dw_ih.noalias() += da.transpose() * x_t;
    dw_hh.noalias() += da.transpose() * h_prev;
    dbias += da.colwise().sum();
    if (dx) {
      MatrixMap<T>(dx + static_cast<size_t>(t) * batch * I, batch, I).noalias() = da * w_ih;
    }
    dh.noalias() = da * w_hh;  // flows to step t-1
  }
  if (dh0) std::copy(dh.data(), dh.data() + bh, dh0);
  if (dc0 && lstm) std::copy(dc.data(), dc.data() + bh, dc0);
}

// Dense: y [B][O] = x [B][I] · wᵀ + b.
template <typename T>
void DenseForward(int input, int output, const T* w, const T* b, int batch, const T* x, T* y) {
  MatrixMap<T> out(y, batch, output);
  out.noalias() =
      ConstMatrixMap<T>(x, batch, input) * ConstMatrixMap<T>(w, output, input).transpose();
  out.rowwise() += ConstRowMap<T>(b, output);
}

// dx [B][I] written when non-null; dw [O][I], db [O] accumulated.
template <typename T>
void DenseBackward(int input, int output, const T* w, int batch, const T* x, const T* dy, T* dx,
                   T* dw, T* db) {
  ConstMatrixMap<T> grad_out(dy, batch, output);
  MatrixMap<T>(dw, output, input).noalias() +=
      grad_out.transpose() * ConstMatrixMap<T>(x, batch, input);
  RowMap<T>(db, output) += grad_out.colwise().sum();
  if (dx) {
    MatrixMap<T>(dx, batch, input).noalias() = grad_out * ConstMatrixMap<T>(w, output, input);
  }
}

}  // namespace nemesyst::kernels::ref

#endif  // NEMESYST_KERNELS_REF_REF_MATH_H_
