// The onednn recurrent kernel: oneDNN 2.6 lstm_forward/backward, vanilla_rnn_forward/backward
// (tanh), lbr_gru_forward/backward (kGru) and gru_forward/backward (vanilla_gru, kGruClassic).
// Our layouts map onto oneDNN's without copies:
//   x [T][B][I] = src_layer tnc, y [T][B][H] = dst_layer tnc, h/c [B][H] = ldnc with L = D = 1,
//   w_ih [G*H][I] = weights_layer ldgoi, w_hh [G*H][H] = weights_iter ldgoi,
//   bias [BiasRows*H] = ldgo, and oneDNN's LSTM gate order (i, f, c̃, o) is ours.
// The GRU gate order is not: oneDNN's is (u, r, o) = our (z, r, n), so SetWeights swaps the first
// two gate blocks of w_ih, w_hh and bias, and Backward swaps them back in the gradients. The
// lbr_gru bias rows are (u, r, o, u') where B_o is outside r and B_u' inside it, i.e. our
// (b_z, b_r, b_xn, b_hn): the same swap of the first two rows and nothing else. Both GRUs'
// update rules are ours, h' = u⊙h + (1−u)⊙o (see oneDNN's doc/primitives/rnn.md).
// SetWeights keeps a plain copy and bumps a version; each per-(seq, batch) plan reorders it into
// the layout its primitives prefer (format_tag::any, e.g. packed GEMM weights for inference) the
// first time it runs after an update. Primitives, memories and scratch are cached per plan.
//
// Tape (ForwardTrain → Backward): workspace = oneDNN's workspace; values = y [T][B][H], then
// h_n and c_n [B][H] (the backward primitive needs dst_layer/dst_iter, which a caller may not
// have asked for).
#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels/onednn/onednn_common.h"
#include "kernels/recurrent_kernel.h"

namespace nemesyst::kernels {
namespace onednn {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

struct Plan {
  int seq = 0;
  int batch = 0;
  // Inference.
  std::unique_ptr<dnnl::primitive> infer;
  memory infer_w_layer, infer_w_iter;
  uint64_t infer_version = 0;
  std::unordered_map<int, memory> infer_args;  // memory objects reused; handles set per call
  // Training.
  std::unique_ptr<dnnl::primitive> train;
  std::unique_ptr<dnnl::primitive> backward;
  memory train_w_layer, train_w_iter, bwd_w_layer, bwd_w_iter;
  memory diff_w_layer, diff_w_iter;
  uint64_t train_version = 0;
  std::unordered_map<int, memory> train_args;
  size_t workspace_bytes = 0;
  memory::desc workspace_md;
};

class OnednnRecurrentKernel final : public RecurrentKernel {
 public:
  OnednnRecurrentKernel(const RecurrentShape& shape, const KernelOptions& options)
      : shape_(shape),
        options_(options),
        gates_(GateCount(shape.cell)),
        bias_rows_(BiasRows(shape.cell)),
        stream_(CpuEngine()) {}

  Backend backend() const override { return Backend::kOnednn; }
  const RecurrentShape& shape() const override { return shape_; }

  Status SetWeights(const RecurrentWeights& w) override {
    if (w.w_ih == nullptr || w.w_hh == nullptr || w.bias == nullptr) {
      return Status::InvalidArgument("onednn SetWeights: w_ih, w_hh and bias must be non-null");
    }
    const size_t gh = size_t(gates_) * shape_.hidden;
    w_ih_.resize(gh * shape_.input);
    w_hh_.resize(gh * shape_.hidden);
    bias_.resize(size_t(bias_rows_) * shape_.hidden);
    ToOnednnGates(w.w_ih, size_t(shape_.hidden) * shape_.input, gates_, w_ih_.data());
    ToOnednnGates(w.w_hh, size_t(shape_.hidden) * shape_.hidden, gates_, w_hh_.data());
    ToOnednnGates(w.bias, size_t(shape_.hidden), bias_rows_, bias_.data());
    ++version_;
    return Status::OK();
  }

