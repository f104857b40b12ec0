#include "refrigeration/baselines.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

namespace nemesyst::refrigeration {
namespace {

double Clamp(double v, double max_s) {
  return std::isfinite(v) ? std::clamp(v, 0.0, max_s) : max_s;
}

Status CheckRows(const std::vector<CaseSample>& rows, std::string_view who) {
  if (rows.empty()) return Status::InvalidArgument(std::string(who) + ": no training rows");
  const size_t width = rows.front().features.size();
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].features.size() != width) {
      return Status::InvalidArgument(std::string(who) + ": row " + std::to_string(i) + " has " +
                                     std::to_string(rows[i].features.size()) +
                                     " features, row 0 has " + std::to_string(width));
    }
    if (!std::isfinite(rows[i].label_s)) {
      return Status::InvalidArgument(std::string(who) + ": row " + std::to_string(i) +
                                     " has a non-finite label");
    }
    for (double f : rows[i].features) {
      if (!std::isfinite(f)) {
        return Status::InvalidArgument(std::string(who) + ": row " + std::to_string(i) +
                                       " has a non-finite feature");
      }
    }
  }
  return Status::OK();
}

class MeanBaseline final : public Baseline {
 public:
  explicit MeanBaseline(const BaselineOptions& options) : options_(options) {}
  std::string name() const override { return "mean"; }
  Status Fit(const std::vector<CaseSample>& train) override {
    NEMESYST_RETURN_IF_ERROR(CheckRows(train, "mean baseline"));
    double sum = 0;
    for (const CaseSample& s : train) sum += s.label_s;
    mean_s_ = sum / static_cast<double>(train.size());
    return Status::OK();
  }
  double Predict(const CaseSample&) const override { return Clamp(mean_s_, options_.max_s); }

 private:
  BaselineOptions options_;
  double mean_s_ = 0;
};

// y ≈ b + Σ w_j·(x_j − μ_j)/σ_j, fitted by the normal equations with λ on w only. Standardising
// makes one λ sensible across features in °C, kW and 0/1 states; centring makes the intercept the
// label mean, so it needs no penalty exemption inside the solve.
class RidgeBaseline final : public Baseline {
 public:
  explicit RidgeBaseline(const BaselineOptions& options) : options_(options) {}
  std::string name() const override { return "ridge"; }
  Status Fit(const std::vector<CaseSample>& train) override {
    NEMESYST_RETURN_IF_ERROR(CheckRows(train, "ridge baseline"));
    const Eigen::Index n = static_cast<Eigen::Index>(train.size());
    const Eigen::Index d = static_cast<Eigen::Index>(train.front().features.size());
    Eigen::MatrixXd x(n, d);
    Eigen::VectorXd y(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      for (Eigen::Index j = 0; j < d; ++j) x(i, j) = train[i].features[j];
      y(i) = train[i].label_s;
    }
    mean_ = x.colwise().mean();
    scale_.resize(d);
    for (Eigen::Index j = 0; j < d; ++j) {
      const double var = (x.col(j).array() - mean_(j)).square().mean();
      scale_(j) = var > 1e-24 ? std::sqrt(var) : 1.0;  // constant column: weight stays ~0
    }
    Eigen::MatrixXd z =
        (x.rowwise() - mean_.transpose()).array().rowwise() / scale_.transpose().array();
    intercept_ = y.mean();
    Eigen::MatrixXd gram = z.transpose() * z;
    gram.diagonal().array() += options_.ridge_lambda;
    weights_ = gram.ldlt().solve(z.transpose() * (y.array() - intercept_).matrix());
    if (!weights_.allFinite()) return Status::InvalidArgument("ridge baseline: singular system");
    return Status::OK();
  }
  double Predict(const CaseSample& sample) const override {
    if (static_cast<Eigen::Index>(sample.features.size()) != weights_.size()) {
      return Clamp(intercept_, options_.max_s);
    }
    double y = intercept_;
    for (Eigen::Index j = 0; j < weights_.size(); ++j) {
      y += weights_(j) * (sample.features[j] - mean_(j)) / scale_(j);
    }
    return Clamp(y, options_.max_s);
  }

 private:
  BaselineOptions options_;
  Eigen::VectorXd mean_, scale_, weights_;
  double intercept_ = 0;
};

// Finds the most recent stretch of `slope_fit_points` readings whose least-squares slope is
// warming, and extrapolates it from the current air temperature to the limit. With no warming in
// the history the case is cooling or holding: the prediction is the cap.
class WarmupSlopeBaseline final : public Baseline {
 public:
  explicit WarmupSlopeBaseline(const BaselineOptions& options) : options_(options) {}
  std::string name() const override { return "warmup_slope"; }
  Status Fit(const std::vector<CaseSample>&) override { return Status::OK(); }  // nothing to learn
  double Predict(const CaseSample& s) const override {
    const auto& t = s.air_history_c;
    const int k = std::max(2, options_.slope_fit_points);
    if (t.empty()) return options_.max_s;
    const double now_c = t.back();
    if (now_c >= s.limit_c) return 0;
    for (int end = static_cast<int>(t.size()); end - k >= 0; --end) {
      const double slope = LeastSquaresSlope(t, end - k, end) / s.sample_period_s;
      if (slope >= options_.min_slope_c_per_s)
        return Clamp((s.limit_c - now_c) / slope, options_.max_s);
    }
    return options_.max_s;
  }

 private:
  // Slope per sample of t[begin, end) against its index.
  static double LeastSquaresSlope(const std::vector<double>& t, int begin, int end) {
    const double n = end - begin;
    const double mean_i = (n - 1) / 2.0;
    double mean_t = 0;
    for (int i = begin; i < end; ++i) mean_t += t[i];
    mean_t /= n;
    double num = 0, den = 0;
    for (int i = begin; i < end; ++i) {
      const double di = (i - begin) - mean_i;
      num += di * (t[i] - mean_t);
      den += di * di;
    }
    return den > 0 ? num / den : 0;
  }
  BaselineOptions options_;
};

}  // namespace

std::unique_ptr<Baseline> MakeMeanBaseline(const BaselineOptions& o) {
  return std::make_unique<MeanBaseline>(o);
}
std::unique_ptr<Baseline> MakeRidgeBaseline(const BaselineOptions& o) {
  return std::make_unique<RidgeBaseline>(o);
}
std::unique_ptr<Baseline> MakeWarmupSlopeBaseline(const BaselineOptions& o) {
  return std::make_unique<WarmupSlopeBaseline>(o);
}
std::vector<std::unique_ptr<Baseline>> MakeAllBaselines(const BaselineOptions& o) {
  std::vector<std::unique_ptr<Baseline>> all;
  all.push_back(MakeMeanBaseline(o));
  all.push_back(MakeRidgeBaseline(o));
  all.push_back(MakeWarmupSlopeBaseline(o));
  return all;
}

}  // namespace nemesyst::refrigeration
