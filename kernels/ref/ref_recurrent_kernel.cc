// The `ref` recurrent kernel: ref_math.h in float, behind the RecurrentKernel contract.
// Single-threaded whatever KernelOptions::threads says. With fp16_weights it rounds w_ih and
// w_hh (not the bias) to binary16 and back, exactly what an F16C backend stores, and refuses
// training (fp16 weights are for inference only).
#include <algorithm>
#include <string>
#include <vector>

#include "kernels/fp16.h"
#include "kernels/ref/ref_math.h"

namespace nemesyst::kernels {
namespace {

class RefRecurrentKernel final : public RecurrentKernel {
 public:
  RefRecurrentKernel(const RecurrentShape& shape, const KernelOptions& options)
      : shape_(shape), options_(options) {}

  Backend backend() const override { return Backend::kRef; }
  const RecurrentShape& shape() const override { return shape_; }

  Status SetWeights(const RecurrentWeights& weights) override {
    if (!weights.w_ih || !weights.w_hh || !weights.bias) {
      return Status::InvalidArgument("ref recurrent kernel: null weight pointer");
    }
    const size_t gh = static_cast<size_t>(GateCount(shape_.cell)) * shape_.hidden;
    w_ih_.assign(weights.w_ih, weights.w_ih + gh * shape_.input);
    w_hh_.assign(weights.w_hh, weights.w_hh + gh * shape_.hidden);
    bias_.assign(weights.bias,
                 weights.bias + static_cast<size_t>(BiasRows(shape_.cell)) * shape_.hidden);
    if (options_.fp16_weights) {
      for (float& w : w_ih_) w = RoundToHalf(w);
      for (float& w : w_hh_) w = RoundToHalf(w);
    }
    return Status::OK();
  }

  Status Forward(int seq, int batch, const float* x, const float* h0, const float* c0, float* y,
                 float* h_n, float* c_n) override {
    NEMESYST_RETURN_IF_ERROR(Check(seq, batch, x));
    scratch_.resize(ref::TraceSize(shape_.cell, seq, batch, shape_.hidden));
    Run(seq, batch, x, h0, c0, y, h_n, c_n, scratch_.data());
    return Status::OK();
  }

  Status ForwardTrain(int seq, int batch, const float* x, const float* h0, const float* c0,
                      float* y, float* h_n, float* c_n, RecurrentTape* tape) override {
    NEMESYST_RETURN_IF_ERROR(Check(seq, batch, x));
    if (options_.fp16_weights) {
      return Status::FailedPrecondition("fp16 weights are for inference only");
    }
    if (!tape) return Status::InvalidArgument("ref recurrent kernel: null tape");
    tape->seq = seq;
    tape->batch = batch;
    tape->values.resize(ref::TraceSize(shape_.cell, seq, batch, shape_.hidden));
    tape->workspace.clear();
    Run(seq, batch, x, h0, c0, y, h_n, c_n, tape->values.data());
    return Status::OK();
  }

  Status Backward(int seq, int batch, const float* x, const float* /*h0*/, const float* /*c0*/,
                  const RecurrentTape& tape, const float* dy, const float* dh_n, const float* dc_n,
                  float* dx, float* dh0, float* dc0, const RecurrentGrads& grads) override {
    NEMESYST_RETURN_IF_ERROR(Check(seq, batch, x));
    if (tape.seq != seq || tape.batch != batch ||
        tape.values.size() != ref::TraceSize(shape_.cell, seq, batch, shape_.hidden)) {
      return Status::InvalidArgument("ref recurrent kernel: tape recorded for another shape");
    }
    if (!grads.w_ih || !grads.w_hh || !grads.bias) {
      return Status::InvalidArgument("ref recurrent kernel: null gradient pointer");
    }
    // The tape is read only; TraceViews wants a mutable pointer for the shared layout helper.
    auto trace = ref::TraceViews(shape_.cell, seq, batch, shape_.hidden,
                                 const_cast<float*>(tape.values.data()));
    ref::RecurrentBackward<float>(Params(), seq, batch, x, trace, dy, dh_n, dc_n, dx, dh0, dc0,
                                  {grads.w_ih, grads.w_hh, grads.bias});
    return Status::OK();
  }

  Status Step(int batch, const float* x, float* h, float* c) override {
    NEMESYST_RETURN_IF_ERROR(Check(1, batch, x));
    if (!h || (shape_.cell == CellKind::kLstm && !c)) {
      return Status::InvalidArgument("ref recurrent kernel: Step needs h (and c for LSTM)");
    }
    scratch_.resize(ref::TraceSize(shape_.cell, 1, batch, shape_.hidden));
    Run(1, batch, x, h, c, nullptr, h, c, scratch_.data());  // Run reads h/c before writing
    return Status::OK();
  }

 private:
  Status Check(int seq, int batch, const float* x) const {
    if (w_ih_.empty()) return Status::FailedPrecondition("ref recurrent kernel: no weights set");
    if (seq < 1 || batch < 1) {
      return Status::InvalidArgument("ref recurrent kernel: seq and batch must be >= 1 (got " +
                                     std::to_string(seq) + ", " + std::to_string(batch) + ")");
    }
    if (!x) return Status::InvalidArgument("ref recurrent kernel: null input");
    return Status::OK();
  }

  ref::RecurrentParams<float> Params() const {
    return {shape_.cell, shape_.input, shape_.hidden, w_ih_.data(), w_hh_.data(), bias_.data()};
  }

  void Run(int seq, int batch, const float* x, const float* h0, const float* c0, float* y,
           float* h_n, float* c_n, float* buffer) {
    const bool lstm = shape_.cell == CellKind::kLstm;
    auto trace = ref::TraceViews(shape_.cell, seq, batch, shape_.hidden, buffer);
    ref::RecurrentForward<float>(Params(), seq, batch, x, h0, lstm ? c0 : nullptr, trace);
    const size_t bh = static_cast<size_t>(batch) * shape_.hidden;
    if (y) std::copy(trace.h + bh, trace.h + (seq + 1) * bh, y);
    if (h_n) std::copy(trace.h + seq * bh, trace.h + (seq + 1) * bh, h_n);
    if (c_n && lstm) std::copy(trace.c + seq * bh, trace.c + (seq + 1) * bh, c_n);
  }

  RecurrentShape shape_;
  KernelOptions options_;
  std::vector<float> w_ih_, w_hh_, bias_;
  std::vector<float> scratch_;
};

}  // namespace

Result<std::unique_ptr<RecurrentKernel>> CreateRefRecurrentKernel(const RecurrentShape& shape,
                                                                  const KernelOptions& options) {
  if (shape.input < 1 || shape.hidden < 1) {
    return Status::InvalidArgument("recurrent kernel: input and hidden must be >= 1 (got " +
                                   std::to_string(shape.input) + ", " +
                                   std::to_string(shape.hidden) + ")");
  }
  return std::unique_ptr<RecurrentKernel>(new RefRecurrentKernel(shape, options));
}

}  // namespace nemesyst::kernels
