// Latencies of the serving path (request round trips, reading → prediction published), kept as the
// most recent samples so `node status` reports current p50/p99, not an average since start.
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

namespace nemesyst::nodes {

struct LatencySummary {
  uint64_t count = 0;                         // samples since start
  double p50_us = 0, p99_us = 0, max_us = 0;  // over the most recent samples
};

class LatencyRecorder {
 public:
  static constexpr size_t kWindow = 4096;

  void Record(double micros) {
    std::lock_guard lock(mu_);
    samples_[count_ % kWindow] = micros;
    ++count_;
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
};

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_LATENCY_RECORDER_H_
