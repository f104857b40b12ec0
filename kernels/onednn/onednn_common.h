// Shared pieces of the oneDNN 2.6 backend: the process-wide CPU engine, the thread-count knob
// (Debian's oneDNN uses OpenMP), and turning oneDNN exceptions into Status values — no exception
// leaves this folder.
#ifndef NEMESYST_KERNELS_ONEDNN_ONEDNN_COMMON_H_
#define NEMESYST_KERNELS_ONEDNN_ONEDNN_COMMON_H_

#include <oneapi/dnnl/dnnl.hpp>

#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "nemesyst/status.h"

extern "C" void omp_set_num_threads(int);  // libgomp, which libdnnl is built on

namespace nemesyst::kernels::onednn {

// One engine for the process (engines are thread-safe and costly to create).
inline const dnnl::engine& CpuEngine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// oneDNN parallelises with OpenMP; this caps the calling thread's team at `threads`.
inline void UseThreads(int threads) {
#if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
  omp_set_num_threads(threads);
#else
  (void)threads;
#endif
}

// Runs `fn` (which returns Status), turning oneDNN / allocation exceptions into errors.
template <typename Fn>
Status Guard(std::string_view what, Fn&& fn) {
  try {
    return fn();
  } catch (const dnnl::error& e) {
    return Status::Internal(std::string("onednn ") + std::string(what) + ": " + e.what() +
                            " (status " + std::to_string(static_cast<int>(e.status)) + ")");
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted(std::string("onednn ") + std::string(what) +
                                     ": out of memory");
  } catch (const std::exception& e) {
    return Status::Internal(std::string("onednn ") + std::string(what) + ": " + e.what());
  }
}

}  // namespace nemesyst::kernels::onednn

#endif  // NEMESYST_KERNELS_ONEDNN_ONEDNN_COMMON_H_