  Status Forward(int seq, int batch, const float* x, const float* h0, const float* c0, float* y,
                 float* h_n, float* c_n) override {
    NEMESYST_RETURN_IF_ERROR(Check(seq, batch, x));
    if (batch <= max_batch_per_call_) return ForwardBatch(seq, batch, x, h0, c0, y, h_n, c_n);
    // Rows are independent sequences: run them in chunks. States [B][H] are contiguous per
    // chunk; the time-major x and y are gathered/scattered (no copy when seq = 1, i.e. Step).
    const int in = shape_.input, hid = shape_.hidden;
    for (int b0 = 0; b0 < batch; b0 += max_batch_per_call_) {
      const int bc = std::min(max_batch_per_call_, batch - b0);
      const float* xc = x + size_t(b0) * in;
      if (seq > 1) {
        chunk_x_.resize(size_t(seq) * bc * in);
        for (int t = 0; t < seq; ++t) {
          std::memcpy(chunk_x_.data() + size_t(t) * bc * in, x + (size_t(t) * batch + b0) * in,
                      sizeof(float) * bc * in);
        }
        xc = chunk_x_.data();
      }
      float* yc = nullptr;
      if (y != nullptr) {
        chunk_y_.resize(size_t(seq) * bc * hid);
        yc = chunk_y_.data();
      }
      auto state = [&](auto* p) { return p != nullptr ? p + size_t(b0) * hid : nullptr; };
      NEMESYST_RETURN_IF_ERROR(
          ForwardBatch(seq, bc, xc, state(h0), state(c0), yc, state(h_n), state(c_n)));
      if (y != nullptr) {
        for (int t = 0; t < seq; ++t) {
          std::memcpy(y + (size_t(t) * batch + b0) * hid, yc + size_t(t) * bc * hid,
                      sizeof(float) * bc * hid);
        }
      }
    }
    return Status::OK();
  }

 private:
  Status ForwardBatch(int seq, int batch, const float* x, const float* h0, const float* c0,
                      float* y, float* h_n, float* c_n) {
    return Guard("recurrent forward", [&]() -> Status {
      Plan& plan = GetPlan(seq, batch);
      if (!plan.infer) BuildInference(plan);
      if (plan.infer_version != version_) {
        Reorder(w_ih_.data(), UserWeightsLayer(), plan.infer_w_layer);
        Reorder(w_hh_.data(), UserWeightsIter(), plan.infer_w_iter);
        plan.infer_version = version_;
      }
      const size_t state = size_t(batch) * shape_.hidden;
      EnsureScratch(seq, batch);
      float* dst_layer = y != nullptr ? y : y_scratch_.data();
      auto& args = plan.infer_args;
      if (args.empty()) {
        args = StateArgs(seq, batch);
        args[DNNL_ARG_WEIGHTS_LAYER] = plan.infer_w_layer;
        args[DNNL_ARG_WEIGHTS_ITER] = plan.infer_w_iter;
      }
      BindState(args, x, h0, c0, dst_layer);
      UseThreads(options_.threads);
      plan.infer->execute(stream_, args);
      stream_.wait();
      if (h_n != nullptr) std::memcpy(h_n, h_scratch_.data(), state * sizeof(float));
      if (IsLstm() && c_n != nullptr) {
        std::memcpy(c_n, c_scratch_.data(), state * sizeof(float));
      }
      return Status::OK();
    });
  }

