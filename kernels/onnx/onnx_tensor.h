// ONNX TensorProto → checked values. Every dimension, element count and byte length is checked
// before anything is allocated (a hostile file cannot ask for terabytes), and tensors whose data
// lives in an external file are refused: an ONNX file never makes us open another path.
#ifndef NEMESYST_KERNELS_ONNX_ONNX_TENSOR_H_
#define NEMESYST_KERNELS_ONNX_ONNX_TENSOR_H_

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nemesyst/status.h"

namespace nemesyst::kernels::onnx {

// The most elements one tensor may hold (2^28 floats = 1 GiB, the model parameter limit).
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 28;

struct Tensor {
  std::vector<int64_t> dims;
  std::vector<float> floats;  // FLOAT tensors (and DOUBLE, converted)
  std::vector<int64_t> ints;  // INT64 / INT32 tensors
  bool is_float = false;

  int64_t size() const { return is_float ? int64_t(floats.size()) : int64_t(ints.size()); }
  std::string DimsText() const;  // "[1, 32, 4]"
};

// Reads `proto`; `what` names it in errors ("initializer 'W'").
Result<Tensor> ReadTensor(const ::onnx::TensorProto& proto, const std::string& what);

// The element count of `dims`, or an error when a dimension is negative or the product exceeds
// kMaxTensorElements.
Result<int64_t> ElementCount(const std::vector<int64_t>& dims, const std::string& what);

// Writes a float tensor (raw little-endian data) into `proto`.
void WriteFloatTensor(const std::string& name, const std::vector<int64_t>& dims,
                      const float* values, ::onnx::TensorProto* proto);
void WriteInt64Tensor(const std::string& name, const std::vector<int64_t>& dims,
                      const std::vector<int64_t>& values, ::onnx::TensorProto* proto);

}  // namespace nemesyst::kernels::onnx

#endif  // NEMESYST_KERNELS_ONNX_ONNX_TENSOR_H_
