#include "kernels/memory_estimate.h"

#include <algorithm>
#include <cstdio>

namespace nemesyst::kernels {
namespace {

constexpr uint64_t kFloat = sizeof(float);

// Floats one time step of a recurrent stack keeps per sequence while training: each layer's gate
// pre-activations (G·H), h, c and the dropout mask (3·H), for backpropagation through time.
uint64_t RecurrentTapePerStep(CellKind cell, const std::vector<int>& hidden) {
  const uint64_t gates = static_cast<uint64_t>(BiasRows(cell));
  uint64_t floats = 0;
  for (int h : hidden) floats += (gates + 3) * static_cast<uint64_t>(h);
  return floats;
}

// The same while running: the gates and the states of the step being computed.
uint64_t RecurrentWorkPerStep(CellKind cell, const std::vector<int>& hidden) {
  const uint64_t gates = static_cast<uint64_t>(BiasRows(cell));
  uint64_t floats = 0;
  for (int h : hidden) floats = std::max<uint64_t>(floats, (gates + 2) * static_cast<uint64_t>(h));
  return floats;
}

uint64_t DenseTape(const std::vector<int>& widths, int output) {
  uint64_t floats = static_cast<uint64_t>(output);
  for (int w : widths) floats += 2 * static_cast<uint64_t>(w);  // pre- and post-activation
  return floats;
}

uint64_t GanBlockTape(const GanBlockSpec& b, uint64_t steps, int output_per_step) {
  if (b.type == BlockType::kDense)
    return DenseTape(b.hidden, output_per_step) + DenseTape(b.head, 0);
  return steps *
         (RecurrentTapePerStep(CellOf(b.type), b.hidden) + DenseTape(b.head, output_per_step));
}

}  // namespace

MemoryEstimate EstimateMemory(const ModelSpec& spec, int batch, int steps, bool adam) {
  MemoryEstimate e;
  e.parameters = ParameterCount(spec);
  const uint64_t weights = e.parameters * kFloat;
  const uint64_t b = static_cast<uint64_t>(std::max(batch, 1));
  uint64_t tape = 0, work = 0, io = 0;
  if (spec.kind == ModelKind::kRegressor) {
    const RegressorSpec& r = spec.regressor;
    const uint64_t t = static_cast<uint64_t>(std::max(steps > 0 ? steps : r.steps, 1));
    const uint64_t top = static_cast<uint64_t>(r.hidden.back());
    tape = b * t * (RecurrentTapePerStep(r.cell, r.hidden) + 2 * top) +
           b * (r.per_step ? t : 1) * DenseTape(r.head_hidden, r.output_width);
    work = b * (t * top + RecurrentWorkPerStep(r.cell, r.hidden)) +
           b * DenseTape(r.head_hidden, r.output_width);
    io = b * t * (static_cast<uint64_t>(r.features) + r.output_width);
  } else {
    const GanSpec& g = spec.gan;
    const uint64_t t = static_cast<uint64_t>(g.steps);
    const uint64_t window = t * g.features;
    // A generator step and a discriminator step on real and generated windows.
    tape = b * (GanBlockTape(g.generator, t, g.features) + 2 * GanBlockTape(g.discriminator, t, 1) +
                4 * window);
    work = b * (GanBlockTape(g.generator, t, g.features) + window);
    io = b * (window + t * (g.noise + g.condition));
  }
  // Training keeps the weights, their gradients, the optimiser's moments, the kernels' packed
  // copy of the weights and the best weights so far (early stopping), then the tape of one
  // batch, its gradients of the same size, and the batch itself (double-buffered).
  const uint64_t moments = adam ? 2 : 1;
  e.training_bytes = weights * (4 + moments) + 2 * tape * kFloat + 2 * io * kFloat;
  // Running keeps the weights and their packed copy, one batch's working buffers and its input.
  e.inference_bytes = weights * 2 + work * kFloat + io * kFloat;
  return e;
}

}  // namespace nemesyst::kernels