 public:
  Status ForwardTrain(int seq, int batch, const float* x, const float* h0, const float* c0,
                      float* y, float* h_n, float* c_n, RecurrentTape* tape) override {
    NEMESYST_RETURN_IF_ERROR(Check(seq, batch, x));
    if (tape == nullptr) return Status::InvalidArgument("onednn ForwardTrain: tape is null");
    return Guard("recurrent forward (training)", [&]() -> Status {
      Plan& plan = GetPlan(seq, batch);
      if (!plan.train) BuildTraining(plan);
      RefreshTrainingWeights(plan);
      const size_t state = size_t(batch) * shape_.hidden;
      EnsureScratch(seq, batch);
      tape->seq = seq;
      tape->batch = batch;
      tape->values.resize(seq * state + 2 * state);
      tape->workspace.resize(plan.workspace_bytes);
      float* dst_layer = tape->values.data();
      auto& args = plan.train_args;
      if (args.empty()) {
        args = StateArgs(seq, batch);
        args[DNNL_ARG_WEIGHTS_LAYER] = plan.train_w_layer;
        args[DNNL_ARG_WEIGHTS_ITER] = plan.train_w_iter;
        args[DNNL_ARG_WORKSPACE] = memory(plan.workspace_md, CpuEngine(), nullptr);
      }
      BindState(args, x, h0, c0, dst_layer);
      args.at(DNNL_ARG_WORKSPACE).set_data_handle(tape->workspace.data());
      UseThreads(options_.threads);
      plan.train->execute(stream_, args);
      stream_.wait();
      float* saved_h = tape->values.data() + seq * state;
      std::memcpy(saved_h, h_scratch_.data(), state * sizeof(float));
      std::memcpy(saved_h + state, c_scratch_.data(), state * sizeof(float));
      if (y != nullptr) std::memcpy(y, dst_layer, seq * state * sizeof(float));
      if (h_n != nullptr) std::memcpy(h_n, saved_h, state * sizeof(float));
      if (IsLstm() && c_n != nullptr) std::memcpy(c_n, saved_h + state, state * sizeof(float));
      return Status::OK();
    });
  }

