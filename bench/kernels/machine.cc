#include "bench/kernels/machine.h"

#include <benchmark/benchmark.h>
#include <immintrin.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "kernels/cpu_features.h"

namespace nemesyst::bench {
namespace {

// FTZ/DAZ for every thread: set before main, so threads created later (the avx2 pool, oneDNN's
// OpenMP team) inherit it.
const bool kFtzDaz = [] {
  _mm_setcsr(_mm_getcsr() | 0x8040);
  return true;
}();

// Per-thread CPU time: on a shared machine it leaves out time given to other processes, as the
// kernel figures do (lstm_bench.cc).
struct Clock {
  using duration = std::chrono::duration<double>;
  static std::chrono::time_point<Clock, duration> now() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::time_point<Clock, duration>(duration(ts.tv_sec + ts.tv_nsec * 1e-9));
  }
};

__attribute__((target("avx2,fma"))) double FmaLoop(long iterations) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(0.001f * i);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}

// The same loop on zmm: 24 independent chains (of 32 registers) cover the FMA latency on one or
// two 512-bit FMA units. GCC 12's avx512fintrin.h trips -Wuninitialized (bug 105593) when inlined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
__attribute__((target("avx512f,fma"))) double FmaLoop512(long iterations) {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i) acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 24; ++i) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// Best GFLOP/s of `loop` (flops_per_iteration each) over short runs for about `seconds`: on a
// shared machine interference only ever lowers a run's rate.
double BestFmaRate(double (*loop)(long), double flops_per_iteration, double seconds) {
  long iterations = 1 << 16;
  double best = 0;
  const auto start = Clock::now();
  do {
    const auto t0 = Clock::now();
    benchmark::DoNotOptimize(loop(iterations));
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    best = std::max(best, iterations * flops_per_iteration / dt * 1e-9);
    if (dt < 0.002) iterations *= 2;
  } while (std::chrono::duration<double>(Clock::now() - start).count() < seconds);
  return best;
}

__attribute__((target("avx2,fma"))) float ReadPass(const float* p, size_t n) {
  __m256 acc[8];
  for (auto& a : acc) a = _mm256_setzero_ps();
  for (size_t i = 0; i + 64 <= n; i += 64) {
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) acc[j] = _mm256_add_ps(acc[j], _mm256_load_ps(p + i + 8 * j));
  }
  for (int j = 1; j < 8; ++j) acc[0] = _mm256_add_ps(acc[0], acc[j]);
  float out[8];
  _mm256_storeu_ps(out, acc[0]);
  return out[0];
}

size_t CacheBytes(int name, size_t fallback) {
  const long v = sysconf(name);
  return v > 0 ? static_cast<size_t>(v) : fallback;
}

}  // namespace

double MeasurePeakFma(double seconds) { return BestFmaRate(FmaLoop, 12.0 * 16.0, seconds); }

double MeasurePeakFmaAvx512(double seconds) {
  if (!kernels::CpuSupportsAvx512Backend(false)) return 0;
  return BestFmaRate(FmaLoop512, 24.0 * 32.0, seconds);
}

double TwoCoreFmaScaling(double seconds) {
  const bool zmm = kernels::CpuSupportsAvx512Backend(false);
  double (*loop)(long) = zmm ? FmaLoop512 : FmaLoop;
  const double flops_per_iteration = zmm ? 24.0 * 32.0 : 12.0 * 16.0;
  const double peak = zmm ? Limits().peak_avx512_gflops : Limits().peak_gflops;
  const long iterations =
      std::max(1L, static_cast<long>(peak * 1e9 * seconds / flops_per_iteration));
  using Wall = std::chrono::steady_clock;
  auto t0 = Wall::now();
  benchmark::DoNotOptimize(loop(iterations));
  const double one = std::chrono::duration<double>(Wall::now() - t0).count();
  double other_result = 0;
  t0 = Wall::now();
  std::thread other([&] { other_result = loop(iterations); });
  benchmark::DoNotOptimize(loop(iterations));
  other.join();
  const double two = std::chrono::duration<double>(Wall::now() - t0).count();
  benchmark::DoNotOptimize(other_result);
  return 2 * one / two;
}

double MeasureReadBandwidth(size_t bytes, double seconds) {
  const size_t n = bytes / sizeof(float) / 64 * 64;
  float* p = static_cast<float*>(std::aligned_alloc(64, n * sizeof(float)));
  for (size_t i = 0; i < n; ++i) p[i] = 1.0f;
  benchmark::DoNotOptimize(ReadPass(p, n));  // warm
  double best = 0;
  const auto start = Clock::now();
  do {
    const int reps = bytes < (1u << 20) ? 256 : bytes < (64u << 20) ? 8 : 1;
    const auto t0 = Clock::now();
    for (int r = 0; r < reps; ++r) benchmark::DoNotOptimize(ReadPass(p, n));
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    best = std::max(best, reps * n * sizeof(float) / dt * 1e-9);
  } while (std::chrono::duration<double>(Clock::now() - start).count() < seconds);
  std::free(p);
  return best;
}

