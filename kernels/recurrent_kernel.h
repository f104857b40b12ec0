// The contract between the recurrent layers (LSTM, vanilla RNN, GRU) and their backends.
//
// Layouts (all float32, row-major, no padding):
//   x  [T][B][I]  input sequence, time-major (one time step is a contiguous [B][I] block)
//   y  [T][B][H]  hidden output at every step
//   h, c [B][H]   states (c only for LSTM)
//   w_ih [G*H][I], w_hh [G*H][H], bias [BiasRows(cell)*H], where G = GateCount(cell): 4 for
//   LSTM, 1 for RNN, 3 for both GRUs.
//   LSTM gate order is i, f, g, o (as PyTorch and oneDNN), with one bias (b_ih + b_hh folded):
//     gates = x·w_ihᵀ + h·w_hhᵀ + bias;  i,f,o = σ(.), g = tanh(.)
//     c' = f⊙c + i⊙g;  h' = o⊙tanh(c')
//   RNN: h' = tanh(x·w_ihᵀ + h·w_hhᵀ + bias).
//   GRU (kGru: PyTorch's nn.GRU, cuDNN, oneDNN lbr_gru, ONNX GRU with linear_before_reset=1).
//   Gate order r, z, n (as PyTorch); bias [4H] = b_r, b_z (input and hidden biases folded), b_xn,
//   b_hn (the candidate's two biases cannot be folded: r multiplies only the hidden one):
//     r = σ(x·W_rᵀ + h·R_rᵀ + b_r);  z = σ(x·W_zᵀ + h·R_zᵀ + b_z)
//     n = tanh(x·W_nᵀ + b_xn + r⊙(h·R_nᵀ + b_hn));  h' = (1−z)⊙n + z⊙h
//   GRU classic (kGruClassic: Cho et al. 2014, ONNX GRU's default linear_before_reset=0, oneDNN
//   vanilla_gru). Same gate order; the reset gate applies to h before the recurrent product, so
//   every bias folds, bias [3H] = b_r, b_z, b_n:
//     n = tanh(x·W_nᵀ + (r⊙h)·R_nᵀ + b_n);  r, z and h' as kGru.
//   (W_r is rows [0, H) of w_ih, W_z rows [H, 2H), W_n rows [2H, 3H); likewise R_* in w_hh.)
//
// Ownership: a kernel copies (and may pack or convert) the weights in SetWeights; callers keep
// their own master copy and call SetWeights again after every optimiser update.
// Thread-safety: a kernel object is used by one thread at a time (it owns scratch space). With
// KernelOptions::threads > 1 it may use threads internally.
// Allocation: after the first call with a given (seq, batch), Forward and Step do not allocate.
#ifndef NEMESYST_KERNELS_RECURRENT_KERNEL_H_
#define NEMESYST_KERNELS_RECURRENT_KERNEL_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "nemesyst/kernels.h"
#include "nemesyst/status.h"

namespace nemesyst::kernels {

enum class CellKind { kLstm, kRnnTanh, kGru, kGruClassic };

constexpr int GateCount(CellKind cell) {
  switch (cell) {
    case CellKind::kLstm:
      return 4;
    case CellKind::kRnnTanh:
      return 1;
    case CellKind::kGru:
    case CellKind::kGruClassic:
      return 3;
  }
  return 1;
}

// Rows of H in the bias: the gate count, plus one for kGru's separate b_hn.
constexpr int BiasRows(CellKind cell) { return cell == CellKind::kGru ? 4 : GateCount(cell); }

constexpr bool IsGru(CellKind cell) {
  return cell == CellKind::kGru || cell == CellKind::kGruClassic;
}

// "lstm", "rnn", "gru", "gru_classic": the names model specs, files and reports use.
constexpr const char* CellName(CellKind cell) {
  switch (cell) {
    case CellKind::kLstm:
      return "lstm";
    case CellKind::kRnnTanh:
      return "rnn";
    case CellKind::kGru:
      return "gru";
    case CellKind::kGruClassic:
      return "gru_classic";
  }
  return "?";
}

struct RecurrentShape {
  CellKind cell = CellKind::kLstm;
  int input = 0;   // I
  int hidden = 0;  // H
};

struct RecurrentWeights {
  const float* w_ih = nullptr;  // [G*H][I]
  const float* w_hh = nullptr;  // [G*H][H]
  const float* bias = nullptr;  // [BiasRows*H]
};

// Gradients are accumulated (+=) so a caller can sum over several sequences before a step.
struct RecurrentGrads {
  float* w_ih = nullptr;
  float* w_hh = nullptr;
  float* bias = nullptr;
};

// What ForwardTrain records for Backward. Owned by the caller; its contents are private to the
// backend that filled it and valid only for the same kernel object and the same (seq, batch).
struct RecurrentTape {
  int seq = 0;
  int batch = 0;
  std::vector<float> values;       // e.g. gate activations, cell states
  std::vector<uint8_t> workspace;  // e.g. a oneDNN workspace
};

class RecurrentKernel {
 public:
  virtual ~RecurrentKernel() = default;

  virtual Backend backend() const = 0;
  virtual const RecurrentShape& shape() const = 0;

  // Copies (packs) the weights. Must be called before any compute and after each update.
  virtual Status SetWeights(const RecurrentWeights& weights) = 0;

  // Inference over a sequence. h0/c0 null mean zeros; y, h_n, c_n may each be null when not
  // wanted. c0/c_n are ignored for every cell but LSTM.
  virtual Status Forward(int seq, int batch, const float* x, const float* h0, const float* c0,
                         float* y, float* h_n, float* c_n) = 0;

  // As Forward, and records in `tape` what Backward needs.
  virtual Status ForwardTrain(int seq, int batch, const float* x, const float* h0, const float* c0,
                              float* y, float* h_n, float* c_n, RecurrentTape* tape) = 0;

  // Backpropagation through time for the sequence recorded in `tape` (x, h0, c0 as given to
  // ForwardTrain). dy [T][B][H] may be null (many-to-one: only dh_n flows in); dh_n, dc_n may be
  // null (zeros). Writes dx [T][B][I], dh0, dc0 where non-null; accumulates into `grads`.
  virtual Status Backward(int seq, int batch, const float* x, const float* h0, const float* c0,
                          const RecurrentTape& tape, const float* dy, const float* dh_n,
                          const float* dc_n, float* dx, float* dh0, float* dc0,
                          const RecurrentGrads& grads) = 0;

  // One time step for `batch` independent sequences (e.g. one new reading per device): reads
  // x [B][I] and advances h (and c) [B][H] in place. Equal to Forward with seq = 1.
  virtual Status Step(int batch, const float* x, float* h, float* c) = 0;
};

// Backend factories. Each returns Unimplemented when the backend is not usable here (CPU lacks
// AVX2/FMA, build without oneDNN, or an option the backend does not support), never crashes.
Result<std::unique_ptr<RecurrentKernel>> CreateRefRecurrentKernel(const RecurrentShape& shape,
                                                                  const KernelOptions& options);
Result<std::unique_ptr<RecurrentKernel>> CreateAvx2RecurrentKernel(const RecurrentShape& shape,
                                                                   const KernelOptions& options);
Result<std::unique_ptr<RecurrentKernel>> CreateOnednnRecurrentKernel(const RecurrentShape& shape,
                                                                     const KernelOptions& options);

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_RECURRENT_KERNEL_H_
