// The units of work the LSTM (and GRU) benchmarks time, each owning its stack and buffers so a case
// can hold several (the paired cases): an inference pass over a window, one training step (forward
// with tape, BPTT, Adam, SetWeights), and one streaming tick.
#ifndef NEMESYST_BENCH_KERNELS_LSTM_JOBS_H_
#define NEMESYST_BENCH_KERNELS_LSTM_JOBS_H_

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "bench/kernels/lstm_stack.h"
#include "kernels/optimizer.h"

namespace nemesyst::bench {

inline std::vector<float> Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// A job of type Job (below) on a fresh stack of `backend` kernels with options `o`.
template <typename Job>
Result<std::unique_ptr<Job>> MakeJob(Backend backend, const LstmShape& s, const KernelOptions& o) {
  auto stack = LstmStack::Create(backend, s, o);
  if (!stack.ok()) return stack.status();
  return std::make_unique<Job>(s, std::move(stack.value()));
}

// Forward over the whole window, every layer, outputs kept (many-to-many).
class InferJob {
 public:
  InferJob(const LstmShape& s, LstmStack stack)
      : s_(s), stack_(std::move(stack)), x_(Random(size_t(s.seq) * s.batch * s.input, 1)) {
    for (auto& v : y_) v.resize(size_t(s.seq) * s.batch * s.hidden);
  }

  Status Run() {
    const float* in = x_.data();
    for (int l = 0; l < s_.layers; ++l) {
      NEMESYST_RETURN_IF_ERROR(stack_.layers[l]->Forward(s_.seq, s_.batch, in, nullptr, nullptr,
                                                         y_[l & 1].data(), nullptr, nullptr));
      in = y_[l & 1].data();
    }
    return Status::OK();
  }

 private:
  LstmShape s_;
  LstmStack stack_;
  std::vector<float> x_;
  std::vector<float> y_[2];
};

// Forward (recording), BPTT (many-to-one: the gradient enters at h_n of the top layer), an Adam
// step over every layer's parameters, and SetWeights: one training step of the recurrent stack.
class TrainJob {
 public:
  TrainJob(const LstmShape& s, LstmStack stack)
      : s_(s),
        stack_(std::move(stack)),
        x_(Random(size_t(s.seq) * s.batch * s.input, 1)),
        dh_top_(Random(size_t(s.batch) * s.hidden, 2)),
        y_(s.layers, std::vector<float>(size_t(s.seq) * s.batch * s.hidden)),
        dx_(s.layers),
        tapes_(s.layers) {
    for (int l = 0; l < s.layers; ++l) {
      dx_[l].resize(size_t(s.seq) * s.batch * LayerInput(s, l));
      adam_.emplace_back(kernels::OptimizerOptions{}, stack_.params[l].size());
    }
  }

  Status Run() {
    for (int l = 0; l < s_.layers; ++l) {
      const float* in = l == 0 ? x_.data() : y_[l - 1].data();
      NEMESYST_RETURN_IF_ERROR(stack_.layers[l]->ForwardTrain(
          s_.seq, s_.batch, in, nullptr, nullptr, y_[l].data(), nullptr, nullptr, &tapes_[l]));
    }
    for (int l = s_.layers - 1; l >= 0; --l) {
      const float* in = l == 0 ? x_.data() : y_[l - 1].data();
      const bool top = l == s_.layers - 1;
      std::memset(stack_.grads[l].data(), 0, stack_.grads[l].size() * sizeof(float));
      NEMESYST_RETURN_IF_ERROR(stack_.layers[l]->Backward(
          s_.seq, s_.batch, in, nullptr, nullptr, tapes_[l], top ? nullptr : dx_[l + 1].data(),
          top ? dh_top_.data() : nullptr, nullptr, l == 0 ? nullptr : dx_[l].data(), nullptr,
          nullptr, stack_.Grads(l)));
    }
    for (int l = 0; l < s_.layers; ++l) {
      adam_[l].Step(stack_.params[l].data(), stack_.grads[l].data());
      NEMESYST_RETURN_IF_ERROR(stack_.SetWeights(l));
    }
    return Status::OK();
  }

 private:
  LstmShape s_;
  LstmStack stack_;
  std::vector<float> x_, dh_top_;
  std::vector<std::vector<float>> y_, dx_;
  std::vector<kernels::RecurrentTape> tapes_;
  std::vector<kernels::Optimizer> adam_;
};

// One streaming tick: one new reading for each of `batch` devices through every layer (Step).
class StreamJob {
 public:
  StreamJob(const LstmShape& s, LstmStack stack)
      : s_(s),
        stack_(std::move(stack)),
        x_(Random(size_t(s.batch) * s.input, 1)),
        h_(s.layers, std::vector<float>(size_t(s.batch) * s.hidden, 0.0f)),
        c_(h_) {}

  Status Run() {
    for (int l = 0; l < s_.layers; ++l) {
      const float* in = l == 0 ? x_.data() : h_[l - 1].data();
      float* c = s_.cell == kernels::CellKind::kLstm ? c_[l].data() : nullptr;  // GRU: no c
      NEMESYST_RETURN_IF_ERROR(stack_.layers[l]->Step(s_.batch, in, h_[l].data(), c));
    }
    return Status::OK();
  }

 private:
  LstmShape s_;
  LstmStack stack_;
  std::vector<float> x_;
  std::vector<std::vector<float>> h_, c_;
};

}  // namespace nemesyst::bench

#endif  // NEMESYST_BENCH_KERNELS_LSTM_JOBS_H_
