// LSTM kernel benchmarks: lstm_infer, lstm_train (forward + BPTT + Adam), lstm_stream (one tick of
// D devices) and cold_start, for the avx2, avx512 and onednn backends, named as issue 4 asks:
//   lstm_infer/<backend>/batch:B/hidden:H/seq:T/input:I/layers:L[/fp16][/threads:N]
// and a compact GRU set on the same jobs, prefixed with the cell's name (CellName: gru for
// kGru, gru_classic for kGruClassic): gru_infer, gru_train, gru_classic_infer, gru_classic_train
// (batch {1, 64}, hidden {64, 128}, one layer) and gru_stream (kGru, 1000 devices, hidden 64).
// Every case reports GFLOPS and its fraction of this run's peak_fma / read_bw (limit_frac), and
// on AVX-512 CPUs of peak_fma_avx512 (peak512_frac). avx512 cases are skipped (with the reason)
// where the CPU or OS cannot run them.
#include <benchmark/benchmark.h>

#include <time.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "bench/kernels/lstm_jobs.h"

namespace nemesyst::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The figures' clock. One thread: this thread's CPU time, which on a shared machine (the 2-core
// development box runs other builds) excludes time the scheduler gave to other processes; the
// kernel runs entirely on this thread (avx2 runs inline at threads = 1, oneDNN's OpenMP team is
// 1). Several threads: wall time, as the other threads' work is not on this thread's clock.
class FigureClock {
 public:
  explicit FigureClock(int threads) : wall_(threads > 1) { start_ = Now(); }
  double Seconds() const { return Now() - start_; }

 private:
  double Now() const {
    timespec ts;
    clock_gettime(wall_ ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
  }
  bool wall_;
  double start_;
};

std::string ShapeName(const LstmShape& s) {
  return "batch:" + std::to_string(s.batch) + "/hidden:" + std::to_string(s.hidden) +
         "/seq:" + std::to_string(s.seq) + "/input:" + std::to_string(s.input) +
         "/layers:" + std::to_string(s.layers);
}

std::string Suffix(const KernelOptions& o) {
  std::string s;
  if (o.fp16_weights) s += "/fp16";
  if (o.threads > 1) s += "/threads:" + std::to_string(o.threads);
  return s;
}

void LstmInfer(benchmark::State& state, Backend backend, LstmShape s, KernelOptions o) {
  auto job = MakeJob<InferJob>(backend, s, o);
  if (!job.ok()) return state.SkipWithError(job.status().ToString().c_str());
  for (int warm = 0; warm < 3; ++warm) {  // first-use costs (JIT, OpenMP) stay out of the timing
    if (Status st = (*job)->Run(); !st.ok()) return state.SkipWithError(st.ToString().c_str());
  }
  const FigureClock clock(o.threads);
  for (auto _ : state) {
    benchmark::DoNotOptimize((*job)->Run());
    benchmark::ClobberMemory();
  }
  const double secs = clock.Seconds();
  ReportFractions(state, secs, ForwardFlops(s), WeightBytes(s, o.fp16_weights), s.seq, o.threads);
}

// One training step (TrainJob: forward, BPTT, Adam, SetWeights).
void LstmTrain(benchmark::State& state, Backend backend, LstmShape s, KernelOptions o) {
  auto job = MakeJob<TrainJob>(backend, s, o);
  if (!job.ok()) return state.SkipWithError(job.status().ToString().c_str());
  if (Status st = (*job)->Run(); !st.ok()) return state.SkipWithError(st.ToString().c_str());
  const FigureClock clock(o.threads);
  for (auto _ : state) benchmark::DoNotOptimize((*job)->Run());
  const double secs = clock.Seconds();
  // BPTT costs two forward-sized products (dG·W for dx/dh, dGᵀ·[x|h] for dW).
  ReportFractions(state, secs, 3 * ForwardFlops(s), WeightBytes(s, false), 2.0 * s.seq, o.threads);
}

// One tick (StreamJob): one new reading for each of D devices through every layer (Step,
// batch = D).
void LstmStream(benchmark::State& state, Backend backend, LstmShape s, KernelOptions o) {
  auto job = MakeJob<StreamJob>(backend, s, o);
  if (!job.ok()) return state.SkipWithError(job.status().ToString().c_str());
  if (Status st = (*job)->Run(); !st.ok()) return state.SkipWithError(st.ToString().c_str());
  const FigureClock clock(o.threads);
  for (auto _ : state) benchmark::DoNotOptimize((*job)->Run());
  const double secs = clock.Seconds();
  state.counters["devices_per_s"] = s.batch * state.iterations() / secs;
  ReportFractions(state, secs, ForwardFlops(s), WeightBytes(s, o.fp16_weights), 1, o.threads);
}

// Cold start: create the kernel, pack the weights (SetWeights), run the first inference (one
// step for one device); the weights already exist in memory (as after loading a model file).
// oneDNN's process-wide primitive cache makes its later iterations warmer than the first; the
// first iteration alone is reported as first_us.
void ColdStart(benchmark::State& state, Backend backend, LstmShape s, KernelOptions o) {
  const kernels::RecurrentShape shape{s.cell, s.input, s.hidden};
  const size_t gh = GateRows(s.cell, s.hidden);
  const auto w_ih = Random(gh * s.input, 2), w_hh = Random(gh * s.hidden, 3),
             b = Random(size_t(kernels::BiasRows(s.cell)) * s.hidden, 4);
  const auto x = Random(size_t(s.seq) * s.input, 1);
  std::vector<float> y(size_t(s.seq) * s.hidden);
  double first_us = -1;
  const FigureClock clock(o.threads);
  for (auto _ : state) {
    const auto t0 = Clock::now();
    auto k = backend == Backend::kAvx2     ? kernels::CreateAvx2RecurrentKernel(shape, o)
             : backend == Backend::kAvx512 ? kernels::CreateAvx512RecurrentKernel(shape, o)
                                           : kernels::CreateOnednnRecurrentKernel(shape, o);
    if (!k.ok()) return state.SkipWithError(k.status().ToString().c_str());
    Status st = (*k)->SetWeights({w_ih.data(), w_hh.data(), b.data()});
    if (st.ok())
      st = (*k)->Forward(s.seq, 1, x.data(), nullptr, nullptr, y.data(), nullptr, nullptr);
    if (!st.ok()) return state.SkipWithError(st.ToString().c_str());
    benchmark::DoNotOptimize(y.data());
    if (first_us < 0) {
      first_us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
    }
  }
  state.counters["first_us"] = first_us;
  state.counters["cpu_us_per_start"] = clock.Seconds() / state.iterations() * 1e6;
}

void Register() {
  const Backend backends[] = {Backend::kAvx2, Backend::kAvx512, Backend::kOnednn};
  const KernelOptions one{};
  auto add = [](const std::string& name, auto fn, Backend b, LstmShape s, KernelOptions o,
                double min_time) {
    benchmark::RegisterBenchmark(name.c_str(), fn, b, s, o)
        ->MinTime(min_time)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  };
  for (int layers : {1, 2}) {
    for (int batch : {1, 8, 64, 256}) {
      for (int hidden : {32, 64, 128, 256}) {
        const LstmShape s{batch, hidden, 64, 8, layers};
        for (Backend b : backends) {
          add("lstm_infer/" + BackendLabel(b) + "/" + ShapeName(s), LstmInfer, b, s, one, 0.05);
          add("lstm_train/" + BackendLabel(b) + "/" + ShapeName(s), LstmTrain, b, s, one, 0.05);
        }
        // The batch-1 latency options (fp16 weights; two threads splitting the weights) and the
        // two-thread batch split at batch >= 64.
        if (layers == 1 && batch == 1 && hidden >= 64) {
          for (Backend b : {Backend::kAvx2, Backend::kAvx512}) {
            for (KernelOptions o :
                 {KernelOptions{1, true}, KernelOptions{2, false}, KernelOptions{2, true}}) {
              add("lstm_infer/" + BackendLabel(b) + "/" + ShapeName(s) + Suffix(o), LstmInfer, b, s,
                  o, 0.05);
            }
          }
        }
        if (layers == 1 && batch >= 64 && hidden >= 128) {
          for (Backend b : backends) {
            add("lstm_infer/" + BackendLabel(b) + "/" + ShapeName(s) + "/threads:2", LstmInfer, b,
                s, KernelOptions{2, false}, 0.05);
          }
        }
      }
    }
  }
  for (Backend b : backends) {
    const LstmShape s{64, 128, 64, 8, 1};
    add("lstm_train/" + BackendLabel(b) + "/" + ShapeName(s) + "/threads:2", LstmTrain, b, s,
        KernelOptions{2, false}, 0.05);
  }
  for (int devices : {100, 1000}) {
    for (int hidden : {32, 64, 128, 256}) {
      for (int layers : {1, 2}) {
        const LstmShape s{devices, hidden, 1, 8, layers};
        const std::string shape = "devices:" + std::to_string(devices) +
                                  "/hidden:" + std::to_string(hidden) +
                                  "/layers:" + std::to_string(layers);
        for (Backend b : backends) {
          add("lstm_stream/" + BackendLabel(b) + "/" + shape, LstmStream, b, s, one, 0.05);
        }
        if (devices == 1000 && hidden == 64 && layers == 2) {
          for (Backend b : backends) {
            add("lstm_stream/" + BackendLabel(b) + "/" + shape + "/threads:2", LstmStream, b, s,
                KernelOptions{2, false}, 0.05);
          }
        }
      }
    }
  }
  for (int hidden : {32, 64, 128, 256}) {
    const LstmShape s{1, hidden, 1, 8, 1};
    for (Backend b : backends) {
      add("cold_start/" + BackendLabel(b) + "/" + ShapeName(s), ColdStart, b, s, one, 0.05);
    }
  }
  // GRU (both cells), a compact set beside the LSTM grid: the same jobs and shapes (seq 64, input
  // 8, one layer), named <cell>_infer / <cell>_train / <cell>_stream with cell = CellName.
  for (kernels::CellKind cell : {kernels::CellKind::kGru, kernels::CellKind::kGruClassic}) {
    const std::string name = kernels::CellName(cell);
    for (int batch : {1, 64}) {
      for (int hidden : {64, 128}) {
        const LstmShape s{batch, hidden, 64, 8, 1, cell};
        for (Backend b : backends) {
          add(name + "_infer/" + BackendLabel(b) + "/" + ShapeName(s), LstmInfer, b, s, one, 0.05);
          add(name + "_train/" + BackendLabel(b) + "/" + ShapeName(s), LstmTrain, b, s, one, 0.05);
        }
      }
    }
  }
  for (Backend b : backends) {
    const LstmShape s{1000, 64, 1, 8, 1, kernels::CellKind::kGru};
    add("gru_stream/" + BackendLabel(b) + "/devices:1000/hidden:64/layers:1", LstmStream, b, s, one,
        0.05);
  }
}

const bool kRegistered = (Register(), true);

}  // namespace
}  // namespace nemesyst::bench
