// The onednn dense layer: inner_product forward / backward_data / backward_weights with plain
// layouts (src nc = x [B][I], weights oi = W [O][I], bias x, dst nc), primitives cached per batch
// size. oneDNN overwrites diff weights, so they land in scratch and are added to the caller's
// accumulators.
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels/dense_kernel.h"
#include "kernels/onednn/onednn_common.h"

namespace nemesyst::kernels {
namespace onednn {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

struct DensePlan {
  std::unique_ptr<dnnl::inner_product_forward> forward;
  std::unique_ptr<dnnl::inner_product_backward_data> backward_data;
  std::unique_ptr<dnnl::inner_product_backward_weights> backward_weights;
};

class OnednnDenseKernel final : public DenseKernel {
 public:
  OnednnDenseKernel(const DenseShape& shape, const KernelOptions& options)
      : shape_(shape), options_(options), stream_(CpuEngine()) {}

  Backend backend() const override { return Backend::kOnednn; }
  const DenseShape& shape() const override { return shape_; }

  Status SetWeights(const float* w, const float* b) override {
    if (w == nullptr || b == nullptr) {
      return Status::InvalidArgument("onednn dense SetWeights: w and b must be non-null");
    }
    w_.assign(w, w + size_t(shape_.output) * shape_.input);
    b_.assign(b, b + shape_.output);
    return Status::OK();
  }

  Status Forward(int batch, const float* x, float* y) override {
    NEMESYST_RETURN_IF_ERROR(Check(batch, x));
    if (y == nullptr) return Status::InvalidArgument("onednn dense Forward: y is null");
    return Guard("dense forward", [&]() -> Status {
      DensePlan& plan = GetPlan(batch);
      UseThreads(options_.threads);
      plan.forward->execute(stream_, {{DNNL_ARG_SRC, Mem(Src(batch), x)},
                                      {DNNL_ARG_WEIGHTS, Mem(Weights(), w_.data())},
                                      {DNNL_ARG_BIAS, Mem(Bias(), b_.data())},
                                      {DNNL_ARG_DST, Mem(Dst(batch), y)}});
      stream_.wait();
      return Status::OK();
    });
  }

  Status Backward(int batch, const float* x, const float* dy, float* dx, float* dw,
                  float* db) override {
    NEMESYST_RETURN_IF_ERROR(Check(batch, x));
    if (dy == nullptr || dw == nullptr || db == nullptr) {
      return Status::InvalidArgument("onednn dense Backward: dy, dw and db must be non-null");
    }
    return Guard("dense backward", [&]() -> Status {
      DensePlan& plan = GetPlan(batch);
      dw_scratch_.resize(w_.size());
      db_scratch_.resize(b_.size());
      UseThreads(options_.threads);
      if (dx != nullptr) {
        plan.backward_data->execute(stream_, {{DNNL_ARG_DIFF_DST, Mem(Dst(batch), dy)},
                                              {DNNL_ARG_WEIGHTS, Mem(Weights(), w_.data())},
                                              {DNNL_ARG_DIFF_SRC, Mem(Src(batch), dx)}});
      }
      plan.backward_weights->execute(stream_,
                                     {{DNNL_ARG_SRC, Mem(Src(batch), x)},
                                      {DNNL_ARG_DIFF_DST, Mem(Dst(batch), dy)},
                                      {DNNL_ARG_DIFF_WEIGHTS, Mem(Weights(), dw_scratch_.data())},
                                      {DNNL_ARG_DIFF_BIAS, Mem(Bias(), db_scratch_.data())}});
      stream_.wait();
      for (size_t i = 0; i < dw_scratch_.size(); ++i) dw[i] += dw_scratch_[i];
      for (size_t i = 0; i < db_scratch_.size(); ++i) db[i] += db_scratch_[i];
      return Status::OK();
    });
  }

 private:
  Status Check(int batch, const float* x) const {
    if (w_.empty()) return Status::FailedPrecondition("onednn dense: SetWeights not called");
    if (batch < 1) {
      return Status::InvalidArgument("onednn dense: batch must be >= 1, got " +
                                     std::to_string(batch));
    }
    if (x == nullptr) return Status::InvalidArgument("onednn dense: x is null");
    return Status::OK();
  }

  memory::desc Src(int batch) const { return {{batch, shape_.input}, dt::f32, tag::nc}; }
  memory::desc Dst(int batch) const { return {{batch, shape_.output}, dt::f32, tag::nc}; }
  memory::desc Weights() const { return {{shape_.output, shape_.input}, dt::f32, tag::oi}; }
  memory::desc Bias() const { return {{shape_.output}, dt::f32, tag::x}; }
  memory Mem(const memory::desc& md, const float* p) const {
    return memory(md, CpuEngine(), const_cast<float*>(p));
  }

  DensePlan& GetPlan(int batch) {
    auto it = plans_.find(batch);
    if (it != plans_.end()) return it->second;
    DensePlan plan;
    const auto& eng = CpuEngine();
    const dnnl::inner_product_forward::primitive_desc fwd(
        {dnnl::prop_kind::forward_training, Src(batch), Weights(), Bias(), Dst(batch)}, eng);
    plan.forward = std::make_unique<dnnl::inner_product_forward>(fwd);
    plan.backward_data = std::make_unique<dnnl::inner_product_backward_data>(
        dnnl::inner_product_backward_data::primitive_desc({Src(batch), Weights(), Dst(batch)}, eng,
                                                          fwd));
    plan.backward_weights = std::make_unique<dnnl::inner_product_backward_weights>(
        dnnl::inner_product_backward_weights::primitive_desc(
            {Src(batch), Weights(), Bias(), Dst(batch)}, eng, fwd));
    return plans_.emplace(batch, std::move(plan)).first->second;
  }

  DenseShape shape_;
  KernelOptions options_;
  dnnl::stream stream_;
  std::vector<float> w_, b_, dw_scratch_, db_scratch_;
  std::unordered_map<int, DensePlan> plans_;
};

}  // namespace
}  // namespace onednn

Result<std::unique_ptr<DenseKernel>> CreateOnednnDenseKernel(const DenseShape& shape,
                                                             const KernelOptions& options) {
  if (shape.input < 1 || shape.output < 1) {
    return Status::InvalidArgument("onednn dense kernel: input and output must be >= 1");
  }
  if (options.threads < 1) {
    return Status::InvalidArgument("onednn dense kernel: threads must be >= 1");
  }
  std::unique_ptr<DenseKernel> kernel;
  NEMESYST_RETURN_IF_ERROR(onednn::Guard("create dense", [&]() -> Status {
    kernel = std::make_unique<onednn::OnednnDenseKernel>(shape, options);
    return Status::OK();
  }));
  return kernel;
}

}  // namespace nemesyst::kernels
