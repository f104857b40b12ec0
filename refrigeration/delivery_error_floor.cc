// DeliveryErrorFloor (rotation_replay.h): the 99th percentile of a fleet's settled delivery errors.
#include <algorithm>
#include <cmath>

#include "nemesyst/refrigeration/rotation_replay.h"

namespace nemesyst::refrigeration {

void DeliveryErrorFloor::Add(const RotationEventResult& event) {
  if (event.contracted_kw <= 0) return;
  for (const RotationMinute& m : event.minutes) {
    if (m.in_window) errors_kw_.push_back(std::fabs(m.delivered_kw - event.contracted_kw));
  }
}

double DeliveryErrorFloor::Kw() const {
  if (errors_kw_.empty()) return 0;
  std::vector<double> sorted = errors_kw_;
  // Nearest rank: the smallest error at least 99 % of the minutes do not exceed.
  const size_t rank = static_cast<size_t>(std::ceil(0.99 * static_cast<double>(sorted.size())));
  std::nth_element(sorted.begin(), sorted.begin() + (rank - 1), sorted.end());
  return sorted[rank - 1];
}

}  // namespace nemesyst::refrigeration