  Status Backward(int seq, int batch, const float* x, const float* h0, const float* c0,
                  const RecurrentTape& tape, const float* dy, const float* dh_n, const float* dc_n,
                  float* dx, float* dh0, float* dc0, const RecurrentGrads& grads) override {
    NEMESYST_RETURN_IF_ERROR(Check(seq, batch, x));
    if (grads.w_ih == nullptr || grads.w_hh == nullptr || grads.bias == nullptr) {
      return Status::InvalidArgument("onednn Backward: grads must be non-null");
    }
    const size_t state = size_t(batch) * shape_.hidden;
    return Guard("recurrent backward", [&]() -> Status {
      Plan& plan = GetPlan(seq, batch);
      if (!plan.train) BuildTraining(plan);
      if (tape.seq != seq || tape.batch != batch || tape.values.size() != seq * state + 2 * state ||
          tape.workspace.size() != plan.workspace_bytes) {
        return Status::InvalidArgument(
            "onednn Backward: tape was not recorded by this kernel "
            "for seq " +
            std::to_string(seq) + ", batch " + std::to_string(batch));
      }
      RefreshTrainingWeights(plan);
      EnsureScratch(seq, batch);
      std::unordered_map<int, memory> args;
      const float* h_init = h0 != nullptr ? h0 : zeros_.data();
      const float* c_init = c0 != nullptr ? c0 : zeros_.data();
      const float* saved = tape.values.data();
      args[DNNL_ARG_SRC_LAYER] = Mem(LayerMd(seq, batch, shape_.input), x);
      args[DNNL_ARG_SRC_ITER] = Mem(IterMd(batch), h_init);
      args[DNNL_ARG_WEIGHTS_LAYER] = plan.bwd_w_layer;
      args[DNNL_ARG_WEIGHTS_ITER] = plan.bwd_w_iter;
      args[DNNL_ARG_BIAS] = Mem(BiasMd(), bias_.data());
      args[DNNL_ARG_DST_LAYER] = Mem(LayerMd(seq, batch, shape_.hidden), saved);
      args[DNNL_ARG_DST_ITER] = Mem(IterMd(batch), saved + seq * state);
      args[DNNL_ARG_WORKSPACE] =
          Mem(plan.workspace_md, reinterpret_cast<const float*>(tape.workspace.data()));
      args[DNNL_ARG_DIFF_SRC_LAYER] =
          Mem(LayerMd(seq, batch, shape_.input), dx != nullptr ? dx : dx_scratch_.data());
      args[DNNL_ARG_DIFF_SRC_ITER] = Mem(IterMd(batch), dh0 != nullptr ? dh0 : h_scratch_.data());
      args[DNNL_ARG_DIFF_DST_LAYER] =
          Mem(LayerMd(seq, batch, shape_.hidden), dy != nullptr ? dy : zeros_.data());
      args[DNNL_ARG_DIFF_DST_ITER] = Mem(IterMd(batch), dh_n != nullptr ? dh_n : zeros_.data());
      if (IsLstm()) {
        args[DNNL_ARG_SRC_ITER_C] = Mem(IterMd(batch), c_init);
        args[DNNL_ARG_DST_ITER_C] = Mem(IterMd(batch), saved + seq * state + state);
        args[DNNL_ARG_DIFF_SRC_ITER_C] =
            Mem(IterMd(batch), dc0 != nullptr ? dc0 : c_scratch_.data());
        args[DNNL_ARG_DIFF_DST_ITER_C] = Mem(IterMd(batch), dc_n != nullptr ? dc_n : zeros_.data());
      }
      // oneDNN may accumulate into its diff weights: start them at zero, then add to `grads`.
      std::memset(plan.diff_w_layer.get_data_handle(), 0, plan.diff_w_layer.get_desc().get_size());
      std::memset(plan.diff_w_iter.get_data_handle(), 0, plan.diff_w_iter.get_desc().get_size());
      std::fill(diff_bias_.begin(), diff_bias_.end(), 0.0f);
      args[DNNL_ARG_DIFF_WEIGHTS_LAYER] = plan.diff_w_layer;
      args[DNNL_ARG_DIFF_WEIGHTS_ITER] = plan.diff_w_iter;
      args[DNNL_ARG_DIFF_BIAS] = Mem(BiasMd(), diff_bias_.data());
      UseThreads(options_.threads);
      plan.backward->execute(stream_, args);
      // Back to our [G*H][·] layout, then accumulate.
      memory dw_layer = Mem(UserWeightsLayer(), dw_layer_plain_.data());
      memory dw_iter = Mem(UserWeightsIter(), dw_iter_plain_.data());
      dnnl::reorder(plan.diff_w_layer, dw_layer).execute(stream_, plan.diff_w_layer, dw_layer);
      dnnl::reorder(plan.diff_w_iter, dw_iter).execute(stream_, plan.diff_w_iter, dw_iter);
      stream_.wait();
      AddFromOnednnGates(dw_layer_plain_.data(), size_t(shape_.hidden) * shape_.input, gates_,
                         grads.w_ih);
      AddFromOnednnGates(dw_iter_plain_.data(), size_t(shape_.hidden) * shape_.hidden, gates_,
                         grads.w_hh);
      AddFromOnednnGates(diff_bias_.data(), size_t(shape_.hidden), bias_rows_, grads.bias);
      return Status::OK();
    });
  }

  Status Step(int batch, const float* x, float* h, float* c) override {
    if (h == nullptr) return Status::InvalidArgument("onednn Step: h is null");
    if (IsLstm() && c == nullptr) return Status::InvalidArgument("onednn Step: c is null");
    return Forward(1, batch, x, h, c, nullptr, h, c);
  }

 private:
  bool IsLstm() const { return shape_.cell == CellKind::kLstm; }

  // oneDNN's index of our gate block g (bias rows included): GRUs swap r (ours 0, oneDNN 1) and
  // z (ours 1, oneDNN 0, "u"); every other block keeps its place. The map is its own inverse.
  int OnednnGate(int g) const { return IsGru(shape_.cell) && g < 2 ? 1 - g : g; }

  // Copies `blocks` blocks of `block` floats from our gate order into oneDNN's.
  void ToOnednnGates(const float* ours, size_t block, int blocks, float* onednn) const {
    for (int g = 0; g < blocks; ++g) {
      std::copy(ours + g * block, ours + (g + 1) * block, onednn + OnednnGate(g) * block);
    }
  }

