#include "kernels/onnx/onnx_tensor.h"

#include <cstring>

namespace nemesyst::kernels::onnx {

std::string Tensor::DimsText() const {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

Result<int64_t> ElementCount(const std::vector<int64_t>& dims, const std::string& what) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return Status::InvalidArgument(what + ": negative dimension " + std::to_string(d));
    if (d != 0 && n > kMaxTensorElements / d) {
      return Status::InvalidArgument(what + ": more than 2^28 elements (dimensions too large)");
    }
    n *= d;
  }
  return n;
}

namespace {

template <typename T>
Status CopyRaw(const std::string& raw, int64_t count, const std::string& what,
               std::vector<T>* out) {
  if (raw.size() != static_cast<size_t>(count) * sizeof(T)) {
    return Status::InvalidArgument(what + ": raw_data holds " + std::to_string(raw.size()) +
                                   " bytes, its dimensions need " +
                                   std::to_string(static_cast<size_t>(count) * sizeof(T)));
  }
  out->resize(static_cast<size_t>(count));
  if (count > 0) std::memcpy(out->data(), raw.data(), raw.size());  // little-endian host
  return Status::OK();
}

Status CountMatches(int stored, int64_t count, const char* field, const std::string& what) {
  if (stored != count) {
    return Status::InvalidArgument(what + ": " + field + " holds " + std::to_string(stored) +
                                   " values, its dimensions need " + std::to_string(count));
  }
  return Status::OK();
}

}  // namespace

Result<Tensor> ReadTensor(const ::onnx::TensorProto& proto, const std::string& what) {
  if (proto.data_location() == ::onnx::TensorProto::EXTERNAL || proto.external_data_size() > 0) {
    return Status::InvalidArgument(what +
                                   ": data in an external file is not read (save the model with "
                                   "its weights inside the .onnx file)");
  }
  if (proto.has_segment()) return Status::InvalidArgument(what + ": segmented tensors are refused");
  Tensor t;
  t.dims.assign(proto.dims().begin(), proto.dims().end());
  NEMESYST_ASSIGN_OR_RETURN(const int64_t count, ElementCount(t.dims, what));
  const bool raw = proto.has_raw_data();
  switch (proto.data_type()) {
    case ::onnx::TensorProto::FLOAT:
      t.is_float = true;
      if (raw) {
        NEMESYST_RETURN_IF_ERROR(CopyRaw(proto.raw_data(), count, what, &t.floats));
        return t;
      }
      NEMESYST_RETURN_IF_ERROR(CountMatches(proto.float_data_size(), count, "float_data", what));
      t.floats.assign(proto.float_data().begin(), proto.float_data().end());
      return t;
    case ::onnx::TensorProto::DOUBLE: {
      t.is_float = true;
      std::vector<double> values;
      if (raw) {
        NEMESYST_RETURN_IF_ERROR(CopyRaw(proto.raw_data(), count, what, &values));
      } else {
        NEMESYST_RETURN_IF_ERROR(
            CountMatches(proto.double_data_size(), count, "double_data", what));
        values.assign(proto.double_data().begin(), proto.double_data().end());
      }
      t.floats.assign(values.begin(), values.end());
      return t;
    }
    case ::onnx::TensorProto::INT64:
      if (raw) {
        NEMESYST_RETURN_IF_ERROR(CopyRaw(proto.raw_data(), count, what, &t.ints));
        return t;
      }
      NEMESYST_RETURN_IF_ERROR(CountMatches(proto.int64_data_size(), count, "int64_data", what));
      t.ints.assign(proto.int64_data().begin(), proto.int64_data().end());
      return t;
    case ::onnx::TensorProto::INT32: {
      std::vector<int32_t> values;
      if (raw) {
        NEMESYST_RETURN_IF_ERROR(CopyRaw(proto.raw_data(), count, what, &values));
      } else {
        NEMESYST_RETURN_IF_ERROR(CountMatches(proto.int32_data_size(), count, "int32_data", what));
        values.assign(proto.int32_data().begin(), proto.int32_data().end());
      }
      t.ints.assign(values.begin(), values.end());
      return t;
    }
    default:
      return Status::InvalidArgument(what + ": element type " + std::to_string(proto.data_type()) +
                                     " is not read (float, double, int64 and int32 are)");
  }
}

void WriteFloatTensor(const std::string& name, const std::vector<int64_t>& dims,
                      const float* values, ::onnx::TensorProto* proto) {
  proto->set_name(name);
  proto->set_data_type(::onnx::TensorProto::FLOAT);
  size_t count = 1;
  for (int64_t d : dims) {
    proto->add_dims(d);
    count *= static_cast<size_t>(d);
  }
  proto->set_raw_data(reinterpret_cast<const char*>(values), count * sizeof(float));
}

void WriteInt64Tensor(const std::string& name, const std::vector<int64_t>& dims,
                      const std::vector<int64_t>& values, ::onnx::TensorProto* proto) {
  proto->set_name(name);
  proto->set_data_type(::onnx::TensorProto::INT64);
  for (int64_t d : dims) proto->add_dims(d);
  proto->set_raw_data(reinterpret_cast<const char*>(values.data()),
                      values.size() * sizeof(int64_t));
}

}  // namespace nemesyst::kernels::onnx
