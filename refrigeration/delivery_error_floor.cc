// DeliveryErrorFloor (rotation_replay.h): the 99th percentile of a fleet's settled delivery errors.
#include <algorithm>
#include <cmath>

#include "nemesyst/refrigeration/rotation_replay.h"

namespace nemesyst::refrigeration {
namespace {

// Nearest rank: the smallest error at least 99 % of the minutes do not exceed.
double Percentile99(std::vector<double> errors_kw) {
  if (errors_kw.empty()) return 0;
  const size_t rank = static_cast<size_t>(std::ceil(0.99 * static_cast<double>(errors_kw.size())));
  std::nth_element(errors_kw.begin(), errors_kw.begin() + (rank - 1), errors_kw.end());
  return errors_kw[rank - 1];
}

}  // namespace

void DeliveryErrorFloor::Add(const RotationEventResult& event) {
  if (event.contracted_kw <= 0) return;
  std::vector<double>& own = by_profile_kw_[event.profile];
  for (const RotationMinute& m : event.minutes) {
    if (!m.in_window) continue;
    const double error_kw = std::fabs(m.delivered_kw - event.contracted_kw);
    own.push_back(error_kw);
    all_kw_.push_back(error_kw);
  }
}

double DeliveryErrorFloor::Kw(const std::string& profile) const {
  const auto own = by_profile_kw_.find(profile);
  if (own != by_profile_kw_.end() && static_cast<int>(own->second.size()) >= kMinProfileMinutes) {
    return Percentile99(own->second);
  }
  return Percentile99(all_kw_);
}

}  // namespace nemesyst::refrigeration