  // Adds oneDNN-ordered gradient blocks into our order (gradients accumulate, per the contract).
  void AddFromOnednnGates(const float* onednn, size_t block, int blocks, float* ours) const {
    for (int g = 0; g < blocks; ++g) {
      const float* src = onednn + OnednnGate(g) * block;
      float* dst = ours + g * block;
      for (size_t i = 0; i < block; ++i) dst[i] += src[i];
    }
  }

  Status Check(int seq, int batch, const float* x) const {
    if (version_ == 0) return Status::FailedPrecondition("onednn kernel: SetWeights not called");
    if (seq < 1 || batch < 1) {
      return Status::InvalidArgument("onednn kernel: seq and batch must be >= 1, got seq " +
                                     std::to_string(seq) + ", batch " + std::to_string(batch));
    }
    if (x == nullptr) return Status::InvalidArgument("onednn kernel: x is null");
    return Status::OK();
  }

  memory::desc LayerMd(int seq, int batch, int channels) const {
    return {{seq, batch, channels}, dt::f32, tag::tnc};
  }
  memory::desc IterMd(int batch) const {
    return {{1, 1, batch, shape_.hidden}, dt::f32, tag::ldnc};
  }
  memory::desc BiasMd() const { return {{1, 1, bias_rows_, shape_.hidden}, dt::f32, tag::ldgo}; }
  memory::desc UserWeightsLayer() const {
    return {{1, 1, shape_.input, gates_, shape_.hidden}, dt::f32, tag::ldgoi};
  }
  memory::desc UserWeightsIter() const {
    return {{1, 1, shape_.hidden, gates_, shape_.hidden}, dt::f32, tag::ldgoi};
  }
  memory::desc AnyWeightsLayer() const {
    return {{1, 1, shape_.input, gates_, shape_.hidden}, dt::f32, tag::any};
  }
  memory::desc AnyWeightsIter() const {
    return {{1, 1, shape_.hidden, gates_, shape_.hidden}, dt::f32, tag::any};
  }
  memory Mem(const memory::desc& md, const float* p) const {
    return memory(md, CpuEngine(), const_cast<float*>(p));
  }

  void Reorder(const float* src, const memory::desc& src_md, const memory& dst) {
    memory s = Mem(src_md, src);
    dnnl::reorder(s, dst).execute(stream_, s, const_cast<memory&>(dst));
    stream_.wait();
  }

  Plan& GetPlan(int seq, int batch) {
    for (auto& p : plans_) {
      if (p->seq == seq && p->batch == batch) return *p;
    }
    constexpr size_t kMaxPlans = 8;
    if (plans_.size() >= kMaxPlans) plans_.erase(plans_.begin());
    plans_.push_back(std::make_unique<Plan>());
    plans_.back()->seq = seq;
    plans_.back()->batch = batch;
    return *plans_.back();
  }

  void EnsureScratch(int seq, int batch) {
    const size_t state = size_t(batch) * shape_.hidden;
    const size_t layer = size_t(seq) * state;
    if (zeros_.size() < std::max(layer, state)) zeros_.assign(std::max(layer, state), 0.0f);
    if (y_scratch_.size() < layer) y_scratch_.resize(layer);
    if (dx_scratch_.size() < size_t(seq) * batch * shape_.input) {
      dx_scratch_.resize(size_t(seq) * batch * shape_.input);
    }
    if (h_scratch_.size() < state) h_scratch_.resize(state);
    if (c_scratch_.size() < state) c_scratch_.resize(state);
    const size_t gh = size_t(gates_) * shape_.hidden;
    const size_t bias = size_t(bias_rows_) * shape_.hidden;
    if (diff_bias_.size() != bias) diff_bias_.resize(bias);
    if (dw_layer_plain_.size() != gh * shape_.input) dw_layer_plain_.resize(gh * shape_.input);
    if (dw_iter_plain_.size() != gh * shape_.hidden) dw_iter_plain_.resize(gh * shape_.hidden);
  }

