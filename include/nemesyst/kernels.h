// Kernel backends: which implementation runs the numerical operations.
#ifndef NEMESYST_KERNELS_H_
#define NEMESYST_KERNELS_H_

#include <string_view>

#include "nemesyst/export.h"
#include "nemesyst/status.h"

namespace nemesyst {

// Ordered most specialised first; `kRef` is the plain reference every other backend is tested
// against. `kAuto` lets the dispatcher pick the first one available on this CPU and build
// (avx512 → avx2 → onednn → ref). `kAvx512` is the hand-written kernels of `kAvx2` built for
// AVX-512 F/BW/DQ/VL (16 lanes, 32 registers); appended last so existing values keep theirs.
enum class Backend { kAuto, kAvx2, kOnednn, kRef, kAvx512 };

NEMESYST_EXPORT std::string_view BackendName(Backend backend);
// "auto" | "avx512" | "avx2" | "onednn" | "ref".
NEMESYST_EXPORT Result<Backend> ParseBackend(std::string_view name);

// Options every kernel takes.
struct KernelOptions {
  // Threads used inside one kernel call (work split over the batch, or for batch 1 over the
  // weight rows). 1 keeps results bit-reproducible run to run.
  int threads = 1;
  // Store recurrent weights as IEEE fp16 (converted with F16C / AVX-512, accumulated in fp32).
  // Halves the bytes read per step; results differ from fp32 by up to ~1e-3. Inference only.
  bool fp16_weights = false;
};

}  // namespace nemesyst

#endif  // NEMESYST_KERNELS_H_
