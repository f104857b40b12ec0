// ReboundOvershoot (rotation_replay.h): how far a fleet's settled rebounds passed their offers'
// dry-run caps.
#include <algorithm>

#include "nemesyst/refrigeration/rotation_replay.h"

namespace nemesyst::refrigeration {

void ReboundOvershoot::Add(const RotationEventResult& event) {
  if (event.contracted_kw <= 0 || event.offer_rebound_cap_kw <= 0) return;
  const double ratio = event.rebound_peak * event.baseline_kw / event.offer_rebound_cap_kw;
  double& worst = by_profile_[event.profile];  // 0 when new
  worst = std::max(worst, ratio);
}

double ReboundOvershoot::Ratio(const std::string& profile) const {
  const auto own = by_profile_.find(profile);
  if (own != by_profile_.end()) return own->second;
  double worst = 0;  // the fleet's: every profile's events
  for (const auto& [name, ratio] : by_profile_) worst = std::max(worst, ratio);
  return worst;
}

double ReboundOvershoot::OfferAim(const std::string& profile, double aim) const {
  const double ratio = Ratio(profile);
  return ratio * aim > kLandAt ? kLandAt / ratio : aim;
}

}  // namespace nemesyst::refrigeration