  // src/dst layer and iter arguments shared by the forward passes (handles bound per call by
  // BindState); final states go to scratch.
  std::unordered_map<int, memory> StateArgs(int seq, int batch) {
    std::unordered_map<int, memory> args;
    args[DNNL_ARG_SRC_LAYER] = Mem(LayerMd(seq, batch, shape_.input), nullptr);
    args[DNNL_ARG_SRC_ITER] = Mem(IterMd(batch), nullptr);
    args[DNNL_ARG_BIAS] = Mem(BiasMd(), nullptr);
    args[DNNL_ARG_DST_LAYER] = Mem(LayerMd(seq, batch, shape_.hidden), nullptr);
    args[DNNL_ARG_DST_ITER] = Mem(IterMd(batch), nullptr);
    if (IsLstm()) {
      args[DNNL_ARG_SRC_ITER_C] = Mem(IterMd(batch), nullptr);
      args[DNNL_ARG_DST_ITER_C] = Mem(IterMd(batch), nullptr);
    }
    return args;
  }

  void BindState(std::unordered_map<int, memory>& args, const float* x, const float* h0,
                 const float* c0, float* dst_layer) {
    auto bind = [&](int arg, const float* p) {
      args.at(arg).set_data_handle(const_cast<float*>(p));
    };
    bind(DNNL_ARG_SRC_LAYER, x);
    bind(DNNL_ARG_SRC_ITER, h0 != nullptr ? h0 : zeros_.data());
    bind(DNNL_ARG_BIAS, bias_.data());
    bind(DNNL_ARG_DST_LAYER, dst_layer);
    bind(DNNL_ARG_DST_ITER, h_scratch_.data());
    if (IsLstm()) {
      bind(DNNL_ARG_SRC_ITER_C, c0 != nullptr ? c0 : zeros_.data());
      bind(DNNL_ARG_DST_ITER_C, c_scratch_.data());
    }
  }

  template <typename Pd>
  void Weights(const Pd& pd, memory* layer, memory* iter) {
    *layer = memory(pd.weights_layer_desc(), CpuEngine());
    *iter = memory(pd.weights_iter_desc(), CpuEngine());
  }

  void BuildInference(Plan& plan) {
    const auto pk = dnnl::prop_kind::forward_inference;
    const auto dir = dnnl::rnn_direction::unidirectional_left2right;
    const auto src = LayerMd(plan.seq, plan.batch, shape_.input);
    const auto dst = LayerMd(plan.seq, plan.batch, shape_.hidden);
    const auto iter = IterMd(plan.batch);
    if (IsLstm()) {
      dnnl::lstm_forward::primitive_desc pd(
          dnnl::lstm_forward::desc(pk, dir, src, iter, iter, AnyWeightsLayer(), AnyWeightsIter(),
                                   BiasMd(), dst, iter, iter),
          CpuEngine());
      Weights(pd, &plan.infer_w_layer, &plan.infer_w_iter);
      plan.infer = std::make_unique<dnnl::lstm_forward>(pd);
    } else if (shape_.cell == CellKind::kGru) {
      dnnl::lbr_gru_forward::primitive_desc pd(
          dnnl::lbr_gru_forward::desc(pk, dir, src, iter, AnyWeightsLayer(), AnyWeightsIter(),
                                      BiasMd(), dst, iter),
          CpuEngine());
      Weights(pd, &plan.infer_w_layer, &plan.infer_w_iter);
      plan.infer = std::make_unique<dnnl::lbr_gru_forward>(pd);
    } else if (shape_.cell == CellKind::kGruClassic) {
      dnnl::gru_forward::primitive_desc pd(
          dnnl::gru_forward::desc(pk, dir, src, iter, AnyWeightsLayer(), AnyWeightsIter(), BiasMd(),
                                  dst, iter),
          CpuEngine());
      Weights(pd, &plan.infer_w_layer, &plan.infer_w_iter);
      plan.infer = std::make_unique<dnnl::gru_forward>(pd);
    } else {
      dnnl::vanilla_rnn_forward::primitive_desc pd(
          dnnl::vanilla_rnn_forward::desc(pk, dnnl::algorithm::eltwise_tanh, dir, src, iter,
                                          AnyWeightsLayer(), AnyWeightsIter(), BiasMd(), dst, iter),
          CpuEngine());
      Weights(pd, &plan.infer_w_layer, &plan.infer_w_iter);
      plan.infer = std::make_unique<dnnl::vanilla_rnn_forward>(pd);
    }
  }

