// The dense layer of the SIMD backends (avx2, avx512): y = x·Wᵀ + b with Wᵀ packed once per
// SetWeights for the backend's GEMM tile (IsaOps::gemm), and W packed as is for dx = dy·W. Threads
// split the batch rows (forward, dx) and the output rows of dW (backward).
#include <algorithm>
#include <cstring>
#include <string>

#include "kernels/avx2/aligned_buffer.h"
#include "kernels/avx2/gemm.h"
#include "kernels/avx2/internal.h"
#include "kernels/avx2/isa_ops.h"
#include "kernels/avx2/thread_pool.h"

namespace nemesyst::kernels::avx2 {
namespace {

class SimdDenseKernel final : public DenseKernel {
 public:
  SimdDenseKernel(const DenseShape& shape, const KernelOptions& options, const simd::IsaOps& isa)
      : isa_(isa), shape_(shape), pool_(options.threads) {}

  Backend backend() const override { return isa_.backend; }
  const DenseShape& shape() const override { return shape_; }

  Status SetWeights(const float* w, const float* b) override {
    if (w == nullptr || b == nullptr) {
      return Status::InvalidArgument(Error(" dense SetWeights: w and b must be non-null"));
    }
    const int in = shape_.input, out = shape_.output, width = isa_.gemm_panel_width;
    if (!wt_packed_.Reserve(simd::PackedBSize(in, out, width)) ||
        !w_packed_.Reserve(simd::PackedBSize(out, in, width)) || !bias_.Reserve(out)) {
      return Status::ResourceExhausted(Error(" dense SetWeights: out of memory"));
    }
    simd::PackB(in, out, w, 1, in, width, wt_packed_.data());  // B(k, n) = W[n][k]
    simd::PackB(out, in, w, in, 1, width, w_packed_.data());   // B(k, n) = W[k][n]
    std::memcpy(bias_.data(), b, sizeof(float) * out);
    has_weights_ = true;
    return Status::OK();
  }

  Status Forward(int batch, const float* x, float* y) override {
    NEMESYST_RETURN_IF_ERROR(Check(batch, x));
    if (y == nullptr) return Status::InvalidArgument(Error(" dense Forward: y is null"));
    const int in = shape_.input, out = shape_.output;
    pool_.Run([&](int index) {
      const Range rows = Split(batch, pool_.size(), index);
      for (int r = rows.begin; r < rows.end; ++r) {
        std::memcpy(y + size_t(r) * out, bias_.data(), sizeof(float) * out);
      }
      isa_.gemm(rows.end - rows.begin, out, in, x + size_t(rows.begin) * in, in, 1,
                wt_packed_.data(), y + size_t(rows.begin) * out, out, true);
    });
    return Status::OK();
  }

  Status Backward(int batch, const float* x, const float* dy, float* dx, float* dw,
                  float* db) override {
    NEMESYST_RETURN_IF_ERROR(Check(batch, x));
    if (dy == nullptr || dw == nullptr || db == nullptr) {
      return Status::InvalidArgument(Error(" dense Backward: dy, dw and db must be non-null"));
    }
    const int in = shape_.input, out = shape_.output, width = isa_.gemm_panel_width;
    if (!x_packed_.Reserve(simd::PackedBSize(batch, in, width))) {
      return Status::ResourceExhausted(Error(" dense Backward: out of memory"));
    }
    simd::PackB(batch, in, x, in, 1, width, x_packed_.data());
    pool_.Run([&](int index) {
      if (dx != nullptr) {
        const Range rows = Split(batch, pool_.size(), index);
        isa_.gemm(rows.end - rows.begin, in, out, dy + size_t(rows.begin) * out, out, 1,
                  w_packed_.data(), dx + size_t(rows.begin) * in, in, false);
      }
      // dW[o][i] += Σ_b dy[b][o] x[b][i]: A = dyᵀ read in place.
      const Range o = Split(out, pool_.size(), index);
      isa_.gemm(o.end - o.begin, in, batch, dy + o.begin, 1, out, x_packed_.data(),
                dw + size_t(o.begin) * in, in, true);
      for (int b = 0; b < batch; ++b) {
        const float* row = dy + size_t(b) * out;
        for (int j = o.begin; j < o.end; ++j) db[j] += row[j];
      }
    });
    return Status::OK();
  }

 private:
  Status Check(int batch, const float* x) const {
    if (!has_weights_) return Status::FailedPrecondition(Error(" dense: SetWeights not called"));
    if (batch < 1) {
      return Status::InvalidArgument(Error(" dense: batch must be >= 1, got ") +
                                     std::to_string(batch));
    }
    if (x == nullptr) return Status::InvalidArgument(Error(" dense: x is null"));
    return Status::OK();
  }
  // "<backend>: <what>", for error messages.
  std::string Error(const char* what) const { return std::string(isa_.name) + what; }

  const simd::IsaOps& isa_;

  DenseShape shape_;
  bool has_weights_ = false;
  AlignedBuffer<float> wt_packed_;
  AlignedBuffer<float> w_packed_;
  AlignedBuffer<float> bias_;
  AlignedBuffer<float> x_packed_;
  ThreadPool pool_;
};

}  // namespace

std::unique_ptr<DenseKernel> NewDenseKernel(const DenseShape& shape, const KernelOptions& options,
                                            const simd::IsaOps& isa) {
  return std::make_unique<SimdDenseKernel>(shape, options, isa);
}

}  // namespace nemesyst::kernels::avx2
