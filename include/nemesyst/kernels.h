// Kernel backends: which implementation runs the numerical operations.
#ifndef NEMESYST_KERNELS_H_
#define NEMESYST_KERNELS_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// Caps the instruction sets the hand-written kernels may use in this process: "avx512" (the
// default: no cap), "avx2" (never AVX-512, e.g. to avoid its frequency drop on some CPUs, or to
// compare backends), "none" (neither: only onednn and ref). The avx512/avx2 backends then answer
// Unimplemented as on a CPU without those instructions. oneDNN has its own cap (its
// ONEDNN_MAX_CPU_ISA environment variable). Set it before creating models (config key
// kernels.max_isa); kernels already created keep running. Thread-safe.
NEMESYST_EXPORT Status SetKernelIsaLimit(std::string_view max_isa);

// What this CPU offers the kernels, detected once at run time.
struct CpuInfo {
  std::string vendor;  // "GenuineIntel", "AuthenticAMD", ... (empty if unknown)
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;
  bool os_zmm = false;  // the OS saves the AVX-512 register state
};
NEMESYST_EXPORT CpuInfo DetectCpu();

// For `nemesyst kernels info`: per operation ("lstm", "rnn", "lstm_fp16_weights", "dense"), the
// backend the dispatcher picks for `configured` with `options`, and for every concrete backend
// whether it can run here (OK) or why not.
struct KernelChoice {
  std::string operation;
  Status chosen_status;  // why nothing could be chosen, when not OK
  Backend chosen = Backend::kRef;
  std::vector<std::pair<Backend, Status>> backends;  // avx512, avx2, onednn, ref
};
NEMESYST_EXPORT std::vector<KernelChoice> DescribeKernelChoices(Backend configured,
                                                                const KernelOptions& options);

}  // namespace nemesyst

#endif  // NEMESYST_KERNELS_H_