  void BuildTraining(Plan& plan) {
    const auto dir = dnnl::rnn_direction::unidirectional_left2right;
    const auto src = LayerMd(plan.seq, plan.batch, shape_.input);
    const auto dst = LayerMd(plan.seq, plan.batch, shape_.hidden);
    const auto iter = IterMd(plan.batch);
    const auto fwd_pk = dnnl::prop_kind::forward_training;
    const auto bwd_pk = dnnl::prop_kind::backward;
    if (IsLstm()) {
      dnnl::lstm_forward::primitive_desc fwd(
          dnnl::lstm_forward::desc(fwd_pk, dir, src, iter, iter, AnyWeightsLayer(),
                                   AnyWeightsIter(), BiasMd(), dst, iter, iter),
          CpuEngine());
      dnnl::lstm_backward::primitive_desc bwd(
          dnnl::lstm_backward::desc(bwd_pk, dir, src, iter, iter, AnyWeightsLayer(),
                                    AnyWeightsIter(), BiasMd(), dst, iter, iter, src, iter, iter,
                                    AnyWeightsLayer(), AnyWeightsIter(), BiasMd(), dst, iter, iter),
          CpuEngine(), fwd);
      FinishTraining(plan, fwd, bwd);
      plan.train = std::make_unique<dnnl::lstm_forward>(fwd);
      plan.backward = std::make_unique<dnnl::lstm_backward>(bwd);
    } else if (shape_.cell == CellKind::kGru) {
      dnnl::lbr_gru_forward::primitive_desc fwd(
          dnnl::lbr_gru_forward::desc(fwd_pk, dir, src, iter, AnyWeightsLayer(), AnyWeightsIter(),
                                      BiasMd(), dst, iter),
          CpuEngine());
      dnnl::lbr_gru_backward::primitive_desc bwd(
          dnnl::lbr_gru_backward::desc(bwd_pk, dir, src, iter, AnyWeightsLayer(), AnyWeightsIter(),
                                       BiasMd(), dst, iter, src, iter, AnyWeightsLayer(),
                                       AnyWeightsIter(), BiasMd(), dst, iter),
          CpuEngine(), fwd);
      FinishTraining(plan, fwd, bwd);
      plan.train = std::make_unique<dnnl::lbr_gru_forward>(fwd);
      plan.backward = std::make_unique<dnnl::lbr_gru_backward>(bwd);
    } else if (shape_.cell == CellKind::kGruClassic) {
      dnnl::gru_forward::primitive_desc fwd(
          dnnl::gru_forward::desc(fwd_pk, dir, src, iter, AnyWeightsLayer(), AnyWeightsIter(),
                                  BiasMd(), dst, iter),
          CpuEngine());
      dnnl::gru_backward::primitive_desc bwd(
          dnnl::gru_backward::desc(bwd_pk, dir, src, iter, AnyWeightsLayer(), AnyWeightsIter(),
                                   BiasMd(), dst, iter, src, iter, AnyWeightsLayer(),
                                   AnyWeightsIter(), BiasMd(), dst, iter),
          CpuEngine(), fwd);
      FinishTraining(plan, fwd, bwd);
      plan.train = std::make_unique<dnnl::gru_forward>(fwd);
      plan.backward = std::make_unique<dnnl::gru_backward>(bwd);
    } else {
      const auto act = dnnl::algorithm::eltwise_tanh;
      dnnl::vanilla_rnn_forward::primitive_desc fwd(
          dnnl::vanilla_rnn_forward::desc(fwd_pk, act, dir, src, iter, AnyWeightsLayer(),
                                          AnyWeightsIter(), BiasMd(), dst, iter),
          CpuEngine());
      dnnl::vanilla_rnn_backward::primitive_desc bwd(
          dnnl::vanilla_rnn_backward::desc(
              bwd_pk, act, dir, src, iter, AnyWeightsLayer(), AnyWeightsIter(), BiasMd(), dst, iter,
              src, iter, AnyWeightsLayer(), AnyWeightsIter(), BiasMd(), dst, iter),
          CpuEngine(), fwd);
      FinishTraining(plan, fwd, bwd);
      plan.train = std::make_unique<dnnl::vanilla_rnn_forward>(fwd);
      plan.backward = std::make_unique<dnnl::vanilla_rnn_backward>(bwd);
    }
  }

