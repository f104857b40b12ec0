// Machine probes for the kernel benchmarks: this CPU's single-core AVX2 FMA peak and its read
// bandwidth from L1, L2, L3 and memory, measured in the same run as the kernels so every case
// can report the fraction of the physical limit it reaches. Also sets FTZ/DAZ for the process.
#ifndef NEMESYST_BENCH_KERNELS_MACHINE_H_
#define NEMESYST_BENCH_KERNELS_MACHINE_H_

#include <cstddef>

namespace nemesyst::bench {

struct MachineLimits {
  double peak_gflops = 0;  // one core, AVX2 FMA (2 × 8 lanes × 2 flops per FMA)
  // One core, AVX-512 FMA on zmm (16 lanes); 0 when this CPU or OS cannot run AVX-512.
  double peak_avx512_gflops = 0;
  double l1_gbps = 0, l2_gbps = 0, l3_gbps = 0, mem_gbps = 0;  // one core, reads
  size_t l1_bytes = 0, l2_bytes = 0, l3_bytes = 0;             // per-core L1/L2, shared L3
};

// Measured once (about 0.5 s) on first use; each figure is the best of short runs (interference
// from other processes only lowers a run), and every fraction the cases report is relative to it.
const MachineLimits& Limits();

// Peak GFLOP/s of an FMA loop run for about `seconds`: AVX2 (ymm), or AVX-512 (zmm; 0 when the
// avx512 backend cannot run here).
double MeasurePeakFma(double seconds);
double MeasurePeakFmaAvx512(double seconds);
// What two cores deliver together right now: the FMA loop (zmm where the avx512 backend runs,
// else ymm) with the same work per thread, about `seconds` long, run on one thread and right
// after on two at once, each timed on the wall clock until all are done; returns 2 × t1 / t2.
// 2.0 on dedicated cores; less where the vCPUs share physical cores with other tenants.
double TwoCoreFmaScaling(double seconds);
// Read bandwidth in GB/s over a buffer of `bytes`, for about `seconds`.
double MeasureReadBandwidth(size_t bytes, double seconds);

// Bandwidth of the level a working set of `bytes` (per core) lives in.
double BandwidthFor(size_t bytes);

}  // namespace nemesyst::bench

#endif  // NEMESYST_BENCH_KERNELS_MACHINE_H_
