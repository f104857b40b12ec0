// DeliveryErrorFloor (rotation_replay.h): the 99th percentile of a fleet's settled delivery errors.
#include <algorithm>
#include <cmath>
#include <utility>

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
    own.push_back(std::fabs(m.delivered_kw - event.contracted_kw));
  }
}

int DeliveryErrorFloor::minutes() const {
  size_t n = 0;
  for (const auto& [profile, errors_kw] : by_profile_kw_) n += errors_kw.size();
  return static_cast<int>(n);
}

double DeliveryErrorFloor::Kw(const std::string& profile) const {
  const auto own = by_profile_kw_.find(profile);
  if (own != by_profile_kw_.end() && static_cast<int>(own->second.size()) >= kMinProfileMinutes) {
    return Percentile99(own->second);
  }
  std::vector<double> all_kw;  // the fleet's: every profile's minutes
  for (const auto& [name, errors_kw] : by_profile_kw_) {
    all_kw.insert(all_kw.end(), errors_kw.begin(), errors_kw.end());
  }
  return Percentile99(std::move(all_kw));
}

}  // namespace nemesyst::refrigeration
