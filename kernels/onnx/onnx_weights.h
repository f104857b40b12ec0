// The weight layouts of ONNX's recurrent ops against ours (kernels/recurrent_kernel.h), both ways.
// No protobuf here: plain float arrays, so the import, the export and the golden node tests share
// one definition of every gate order and bias split.
//
// ONNX (one direction):  W [G·H][I], R [G·H][H], B [2·G·H] = Wb then Rb, gates in ONNX order:
//   LSTM i, o, f, c      GRU z, r, h      RNN (one gate)
// Ours:                  w_ih [G·H][I], w_hh [G·H][H], bias [BiasRows·H], gates in our order:
//   LSTM i, f, g, o      GRU r, z, n      RNN (one gate)
// Biases: LSTM and RNN fold Wb + Rb into one. GRU with linear_before_reset (CellKind::kGru) folds
// r and z, keeps Wb_h as b_xn and Rb_h as b_hn; classic GRU folds all three. Export writes the
// folded bias as Wb and zeros as Rb (kGru: Rb_h = b_hn), which ONNX engines compute identically.
#ifndef NEMESYST_KERNELS_ONNX_ONNX_WEIGHTS_H_
#define NEMESYST_KERNELS_ONNX_ONNX_WEIGHTS_H_

#include <vector>

#include "kernels/recurrent_kernel.h"

namespace nemesyst::kernels::onnx {

// Block of ONNX's W/R/B holding our gate `gate` (0-based, our order).
int OnnxGateOf(CellKind cell, int gate);

struct OurRecurrentWeights {
  std::vector<float> w_ih, w_hh, bias;
  RecurrentWeights view() const { return {w_ih.data(), w_hh.data(), bias.data()}; }
};

struct OnnxRecurrentWeights {
  std::vector<float> w, r, b;  // W [G·H][I], R [G·H][H], B [2·G·H]
};

// `b` may be null (ONNX's optional B: zeros). Sizes are the caller's to check.
OurRecurrentWeights FromOnnxRecurrent(CellKind cell, int input, int hidden, const float* w,
                                      const float* r, const float* b);
OnnxRecurrentWeights ToOnnxRecurrent(CellKind cell, int input, int hidden,
                                     const RecurrentWeights& ours);

}  // namespace nemesyst::kernels::onnx

#endif  // NEMESYST_KERNELS_ONNX_ONNX_WEIGHTS_H_
