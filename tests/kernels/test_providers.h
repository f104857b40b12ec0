// In-memory BatchProviders and synthetic data sets for the kernels tests.
#ifndef NEMESYST_TESTS_KERNELS_TEST_PROVIDERS_H_
#define NEMESYST_TESTS_KERNELS_TEST_PROVIDERS_H_

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/random.h"
#include "nemesyst/batch.h"

namespace nemesyst::testing {

// Serves fixed windows in order, `max_batch` at a time; Rewind starts over.
class VectorBatchProvider : public BatchProvider {
 public:
  VectorBatchProvider(int steps, int features, int label_width, std::vector<float> x,
                      std::vector<float> y)
      : steps_(steps),
        features_(features),
        label_width_(label_width),
        x_(std::move(x)),
        y_(std::move(y)) {
    count_ = static_cast<int>(x_.size() / (static_cast<size_t>(steps) * features));
  }
  Result<bool> Next(int max_batch, Batch* out) override {
    if (next_ >= count_) return false;
    const int n = std::min(max_batch, count_ - next_);
    out->Resize(n, steps_, features_, label_width_);
    const size_t wx = static_cast<size_t>(steps_) * features_;
    std::copy(x_.begin() + next_ * wx, x_.begin() + (next_ + n) * wx, out->x.begin());
    std::copy(y_.begin() + static_cast<size_t>(next_) * label_width_,
              y_.begin() + static_cast<size_t>(next_ + n) * label_width_, out->y.begin());
    for (int b = 0; b < n; ++b) {
      out->device[b] = "device-" + std::to_string(next_ + b);
      out->end_us[b] = 0;
    }
    next_ += n;
    return true;
  }
  Status Rewind() override {
    next_ = 0;
    return Status::OK();
  }
  int steps() const override { return steps_; }
  int features() const override { return features_; }
  int label_width() const override { return label_width_; }
  int count() const { return count_; }
  const std::vector<float>& x() const { return x_; }
  const std::vector<float>& y() const { return y_; }

 private:
  int steps_, features_, label_width_;
  std::vector<float> x_, y_;
  int count_ = 0;
  int next_ = 0;
};

// Windows of a noisy sine (random phase and frequency near `period` steps); the label is the
// clean next value. One feature. Values in about [-1.1, 1.1].
inline VectorBatchProvider NoisySineNextStep(int windows, int steps, double noise, uint64_t seed) {
  kernels::Rng rng(seed);
  std::vector<float> x, y;
  for (int w = 0; w < windows; ++w) {
    const double phase = rng.Uniform(0, 6.283185307179586);
    const double omega = 6.283185307179586 / rng.Uniform(10.0, 14.0);
    for (int t = 0; t < steps; ++t) {
      x.push_back(static_cast<float>(std::sin(phase + omega * t) + noise * rng.Normal()));
    }
    y.push_back(static_cast<float>(std::sin(phase + omega * steps)));
  }
  return VectorBatchProvider(steps, 1, 1, std::move(x), std::move(y));
}

// Sinusoid windows a·sin(ω t + φ) with a ~ U(0.5, 1.5), φ ~ U(0, 2π), fixed ω; unlabelled.
inline VectorBatchProvider Sinusoids(int windows, int steps, double period, uint64_t seed) {
  kernels::Rng rng(seed);
  std::vector<float> x;
  const double omega = 6.283185307179586 / period;
  for (int w = 0; w < windows; ++w) {
    const double a = rng.Uniform(0.5, 1.5), phase = rng.Uniform(0, 6.283185307179586);
    for (int t = 0; t < steps; ++t)
      x.push_back(static_cast<float>(a * std::sin(omega * t + phase)));
  }
  return VectorBatchProvider(steps, 1, 0, std::move(x), {});
}

}  // namespace nemesyst::testing

#endif  // NEMESYST_TESTS_KERNELS_TEST_PROVIDERS_H_
