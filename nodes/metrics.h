// Evaluation metrics of a safe-off-time regressor: mean and 90th-percentile absolute error, in
// seconds, overall and by group (case type, store ...).
//
// p90 is the linear-interpolation percentile of the absolute errors (the "type 7" definition used
// by numpy and R's default): sorted errors e[0..n-1], position h = 0.9·(n−1),
// p90 = e[⌊h⌋] + (h − ⌊h⌋)·(e[⌊h⌋+1] − e[⌊h⌋]).
// Thread-safety: pure functions.
#ifndef NEMESYST_NODES_METRICS_H_
#define NEMESYST_NODES_METRICS_H_

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "nemesyst/status.h"

namespace nemesyst::nodes {

struct ErrorStats {
  double mae_s = 0;  // mean absolute error, seconds
  double p90_s = 0;  // 90th percentile of the absolute error, seconds
  size_t count = 0;
};

// Linear-interpolation percentile (q in [0, 1]) of `values`; 0 for an empty input.
double Percentile(std::vector<double> values, double q);

// Errors of `predicted` against `truth`; the vectors must have the same, non-zero length.
Result<ErrorStats> ComputeErrorStats(const std::vector<double>& truth,
                                     const std::vector<double>& predicted);

// The same, per value of `group` (e.g. the case type of each row). All three vectors have the
// same length. Groups are returned in name order.
Result<std::map<std::string, ErrorStats>> ComputeErrorStatsByGroup(
    const std::vector<double>& truth, const std::vector<double>& predicted,
    const std::vector<std::string>& group);

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_METRICS_H_
