#include "nemesyst/predictions.h"

#include <algorithm>
#include <cmath>

namespace nemesyst {

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double h = std::clamp(q, 0.0, 1.0) * static_cast<double>(values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (h - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

Result<ErrorStats> ComputeErrorStats(const std::vector<double>& truth,
                                     const std::vector<double>& predicted) {
  if (truth.size() != predicted.size()) {
    return Status::InvalidArgument("metrics: " + std::to_string(truth.size()) + " labels but " +
                                   std::to_string(predicted.size()) + " predictions");
  }
  if (truth.empty()) return Status::InvalidArgument("metrics: no rows to evaluate");
  std::vector<double> abs_error(truth.size());
  double sum = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    if (!std::isfinite(truth[i]) || !std::isfinite(predicted[i])) {
      return Status::InvalidArgument("metrics: row " + std::to_string(i) +
                                     " has a non-finite label or prediction");
    }
    abs_error[i] = std::fabs(predicted[i] - truth[i]);
    sum += abs_error[i];
  }
  ErrorStats stats;
  stats.count = truth.size();
  stats.mae_s = sum / static_cast<double>(truth.size());
  stats.p90_s = Percentile(std::move(abs_error), 0.9);
  return stats;
}

Result<std::map<std::string, ErrorStats>> ComputeErrorStatsByGroup(
    const std::vector<double>& truth, const std::vector<double>& predicted,
    const std::vector<std::string>& group) {
  if (group.size() != truth.size()) {
    return Status::InvalidArgument("metrics: " + std::to_string(truth.size()) + " labels but " +
                                   std::to_string(group.size()) + " group names");
  }
  NEMESYST_RETURN_IF_ERROR(ComputeErrorStats(truth, predicted).status());  // shape and values
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> rows;
  for (size_t i = 0; i < truth.size(); ++i) {
    auto& [t, p] = rows[group[i]];
    t.push_back(truth[i]);
    p.push_back(predicted[i]);
  }
  std::map<std::string, ErrorStats> out;
  for (const auto& [name, tp] : rows) {
    NEMESYST_ASSIGN_OR_RETURN(ErrorStats stats, ComputeErrorStats(tp.first, tp.second));
    out[name] = stats;
  }
  return out;
}

}  // namespace nemesyst
