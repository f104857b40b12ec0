// A stack of recurrent layers (LSTM, tanh-RNN or GRU) over time-major sequences, with inverted
// dropout between layers during training, initial states in and final states out. Each layer's
// kernel comes from the dispatcher, so the stack runs on whichever backend is chosen.
//
// Parameters live in a caller-owned ParameterSet (which must outlive the stack and keep its
// address); after changing them (optimiser step, load) call SyncWeights(). Per layer l the set
// holds "<prefix>.<l>.w_ih" [G·H][I], ".w_hh" [G·H][H], ".bias" [BiasRows·H].
// Not thread-safe; buffers grow to the largest (seq, batch) seen and are then reused.
#ifndef NEMESYST_KERNELS_RECURRENT_STACK_H_
#define NEMESYST_KERNELS_RECURRENT_STACK_H_

#include <memory>
#include <string>
#include <vector>

#include "kernels/parameter_set.h"
#include "kernels/random.h"
#include "kernels/recurrent_kernel.h"

namespace nemesyst::kernels {

struct RecurrentStackConfig {
  CellKind cell = CellKind::kLstm;
  int input = 0;
  std::vector<int> hidden;  // one entry per layer, bottom first
  double dropout = 0.0;     // between layers, training only
};

// States of every layer: h[l], c[l] are [B][H_l] (c empty for the RNN cell).
struct StackState {
  std::vector<std::vector<float>> h;
  std::vector<std::vector<float>> c;
};

class RecurrentStack {
 public:
  // Registers the parameters in `params` (not yet allocated) and creates the kernels.
  static Result<std::unique_ptr<RecurrentStack>> Create(const RecurrentStackConfig& config,
                                                        const std::string& prefix,
                                                        ParameterSet* params, Backend backend,
                                                        const KernelOptions& options);

  // Writes initial values (PyTorch's U(−1/√H, 1/√H); LSTM forget-gate bias +1) from `rng`.
  void Initialize(Rng& rng);
  Status SyncWeights();

  // Inference. x [T][B][I]; y_top [T][B][H_top] required; `initial` may be null (zeros);
  // `final` may be null.
  Status Forward(int seq, int batch, const float* x, const StackState* initial, float* y_top,
                 StackState* final);
  // Training forward: records what Backward needs; `dropout_rng` may be null only when the
  // configured dropout is 0.
  Status ForwardTrain(int seq, int batch, const float* x, const StackState* initial,
                      Rng* dropout_rng, float* y_top, StackState* final);
  // BPTT through every layer of the last ForwardTrain. dy_top [T][B][H_top] (for many-to-one
  // put the gradient in the last step, zeros elsewhere); dx [T][B][I] written when non-null.
  // Gradients accumulate into the ParameterSet's grads.
  Status Backward(const float* dy_top, float* dx);

  // Streaming: one step for `batch` sequences; state.h[l]/c[l] hold [batch][H_l] and advance
  // in place; x [batch][I]. The top layer's new h is state.h.back().
  Status Step(int batch, const float* x, StackState* state);

  // A zero state for `batch` sequences.
  StackState ZeroState(int batch) const;

  const RecurrentStackConfig& config() const { return config_; }
  int top_hidden() const { return config_.hidden.back(); }
  Backend backend() const { return kernels_.front()->backend(); }

 private:
  RecurrentStack(RecurrentStackConfig config, ParameterSet* params)
      : config_(std::move(config)), params_(params) {}
  struct Offsets {
    size_t w_ih, w_hh, bias;
  };
  int LayerInput(size_t l) const { return l == 0 ? config_.input : config_.hidden[l - 1]; }

  RecurrentStackConfig config_;
  ParameterSet* params_;
  std::vector<Offsets> offsets_;
  std::vector<std::unique_ptr<RecurrentKernel>> kernels_;

  // Training record of the last ForwardTrain.
  int seq_ = 0, batch_ = 0;
  std::vector<std::vector<float>> inputs_;   // inputs_[l] [T][B][I_l] (after dropout for l > 0)
  std::vector<std::vector<float>> outputs_;  // outputs_[l] [T][B][H_l] (before dropout)
  std::vector<std::vector<float>> masks_;    // masks_[l] dropout on outputs_[l] → inputs_[l+1]
  std::vector<std::vector<float>> h0_, c0_;  // initial states used (zeros when none given)
  std::vector<RecurrentTape> tapes_;
  std::vector<float> grad_a_, grad_b_;  // scratch for gradients flowing down the stack
};

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_RECURRENT_STACK_H_
