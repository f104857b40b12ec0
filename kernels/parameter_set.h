// All trainable tensors of one network in one flat float buffer (and a gradient buffer of the
// same layout), so optimisers, clipping, checkpoints and model files see a single array.
// Tensors are registered by name and shape first, then Allocate() sizes both buffers; offsets
// never change afterwards. Not thread-safe.
#ifndef NEMESYST_KERNELS_PARAMETER_SET_H_
#define NEMESYST_KERNELS_PARAMETER_SET_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace nemesyst::kernels {

struct TensorInfo {
  std::string name;            // e.g. "encoder.0.w_ih"
  std::vector<int64_t> shape;  // row-major
  size_t offset = 0;           // in floats, into values()/grads()
  size_t size = 0;             // element count
};

class ParameterSet {
 public:
  // Registers a tensor; returns its offset. Only before Allocate().
  size_t Add(std::string name, std::vector<int64_t> shape);
  // Sizes values and gradients (zero-filled).
  void Allocate();

  float* value(size_t offset) { return values_.data() + offset; }
  const float* value(size_t offset) const { return values_.data() + offset; }
  float* grad(size_t offset) { return grads_.data() + offset; }

  std::vector<float>& values() { return values_; }
  const std::vector<float>& values() const { return values_; }
  std::vector<float>& grads() { return grads_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  size_t size() const { return total_; }
  void ZeroGrads();

 private:
  std::vector<TensorInfo> tensors_;
  size_t total_ = 0;
  std::vector<float> values_;
  std::vector<float> grads_;
};

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_PARAMETER_SET_H_
