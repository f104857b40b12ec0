// The library boundary of the ONNX code: protobuf and the standard library may throw (an
// allocation), and no exception may leave the library, so ImportOnnx and ExportOnnx run their
// bodies through GuardOnnx, which turns a throw into a Status naming `what`.
#ifndef NEMESYST_KERNELS_ONNX_ONNX_GUARD_H_
#define NEMESYST_KERNELS_ONNX_ONNX_GUARD_H_

#include <exception>
#include <new>
#include <string>

#include "nemesyst/status.h"

namespace nemesyst::kernels::onnx {

template <typename Fn>
auto GuardOnnx(const char* what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted(std::string(what) + ": out of memory");
  } catch (const std::exception& e) {
    return Status::Internal(std::string(what) + ": " + e.what());
  }
}

}  // namespace nemesyst::kernels::onnx

#endif  // NEMESYST_KERNELS_ONNX_ONNX_GUARD_H_
