// The contract between the recurrent layers (LSTM, vanilla RNN) and their backends.
//
// Layouts (all float32, row-major, no padding):
//   x  [T][B][I]  input sequence, time-major (one time step is a contiguous [B][I] block)
//   y  [T][B][H]  hidden output at every step
//   h, c [B][H]   states (c only for LSTM)
//   w_ih [G*H][I], w_hh [G*H][H], bias [G*H], where G = GateCount(cell): 4 for LSTM, 1 for RNN.
//   LSTM gate order is i, f, g, o (as PyTorch and oneDNN), with one bias (b_ih + b_hh folded):
//     gates = x·w_ihᵀ + h·w_hhᵀ + bias;  i,f,o = σ(.), g = tanh(.)
//     c' = f⊙c + i⊙g;  h' = o⊙tanh(c')
//   RNN: h' = tanh(x·w_ihᵀ + h·w_hhᵀ + bias).
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

enum class CellKind { kLstm, kRnnTanh };

constexpr int GateCount(CellKind cell) { return cell == CellKind::kLstm ? 4 : 1; }

struct RecurrentShape {
  CellKind cell = CellKind::kLstm;
  int input = 0;   // I
  int hidden = 0;  // H
};

struct RecurrentWeights {
  const float* w_ih = nullptr;  // [G*H][I]
  const float* w_hh = nullptr;  // [G*H][H]
  const float* bias = nullptr;  // [G*H]
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
  // wanted. c0/c_n are ignored for the RNN cell.
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
