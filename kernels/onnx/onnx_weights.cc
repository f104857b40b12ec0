#include "kernels/onnx/onnx_weights.h"

#include <algorithm>
#include <cstddef>

namespace nemesyst::kernels::onnx {

int OnnxGateOf(CellKind cell, int gate) {
  switch (cell) {
    case CellKind::kLstm: {
      constexpr int kLstm[4] = {0, 2, 3, 1};  // ours i, f, g, o ← ONNX i, o, f, c
      return kLstm[gate];
    }
    case CellKind::kGru:
    case CellKind::kGruClassic: {
      constexpr int kGru[3] = {1, 0, 2};  // ours r, z, n ← ONNX z, r, h
      return kGru[gate];
    }
    case CellKind::kRnnTanh:
      return 0;
  }
  return 0;
}

namespace {

// Copies gate blocks of `rows` × `cols` between the two gate orders.
void PermuteGates(CellKind cell, size_t rows, size_t cols, const float* from, float* to,
                  bool to_onnx) {
  const size_t block = rows * cols;
  for (int g = 0; g < GateCount(cell); ++g) {
    const size_t onnx = static_cast<size_t>(OnnxGateOf(cell, g));
    const size_t ours = static_cast<size_t>(g);
    const float* src = from + (to_onnx ? ours : onnx) * block;
    float* dst = to + (to_onnx ? onnx : ours) * block;
    std::copy(src, src + block, dst);
  }
}

}  // namespace

OurRecurrentWeights FromOnnxRecurrent(CellKind cell, int input, int hidden, const float* w,
                                      const float* r, const float* b) {
  const size_t h = static_cast<size_t>(hidden), gates = static_cast<size_t>(GateCount(cell));
  OurRecurrentWeights out;
  out.w_ih.resize(gates * h * static_cast<size_t>(input));
  out.w_hh.resize(gates * h * h);
  out.bias.assign(static_cast<size_t>(BiasRows(cell)) * h, 0.0f);
  PermuteGates(cell, h, static_cast<size_t>(input), w, out.w_ih.data(), false);
  PermuteGates(cell, h, h, r, out.w_hh.data(), false);
  if (b == nullptr) return out;
  const float* wb = b;
  const float* rb = b + gates * h;
  for (size_t g = 0; g < gates; ++g) {
    const size_t onnx = static_cast<size_t>(OnnxGateOf(cell, static_cast<int>(g)));
    float* dst = out.bias.data() + g * h;
    const bool candidate = IsGru(cell) && g == 2;
    for (size_t j = 0; j < h; ++j) {
      if (candidate && cell == CellKind::kGru) {
        dst[j] = wb[onnx * h + j];      // b_xn
        dst[h + j] = rb[onnx * h + j];  // b_hn (row 3)
      } else {
        // x + 0 is x except for -0; leaving a zero Rb out keeps export → import bit-exact.
        const float rb_j = rb[onnx * h + j];
        dst[j] = rb_j == 0.0f ? wb[onnx * h + j] : wb[onnx * h + j] + rb_j;
      }
    }
  }
  return out;
}

OnnxRecurrentWeights ToOnnxRecurrent(CellKind cell, int input, int hidden,
                                     const RecurrentWeights& ours) {
  const size_t h = static_cast<size_t>(hidden), gates = static_cast<size_t>(GateCount(cell));
  OnnxRecurrentWeights out;
  out.w.resize(gates * h * static_cast<size_t>(input));
  out.r.resize(gates * h * h);
  out.b.assign(2 * gates * h, 0.0f);
  PermuteGates(cell, h, static_cast<size_t>(input), ours.w_ih, out.w.data(), true);
  PermuteGates(cell, h, h, ours.w_hh, out.r.data(), true);
  float* wb = out.b.data();
  float* rb = out.b.data() + gates * h;
  for (size_t g = 0; g < gates; ++g) {
    const size_t onnx = static_cast<size_t>(OnnxGateOf(cell, static_cast<int>(g)));
    std::copy(ours.bias + g * h, ours.bias + (g + 1) * h, wb + onnx * h);
  }
  if (cell == CellKind::kGru) {  // b_hn stays inside r ⊙ (h·R_nᵀ + b_hn)
    std::copy(ours.bias + 3 * h, ours.bias + 4 * h, rb + 2 * h);
  }
  return out;
}

}  // namespace nemesyst::kernels::onnx