const MachineLimits& Limits() {
  static const MachineLimits limits = [] {
    (void)kFtzDaz;
    MachineLimits m;
    m.l1_bytes = CacheBytes(_SC_LEVEL1_DCACHE_SIZE, 32 << 10);
    m.l2_bytes = CacheBytes(_SC_LEVEL2_CACHE_SIZE, 1 << 20);
    m.l3_bytes = CacheBytes(_SC_LEVEL3_CACHE_SIZE, 16 << 20);
    m.peak_gflops = MeasurePeakFma(0.2);
    m.peak_avx512_gflops = MeasurePeakFmaAvx512(0.2);
    m.l1_gbps = MeasureReadBandwidth(m.l1_bytes / 2, 0.05);
    m.l2_gbps = MeasureReadBandwidth(m.l2_bytes / 2, 0.05);
    m.l3_gbps = MeasureReadBandwidth(std::min<size_t>(m.l3_bytes / 4, 16 << 20), 0.05);
    m.mem_gbps = MeasureReadBandwidth(std::max<size_t>(m.l3_bytes * 3, 128 << 20), 0.1);
    return m;
  }();
  return limits;
}

double BandwidthFor(size_t bytes) {
  const MachineLimits& m = Limits();
  if (bytes <= m.l1_bytes) return m.l1_gbps;
  if (bytes <= m.l2_bytes) return m.l2_gbps;
  if (bytes <= m.l3_bytes) return m.l3_gbps;
  return m.mem_gbps;
}

namespace {

void BM_PeakFma(benchmark::State& state) {
  double gflops = 0;
  for (auto _ : state) gflops = MeasurePeakFma(0.02);
  state.counters["GFLOPS"] = gflops;
  state.counters["GFLOPS_first_probe"] = Limits().peak_gflops;
}
BENCHMARK(BM_PeakFma)->Name("peak_fma")->Iterations(5);

// The AVX-512 peak the avx512 cases' peak512_frac refers to (skipped without AVX-512).
void BM_PeakFmaAvx512(benchmark::State& state) {
  if (!kernels::CpuSupportsAvx512Backend(false)) {
    return state.SkipWithError("this CPU (or OS) cannot run AVX-512");
  }
  double gflops = 0;
  for (auto _ : state) gflops = MeasurePeakFmaAvx512(0.02);
  state.counters["GFLOPS"] = gflops;
  state.counters["GFLOPS_first_probe"] = Limits().peak_avx512_gflops;
}
BENCHMARK(BM_PeakFmaAvx512)->Name("peak_fma_avx512")->Iterations(5);

// The two-core ceiling of every threads:2 case (TwoCoreFmaScaling), 15 pairs of ~20 ms; the
// counter is their median.
void BM_TwoCoreFmaScaling(benchmark::State& state) {
  std::vector<double> scaling;
  for (auto _ : state) scaling.push_back(TwoCoreFmaScaling(0.02));
  std::sort(scaling.begin(), scaling.end());
  state.counters["scaling"] = scaling.empty() ? 0.0 : scaling[scaling.size() / 2];
}
BENCHMARK(BM_TwoCoreFmaScaling)->Name("two_core_fma/threads:2")->Iterations(15)->UseRealTime();

void BM_ReadBw(benchmark::State& state, int level) {
  const MachineLimits& m = Limits();
  const size_t bytes = level == 1   ? m.l1_bytes / 2
                       : level == 2 ? m.l2_bytes / 2
                       : level == 3 ? std::min<size_t>(m.l3_bytes / 4, 16 << 20)
                                    : std::max<size_t>(m.l3_bytes * 3, 128 << 20);
  double gbps = 0;
  for (auto _ : state) gbps = MeasureReadBandwidth(bytes, 0.02);
  state.counters["GBps"] = gbps;
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK_CAPTURE(BM_ReadBw, l1, 1)->Name("read_bw/L1")->Iterations(3);
BENCHMARK_CAPTURE(BM_ReadBw, l2, 2)->Name("read_bw/L2")->Iterations(3);
BENCHMARK_CAPTURE(BM_ReadBw, l3, 3)->Name("read_bw/L3")->Iterations(3);
BENCHMARK_CAPTURE(BM_ReadBw, memory, 4)->Name("read_bw/memory")->Iterations(2);

}  // namespace
}  // namespace nemesyst::bench
