// The `ref` dense kernel: ref_math.h in float behind the DenseKernel contract. Single-threaded.
#include <string>
#include <vector>

#include "kernels/dense_kernel.h"
#include "kernels/ref/ref_math.h"

namespace nemesyst::kernels {
namespace {

class RefDenseKernel final : public DenseKernel {
 public:
  explicit RefDenseKernel(const DenseShape& shape) : shape_(shape) {}

  Backend backend() const override { return Backend::kRef; }
  const DenseShape& shape() const override { return shape_; }

  Status SetWeights(const float* w, const float* b) override {
    if (!w || !b) return Status::InvalidArgument("ref dense kernel: null weight pointer");
    w_.assign(w, w + static_cast<size_t>(shape_.output) * shape_.input);
    b_.assign(b, b + shape_.output);
    return Status::OK();
  }

  Status Forward(int batch, const float* x, float* y) override {
    NEMESYST_RETURN_IF_ERROR(Check(batch, x));
    if (!y) return Status::InvalidArgument("ref dense kernel: null output");
    ref::DenseForward<float>(shape_.input, shape_.output, w_.data(), b_.data(), batch, x, y);
    return Status::OK();
  }

  Status Backward(int batch, const float* x, const float* dy, float* dx, float* dw,
                  float* db) override {
    NEMESYST_RETURN_IF_ERROR(Check(batch, x));
    if (!dy || !dw || !db) return Status::InvalidArgument("ref dense kernel: null gradient");
    ref::DenseBackward<float>(shape_.input, shape_.output, w_.data(), batch, x, dy, dx, dw, db);
    return Status::OK();
  }

 private:
  Status Check(int batch, const float* x) const {
    if (w_.empty()) return Status::FailedPrecondition("ref dense kernel: no weights set");
    if (batch < 1) {
      return Status::InvalidArgument("ref dense kernel: batch must be >= 1 (got " +
                                     std::to_string(batch) + ")");
    }
    if (!x) return Status::InvalidArgument("ref dense kernel: null input");
    return Status::OK();
  }

  DenseShape shape_;
  std::vector<float> w_, b_;
};

}  // namespace

Result<std::unique_ptr<DenseKernel>> CreateRefDenseKernel(const DenseShape& shape,
                                                          const KernelOptions& /*options*/) {
  if (shape.input < 1 || shape.output < 1) {
    return Status::InvalidArgument("dense kernel: input and output must be >= 1 (got " +
                                   std::to_string(shape.input) + ", " +
                                   std::to_string(shape.output) + ")");
  }
  return std::unique_ptr<DenseKernel>(new RefDenseKernel(shape));
}

}  // namespace nemesyst::kernels
