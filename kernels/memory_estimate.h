// How much memory training or running a model needs, estimated from its spec before anything is
// allocated, so a small spec that asks for gigabytes (one LSTM layer of hidden 8000: 256 M
// weights, ~6 GB to train) is refused with the estimate instead of growing until the machine
// swaps. It counts every buffer the trainer and the kernels keep; measured against peak RSS of
// `nemesyst train` (one LSTM layer, 7 features, 24 steps, batch 32, 2-vCPU Ice Lake, 2026-12-05):
// hidden 1500 estimated 383 MB vs 388 MB peak, hidden 3000 1.20 GB vs 1.22 GB — the rest is the
// process itself (libraries, the store, the validation windows).
#ifndef NEMESYST_KERNELS_MEMORY_ESTIMATE_H_
#define NEMESYST_KERNELS_MEMORY_ESTIMATE_H_

#include <cstdint>

#include "kernels/model_spec.h"
#include "nemesyst/model.h"

namespace nemesyst::kernels {

// `steps`: the window length (0 = the spec's; a regressor with any length then counts 1 step);
// `batch` >= 1; `adam`: two optimiser moments per weight (SGD keeps one).
MemoryEstimate EstimateMemory(const ModelSpec& spec, int batch, int steps, bool adam);

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_MEMORY_ESTIMATE_H_
