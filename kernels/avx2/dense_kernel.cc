// The avx2 dense layer: y = x·Wᵀ + b with Wᵀ packed once per SetWeights for the 6×16 GEMM tile,
// and W packed as is for dx = dy·W. Threads split the batch rows (forward, dx) and the output rows
// of dW (backward).
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "kernels/avx2/aligned_buffer.h"
#include "kernels/avx2/gemm.h"
#include "kernels/avx2/internal.h"
#include "kernels/avx2/simd.h"
#include "kernels/avx2/thread_pool.h"

namespace nemesyst::kernels::avx2 {
namespace {

class Avx2DenseKernel final : public DenseKernel {
 public:
  Avx2DenseKernel(const DenseShape& shape, const KernelOptions& options)
      : shape_(shape), pool_(options.threads) {}

  Backend backend() const override { return Backend::kAvx2; }
  const DenseShape& shape() const override { return shape_; }

  Status SetWeights(const float* w, const float* b) override {
    if (w == nullptr || b == nullptr) {
      return Status::InvalidArgument("avx2 dense SetWeights: w and b must be non-null");
    }
    const int in = shape_.input, out = shape_.output;
    if (!wt_packed_.Reserve(PackedBSize(in, out)) || !w_packed_.Reserve(PackedBSize(out, in)) ||
        !bias_.Reserve(out)) {
      return Status::ResourceExhausted("avx2 dense SetWeights: out of memory");
    }
    PackB(in, out, w, 1, in, wt_packed_.data());  // B(k, n) = W[n][k]
    PackB(out, in, w, in, 1, w_packed_.data());   // B(k, n) = W[k][n]
    std::memcpy(bias_.data(), b, sizeof(float) * out);
    has_weights_ = true;
    return Status::OK();
  }

  Status Forward(int batch, const float* x, float* y) override {
    NEMESYST_RETURN_IF_ERROR(Check(batch, x));
    if (y == nullptr) return Status::InvalidArgument("avx2 dense Forward: y is null");
    const int in = shape_.input, out = shape_.output;
    pool_.Run([&](int index) {
      const Range rows = Split(batch, pool_.size(), index);
      for (int r = rows.begin; r < rows.end; ++r) {
        std::memcpy(y + size_t(r) * out, bias_.data(), sizeof(float) * out);
      }
      GemmPackedB(rows.end - rows.begin, out, in, x + size_t(rows.begin) * in, in, 1,
                  wt_packed_.data(), y + size_t(rows.begin) * out, out, true);
    });
    return Status::OK();
  }

  Status Backward(int batch, const float* x, const float* dy, float* dx, float* dw,
                  float* db) override {
    NEMESYST_RETURN_IF_ERROR(Check(batch, x));
    if (dy == nullptr || dw == nullptr || db == nullptr) {
      return Status::InvalidArgument("avx2 dense Backward: dy, dw and db must be non-null");
    }
    const int in = shape_.input, out = shape_.output;
    if (!x_packed_.Reserve(PackedBSize(batch, in))) {
      return Status::ResourceExhausted("avx2 dense Backward: out of memory");
    }
    PackB(batch, in, x, in, 1, x_packed_.data());
    pool_.Run([&](int index) {
      if (dx != nullptr) {
        const Range rows = Split(batch, pool_.size(), index);
        GemmPackedB(rows.end - rows.begin, in, out, dy + size_t(rows.begin) * out, out, 1,
                    w_packed_.data(), dx + size_t(rows.begin) * in, in, false);
      }
      // dW[o][i] += Σ_b dy[b][o] x[b][i]: A = dyᵀ read in place.
      const Range o = Split(out, pool_.size(), index);
      GemmPackedB(o.end - o.begin, in, batch, dy + o.begin, 1, out, x_packed_.data(),
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
    if (!has_weights_) return Status::FailedPrecondition("avx2 dense: SetWeights not called");
    if (batch < 1) {
      return Status::InvalidArgument("avx2 dense: batch must be >= 1, got " +
                                     std::to_string(batch));
    }
    if (x == nullptr) return Status::InvalidArgument("avx2 dense: x is null");
    return Status::OK();
  }

  DenseShape shape_;
  bool has_weights_ = false;
  AlignedBuffer<float> wt_packed_;
  AlignedBuffer<float> w_packed_;
  AlignedBuffer<float> bias_;
  AlignedBuffer<float> x_packed_;
  ThreadPool pool_;
};

}  // namespace

std::unique_ptr<DenseKernel> NewDenseKernel(const DenseShape& shape, const KernelOptions& options) {
  return std::make_unique<Avx2DenseKernel>(shape, options);
}

}  // namespace nemesyst::kernels::avx2
