// A stacked LSTM (or GRU: LstmShape::cell) built directly on the backend kernels for the
// benchmarks (no model layer in between, so the numbers are the kernels'), with the FLOP and
// weight-byte counts the cases report and the counters that turn a timing into fractions of this
// machine's limits.
#ifndef NEMESYST_BENCH_KERNELS_LSTM_STACK_H_
#define NEMESYST_BENCH_KERNELS_LSTM_STACK_H_

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/kernels/machine.h"
#include "kernels/dispatch.h"
#include "kernels/recurrent_kernel.h"

namespace nemesyst::bench {

struct LstmShape {
  int batch = 1, hidden = 32, seq = 64, input = 8, layers = 1;
  kernels::CellKind cell = kernels::CellKind::kLstm;  // the GRU cases set kGru / kGruClassic
};

// Gate rows × hidden: the rows of w_ih and w_hh (4H for LSTM, 3H for both GRUs).
inline size_t GateRows(kernels::CellKind cell, int hidden) {
  return size_t(kernels::GateCount(cell)) * hidden;
}

inline int LayerInput(const LstmShape& s, int layer) { return layer == 0 ? s.input : s.hidden; }

// Multiply-adds × 2 of one forward pass over the sequence (all layers): the recurrent products
// only, GateCount(cell) × H rows each.
inline double ForwardFlops(const LstmShape& s) {
  double f = 0;
  for (int l = 0; l < s.layers; ++l) {
    f += 2.0 * s.seq * s.batch * double(GateRows(s.cell, s.hidden)) * (LayerInput(s, l) + s.hidden);
  }
  return f;
}

// Recurrent weight bytes of all layers (what a batch-1 step streams from cache).
inline size_t WeightBytes(const LstmShape& s, bool fp16) {
  size_t n = 0;
  for (int l = 0; l < s.layers; ++l) {
    n += GateRows(s.cell, s.hidden) * (LayerInput(s, l) + s.hidden);
  }
  return n * (fp16 ? 2 : 4);
}

// From the benchmark's own timing of its loop (`seconds` over state.iterations()): GFLOPS,
// peak_frac (of peak_fma × threads: the AVX2 peak, for every backend, as issue 4 defines it),
// peak512_frac (of peak_fma_avx512 × threads, when this CPU runs AVX-512), bw_frac (weights
// streamed once per read, vs the read bandwidth of the cache level holding them, × threads) and
// limit_frac, the larger of the two — the fraction of the binding physical limit.
inline void ReportFractions(benchmark::State& state, double seconds, double flops_per_iter,
                            double weight_bytes, double weight_reads_per_iter, int threads) {
  const MachineLimits& m = Limits();
  const double iters = static_cast<double>(state.iterations());
  const double gflops = flops_per_iter * iters / seconds * 1e-9;
  const double gbps = weight_bytes * weight_reads_per_iter * iters / seconds * 1e-9;
  const double peak_frac = gflops / (m.peak_gflops * threads);
  const double bw_frac = gbps / (BandwidthFor(size_t(weight_bytes) / threads) * threads);
  state.counters["GFLOPS"] = gflops;
  state.counters["weights_GBps"] = gbps;
  state.counters["peak_frac"] = peak_frac;
  if (m.peak_avx512_gflops > 0) {
    state.counters["peak512_frac"] = gflops / (m.peak_avx512_gflops * threads);
  }
  state.counters["bw_frac"] = bw_frac;
  state.counters["limit_frac"] = std::max(peak_frac, bw_frac);
}

struct LstmStack {
  std::vector<std::unique_ptr<kernels::RecurrentKernel>> layers;
  std::vector<std::vector<float>> params;  // per layer: w_ih | w_hh | bias [BiasRows(cell)·H]
  std::vector<std::vector<float>> grads;

  static Result<LstmStack> Create(Backend backend, const LstmShape& s,
                                  const KernelOptions& options) {
    LstmStack stack;
    std::mt19937 rng(42);
    const float scale = 1.0f / std::sqrt(static_cast<float>(s.hidden));
    std::uniform_real_distribution<float> dist(-scale, scale);
    for (int l = 0; l < s.layers; ++l) {
      const kernels::RecurrentShape shape{s.cell, LayerInput(s, l), s.hidden};
      Result<std::unique_ptr<kernels::RecurrentKernel>> k =
          backend == Backend::kAvx2     ? kernels::CreateAvx2RecurrentKernel(shape, options)
          : backend == Backend::kAvx512 ? kernels::CreateAvx512RecurrentKernel(shape, options)
          : backend == Backend::kOnednn ? kernels::CreateOnednnRecurrentKernel(shape, options)
                                        : kernels::CreateRefRecurrentKernel(shape, options);
      if (!k.ok()) return k.status();
      const size_t gh = GateRows(s.cell, s.hidden);
      std::vector<float> p(gh * (shape.input + shape.hidden) +
                           size_t(kernels::BiasRows(s.cell)) * s.hidden);
      for (float& v : p) v = dist(rng);
      stack.layers.push_back(std::move(k.value()));
      stack.params.push_back(std::move(p));
      stack.grads.emplace_back(stack.params.back().size(), 0.0f);
      NEMESYST_RETURN_IF_ERROR(stack.SetWeights(l));
    }
    return stack;
  }

  Status SetWeights(int l) {
    const auto& sh = layers[l]->shape();
    const size_t gh = GateRows(sh.cell, sh.hidden);
    const float* p = params[l].data();
    return layers[l]->SetWeights({p, p + gh * sh.input, p + gh * (sh.input + sh.hidden)});
  }

  kernels::RecurrentGrads Grads(int l) {
    const auto& sh = layers[l]->shape();
    const size_t gh = GateRows(sh.cell, sh.hidden);
    float* g = grads[l].data();
    return {g, g + gh * sh.input, g + gh * (sh.input + sh.hidden)};
  }
};

inline std::string BackendLabel(Backend b) { return std::string(BackendName(b)); }

}  // namespace nemesyst::bench

#endif  // NEMESYST_BENCH_KERNELS_LSTM_STACK_H_
