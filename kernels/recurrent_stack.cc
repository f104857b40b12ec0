#include "kernels/recurrent_stack.h"

#include <algorithm>
#include <cmath>

#include "kernels/dispatch.h"
#include "kernels/dropout.h"

namespace nemesyst::kernels {
namespace {

void CopyOrZero(const std::vector<std::vector<float>>* from, size_t l, size_t n,
                std::vector<float>* to) {
  if (from && l < from->size() && (*from)[l].size() == n) {
    to->assign((*from)[l].begin(), (*from)[l].end());
  } else {
    to->assign(n, 0.0f);
  }
}

}  // namespace

Result<std::unique_ptr<RecurrentStack>> RecurrentStack::Create(const RecurrentStackConfig& config,
                                                               const std::string& prefix,
                                                               ParameterSet* params,
                                                               Backend backend,
                                                               const KernelOptions& options) {
  if (config.hidden.empty()) return Status::InvalidArgument("recurrent stack needs >= 1 layer");
  if (config.dropout < 0.0 || config.dropout >= 1.0) {
    return Status::InvalidArgument("dropout must be in [0, 1)");
  }
  std::unique_ptr<RecurrentStack> stack(new RecurrentStack(config, params));
  const int64_t g = GateCount(config.cell);
  for (size_t l = 0; l < config.hidden.size(); ++l) {
    const int in = stack->LayerInput(l), h = config.hidden[l];
    NEMESYST_ASSIGN_OR_RETURN(auto kernel,
                              CreateRecurrentKernel({config.cell, in, h}, backend, options));
    stack->kernels_.push_back(std::move(kernel));
    const std::string name = prefix + "." + std::to_string(l);
    Offsets o;
    o.w_ih = params->Add(name + ".w_ih", {g * h, in});
    o.w_hh = params->Add(name + ".w_hh", {g * h, h});
    o.bias = params->Add(name + ".bias", {int64_t{BiasRows(config.cell)} * h});
    stack->offsets_.push_back(o);
  }
  const size_t layers = config.hidden.size();
  stack->inputs_.resize(layers);
  stack->outputs_.resize(layers);
  stack->masks_.resize(layers);
  stack->h0_.resize(layers);
  stack->c0_.resize(layers);
  stack->tapes_.resize(layers);
  return stack;
}

void RecurrentStack::Initialize(Rng& rng) {
  const int g = GateCount(config_.cell);
  for (size_t l = 0; l < offsets_.size(); ++l) {
    const int h = config_.hidden[l], in = LayerInput(l);
    const double k = 1.0 / std::sqrt(static_cast<double>(h));
    auto fill = [&](size_t offset, size_t n) {
      float* p = params_->value(offset);
      for (size_t i = 0; i < n; ++i) p[i] = static_cast<float>(rng.Uniform(-k, k));
    };
    fill(offsets_[l].w_ih, static_cast<size_t>(g) * h * in);
    fill(offsets_[l].w_hh, static_cast<size_t>(g) * h * h);
    fill(offsets_[l].bias, static_cast<size_t>(BiasRows(config_.cell)) * h);
    if (config_.cell == CellKind::kLstm) {
      float* forget_bias = params_->value(offsets_[l].bias) + h;
      for (int j = 0; j < h; ++j) forget_bias[j] += 1.0f;  // remember by default
    }
  }
}

Status RecurrentStack::SyncWeights() {
  for (size_t l = 0; l < kernels_.size(); ++l) {
    NEMESYST_RETURN_IF_ERROR(
        kernels_[l]->SetWeights({params_->value(offsets_[l].w_ih), params_->value(offsets_[l].w_hh),
                                 params_->value(offsets_[l].bias)}));
  }
  return Status::OK();
}

StackState RecurrentStack::ZeroState(int batch) const {
  StackState state;
  for (int h : config_.hidden) {
    state.h.emplace_back(static_cast<size_t>(batch) * h, 0.0f);
    if (config_.cell == CellKind::kLstm) state.c.emplace_back(static_cast<size_t>(batch) * h, 0.0f);
  }
  return state;
}

Status RecurrentStack::Forward(int seq, int batch, const float* x, const StackState* initial,
                               float* y_top, StackState* final) {
  const size_t layers = kernels_.size();
  const bool lstm = config_.cell == CellKind::kLstm;
  if (final) *final = ZeroState(batch);
  const float* in = x;
  for (size_t l = 0; l < layers; ++l) {
    const size_t n = static_cast<size_t>(seq) * batch * config_.hidden[l];
    float* out = y_top;
    if (l + 1 < layers) {
      std::vector<float>& buffer = (l % 2 == 0) ? grad_a_ : grad_b_;  // free outside Backward
      if (buffer.size() < n) buffer.resize(n);
      out = buffer.data();
    }
    const float* h0 = initial && l < initial->h.size() ? initial->h[l].data() : nullptr;
    const float* c0 = lstm && initial && l < initial->c.size() ? initial->c[l].data() : nullptr;
    NEMESYST_RETURN_IF_ERROR(kernels_[l]->Forward(seq, batch, in, h0, c0, out,
                                                  final ? final->h[l].data() : nullptr,
                                                  final && lstm ? final->c[l].data() : nullptr));
    in = out;
  }
  return Status::OK();
}

Status RecurrentStack::ForwardTrain(int seq, int batch, const float* x, const StackState* initial,
                                    Rng* dropout_rng, float* y_top, StackState* final) {
  if (config_.dropout > 0.0 && !dropout_rng) {
    return Status::InvalidArgument("recurrent stack: dropout needs a random generator");
  }
  const size_t layers = kernels_.size();
  const bool lstm = config_.cell == CellKind::kLstm;
  seq_ = seq;
  batch_ = batch;
  if (final) *final = ZeroState(batch);
  inputs_[0].assign(x, x + static_cast<size_t>(seq) * batch * config_.input);
  for (size_t l = 0; l < layers; ++l) {
    const size_t state_n = static_cast<size_t>(batch) * config_.hidden[l];
    const size_t n = static_cast<size_t>(seq) * state_n;
    CopyOrZero(initial ? &initial->h : nullptr, l, state_n, &h0_[l]);
    if (lstm) CopyOrZero(initial ? &initial->c : nullptr, l, state_n, &c0_[l]);
    outputs_[l].resize(n);
    NEMESYST_RETURN_IF_ERROR(kernels_[l]->ForwardTrain(
        seq, batch, inputs_[l].data(), h0_[l].data(), lstm ? c0_[l].data() : nullptr,
        outputs_[l].data(), final ? final->h[l].data() : nullptr,
        final && lstm ? final->c[l].data() : nullptr, &tapes_[l]));
    if (l + 1 < layers) {
      inputs_[l + 1].resize(n);
      masks_[l].resize(n);
      if (config_.dropout > 0.0) {
        DropoutForward(*dropout_rng, config_.dropout, n, outputs_[l].data(), masks_[l].data(),
                       inputs_[l + 1].data());
      } else {
        std::copy(outputs_[l].begin(), outputs_[l].end(), inputs_[l + 1].begin());
      }
    }
  }
  std::copy(outputs_.back().begin(), outputs_.back().end(), y_top);
  return Status::OK();
}

Status RecurrentStack::Backward(const float* dy_top, float* dx) {
  if (seq_ == 0) return Status::FailedPrecondition("recurrent stack: Backward before ForwardTrain");
  const bool lstm = config_.cell == CellKind::kLstm;
  const float* dy = dy_top;
  for (size_t l = kernels_.size(); l-- > 0;) {
    float* dx_l = dx;
    if (l > 0) {
      grad_b_.resize(static_cast<size_t>(seq_) * batch_ * LayerInput(l));
      dx_l = grad_b_.data();
    }
    NEMESYST_RETURN_IF_ERROR(kernels_[l]->Backward(
        seq_, batch_, inputs_[l].data(), h0_[l].data(), lstm ? c0_[l].data() : nullptr, tapes_[l],
        dy, nullptr, nullptr, dx_l, nullptr, nullptr,
        {params_->grad(offsets_[l].w_ih), params_->grad(offsets_[l].w_hh),
         params_->grad(offsets_[l].bias)}));
    if (l > 0) {
      if (config_.dropout > 0.0) {
        DropoutBackward(grad_b_.size(), masks_[l - 1].data(), grad_b_.data(), grad_b_.data());
      }
      std::swap(grad_a_, grad_b_);
      dy = grad_a_.data();
    }
  }
  return Status::OK();
}

Status RecurrentStack::Step(int batch, const float* x, StackState* state) {
  const bool lstm = config_.cell == CellKind::kLstm;
  const float* in = x;
  for (size_t l = 0; l < kernels_.size(); ++l) {
    NEMESYST_RETURN_IF_ERROR(
        kernels_[l]->Step(batch, in, state->h[l].data(), lstm ? state->c[l].data() : nullptr));
    in = state->h[l].data();
  }
  return Status::OK();
}

}  // namespace nemesyst::kernels
