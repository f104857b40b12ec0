// The baselines a skeptical engineer tries before a neural network (docs/case-study.md):
//   mean   — always predict the training labels' mean;
//   ridge  — ridge regression on the current reading's features (closed form, Eigen);
//   slope  — extrapolate the latest warm-up slope of the air temperature to the case's limit.
// Every model in the demo's report is compared against the best of these on held-out stores.
//
// Thread-safety: Fit() mutates; Predict() is const and may be called concurrently after Fit().
#ifndef NEMESYST_REFRIGERATION_BASELINES_H_
#define NEMESYST_REFRIGERATION_BASELINES_H_

#include <memory>
#include <string>
#include <vector>

#include "nemesyst/status.h"

namespace nemesyst::refrigeration {

// What a baseline sees of one case at one sample time. Raw (un-normalised) units.
struct CaseSample {
  std::vector<double> features;       // the current reading (ridge input); same width every row
  std::vector<double> air_history_c;  // air temperature of recent readings, oldest first
  double sample_period_s = 60;        // spacing of air_history_c
  double limit_c = 0;                 // the case's upper air-temperature limit
  double label_s = 0;                 // true safe off-time (used by Fit; ignored by Predict)
};

class Baseline {
 public:
  virtual ~Baseline() = default;
  virtual std::string name() const = 0;
  // Learns from labelled rows. Errors: no rows, ragged feature widths, non-finite values.
  virtual Status Fit(const std::vector<CaseSample>& train) = 0;
  // Predicted safe off-time in seconds, clamped to [0, max_s].
  virtual double Predict(const CaseSample& sample) const = 0;
};

struct BaselineOptions {
  double max_s = 3600;        // the label's cap (the simulator caps safe_off_s at 3,600 s)
  double ridge_lambda = 1.0;  // L2 penalty on standardised feature weights (not the intercept)
  int slope_fit_points = 5;   // readings in the least-squares slope fit (≥ 2)
  double min_slope_c_per_s = 1e-4;  // a slope below this is "not warming": predict the cap
};

std::unique_ptr<Baseline> MakeMeanBaseline(const BaselineOptions& options = {});
std::unique_ptr<Baseline> MakeRidgeBaseline(const BaselineOptions& options = {});
std::unique_ptr<Baseline> MakeWarmupSlopeBaseline(const BaselineOptions& options = {});

// The three above, in that order.
std::vector<std::unique_ptr<Baseline>> MakeAllBaselines(const BaselineOptions& options = {});

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_BASELINES_H_
