// Latencies of the serving path (request round trips, reading → prediction published), kept two
// ways: the most recent samples, so `node status` reports current p50/p99 rather than an average
// since start; and a cumulative histogram since start (Prometheus's form, for /metrics).
//
// Thread-safety: Record and Summarise may be called from any thread (one mutex; Record is a few
// stores, Summarise sorts at most kWindow samples and runs at status rate).
#ifndef NEMESYST_NODES_LATENCY_RECORDER_H_
#define NEMESYST_NODES_LATENCY_RECORDER_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <mutex>
#include <vector>

#include "nemesyst/node.h"

namespace nemesyst::nodes {

struct LatencySummary {
  uint64_t count = 0;                         // samples since start
  double p50_us = 0, p99_us = 0, max_us = 0;  // over the most recent samples
};

class LatencyRecorder {
 public:
  static constexpr size_t kWindow = 4096;

  // Histogram bounds: 10 µs .. 10 s, 1-2-5 steps.
  static constexpr std::array<double, 19> kBoundsUs = {
      10,    20,    50,     100,    200,    500,     1000,    2000,    5000,    10000,
      20000, 50000, 100000, 200000, 500000, 1000000, 2000000, 5000000, 10000000};

  void Record(double micros) {
    std::lock_guard lock(mu_);
    samples_[count_ % kWindow] = micros;
    ++count_;
    sum_us_ += micros;
    const auto bucket = std::lower_bound(kBoundsUs.begin(), kBoundsUs.end(), micros);
    if (bucket != kBoundsUs.end()) ++buckets_[static_cast<size_t>(bucket - kBoundsUs.begin())];
  }

  LatencyHistogram Histogram() const {
    LatencyHistogram h;
    std::lock_guard lock(mu_);
    h.bounds_us.assign(kBoundsUs.begin(), kBoundsUs.end());
    uint64_t running = 0;
    for (uint64_t b : buckets_) h.counts.push_back(running += b);
    h.count = count_;
    h.sum_us = sum_us_;
    return h;
  }

  LatencySummary Summarise() const {
    std::vector<double> v;
    LatencySummary s;
    {
      std::lock_guard lock(mu_);
      s.count = count_;
      v.assign(samples_.begin(), samples_.begin() + std::min<uint64_t>(count_, kWindow));
    }
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    auto at = [&](double q) {
      return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
    };
    s.p50_us = at(0.5);
    s.p99_us = at(0.99);
    s.max_us = v.back();
    return s;
  }

 private:
  mutable std::mutex mu_;
  std::array<double, kWindow> samples_{};
  uint64_t count_ = 0;
  double sum_us_ = 0;
  std::array<uint64_t, kBoundsUs.size()> buckets_{};  // not cumulative: samples in (prev, bound]
};

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_LATENCY_RECORDER_H_