  template <typename FwdPd, typename BwdPd>
  void FinishTraining(Plan& plan, const FwdPd& fwd, const BwdPd& bwd) {
    Weights(fwd, &plan.train_w_layer, &plan.train_w_iter);
    Weights(bwd, &plan.bwd_w_layer, &plan.bwd_w_iter);
    plan.diff_w_layer = memory(bwd.diff_weights_layer_desc(), CpuEngine());
    plan.diff_w_iter = memory(bwd.diff_weights_iter_desc(), CpuEngine());
    plan.workspace_md = fwd.workspace_desc();
    plan.workspace_bytes = plan.workspace_md.get_size();
    plan.train_version = 0;
  }

  void RefreshTrainingWeights(Plan& plan) {
    if (plan.train_version == version_) return;
    Reorder(w_ih_.data(), UserWeightsLayer(), plan.train_w_layer);
    Reorder(w_hh_.data(), UserWeightsIter(), plan.train_w_iter);
    Reorder(w_ih_.data(), UserWeightsLayer(), plan.bwd_w_layer);
    Reorder(w_hh_.data(), UserWeightsIter(), plan.bwd_w_iter);
    plan.train_version = version_;
  }

  RecurrentShape shape_;
  KernelOptions options_;
  int gates_;      // weight gate blocks: GateCount(cell)
  int bias_rows_;  // bias blocks: BiasRows(cell) (4 for kGru's lbr_gru)
  dnnl::stream stream_;
  uint64_t version_ = 0;
  std::vector<float> w_ih_, w_hh_, bias_;  // in oneDNN's gate order (see OnednnGate)
  std::vector<std::unique_ptr<Plan>> plans_;
  std::vector<float> zeros_, y_scratch_, dx_scratch_, h_scratch_, c_scratch_;
  std::vector<float> diff_bias_, dw_layer_plain_, dw_iter_plain_;
  std::vector<float> chunk_x_, chunk_y_;
  // Largest batch per inference primitive call. Unlimited on AVX-512 CPUs; 256 otherwise, as
  // oneDNN 2.6's AVX2 LSTM inference corrupts memory at batch 1000 / hidden 128 (found by
  // valgrind: writes past a oneDNN-internal buffer; see docs/bench/kernels.md).
  int max_batch_per_call_ = MaxBatchPerCall();

  static int MaxBatchPerCall() {
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    const auto avx512 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
    return (isa & avx512) == avx512 ? std::numeric_limits<int>::max() : 256;
  }
};

}  // namespace
}  // namespace onednn

Result<std::unique_ptr<RecurrentKernel>> CreateOnednnRecurrentKernel(const RecurrentShape& shape,
                                                                     const KernelOptions& options) {
  if (shape.input < 1 || shape.hidden < 1) {
    return Status::InvalidArgument("onednn recurrent kernel: input and hidden must be >= 1");
  }
  if (options.threads < 1) {
    return Status::InvalidArgument("onednn recurrent kernel: threads must be >= 1");
  }
  if (options.fp16_weights) {
    return Status::Unimplemented(
        "onednn recurrent kernel: oneDNN 2.6 has no fp16-weight RNN on CPU (use avx2)");
  }
  std::unique_ptr<RecurrentKernel> kernel;
  NEMESYST_RETURN_IF_ERROR(onednn::Guard("create", [&]() -> Status {
    kernel = std::make_unique<onednn::OnednnRecurrentKernel>(shape, options);
    return Status::OK();
  }));
  return kernel;
}

}  // namespace nemesyst::kernels
