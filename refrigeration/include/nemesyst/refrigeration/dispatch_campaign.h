// A Monte Carlo campaign of grid-service replays (rotation_replay.h) on fleets the model never
// saw: each fleet has its own seed (never the training fleet's), its own case-type mix and a
// fault rate from a list (up to 10 % of cases with a stuck or drifting sensor); every service
// profile is replayed at every start hour of the fleet's third day, after the same replays on its
// second day (its commissioning day) taught it, per profile, its delivery error floor and how far
// its rebound overshoots its offers' plans (DeliveryErrorFloor and ReboundOvershoot in
// rotation_replay.h). Fleets are added until at least `min_events` events have been counted.
//
// What it answers, per profile: how many kW the fleet offered at each hour, the share of window
// minutes delivered within the profile's tolerance, temperature-limit violations, and the
// rebound — the targets of docs/dispatch.md.
//
// Thread-safety: runs on the calling thread; `bounds_for` and `on_event` are called from it.
#ifndef NEMESYST_REFRIGERATION_DISPATCH_CAMPAIGN_H_
#define NEMESYST_REFRIGERATION_DISPATCH_CAMPAIGN_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "nemesyst/refrigeration/rotation_replay.h"
#include "nemesyst/refrigeration/service_profile.h"
#include "nemesyst/refrigeration/simulator.h"
#include "nemesyst/status.h"

namespace nemesyst::refrigeration {

struct CampaignOptions {
  std::vector<ServiceProfile> profiles = BuiltInProfiles();
  // Event starts, hours since midnight UTC on each fleet's last day (the first gives the
  // history the model and the baselines need).
  std::vector<double> hours = {2, 6, 9, 12, 15, 18, 21};
  std::vector<double> fault_rates = {0.0, 0.05, 0.10};  // fleet k gets fault_rates[k % size]
  int min_events = 1000;
  uint64_t seed = 1000;  // fleet k is simulated with seed + k
  int stores = 8;
  int cases_per_store = 24;
  bool random_mix = true;      // each fleet draws its own case-type mix (else the simulator's)
  RotationEventOptions event;  // everything but the profile, which each event sets
  // Before the counted events, the fleet replays the same profiles and hours on the day before
  // (its commissioning day, offered with the floor and rebound aim in `event`: counted for
  // violations, not for delivery) and offers the counted ones with each profile's error floor
  // (DeliveryErrorFloor, RotationSettings::error_floor_kw) and rebound aim (ReboundOvershoot,
  // RotationEventOptions::offer_rebound_aim) learnt from them. Off: those in `event` are used
  // throughout, and fleets simulate two days, not three.
  bool commissioning = true;
  // Called once per fleet: the bound source for it (e.g. ModelLowerBounds).
  std::function<Result<LowerBoundSource>(const FleetSimulator&)> bounds_for;
  // Called after every event (progress, or to keep the per-event results).
  std::function<void(const RotationEventResult&, uint64_t fleet_seed, double fault_rate)> on_event;
  // Checks ranges; the message names the field.
  Status Validate() const;
};

// One replayed event, in brief.
struct CampaignEvent {
  std::string profile;
  uint64_t fleet_seed = 0;
  double fault_rate = 0;
  double hour = 0;
  double capacity_kw = 0, contracted_kw = 0;
  int window_minutes = 0, minutes_within = 0;
  double worst_deviation = 0;
  int violations = 0;
  double rebound_peak = 0;
  int suspect_cases = 0;
  int safety_restarts = 0;
  double mean_physical_shed_kw = 0;  // over the window, against the fleet left alone
  double offer_sigma_kw = 0;         // the offer's expected error (RotationEventResult)
  double error_floor_kw = 0;         // the error floor the offer was made with (learnt per profile)
  double offer_rebound_aim = 0;      // the rebound aim the offer was made with (learnt per profile)
  int rebound_minutes = 0;           // until every touched case was back to normal running
  int rebound_switch_offs = 0;       // cases switched off to hold the rebound's cap (rule 4)
};

struct CampaignProfileSummary {
  std::string profile;
  int events = 0;
  int offered = 0;                             // events with an offer
  int window_minutes = 0, minutes_within = 0;  // over offered events
  int violations = 0;
  int rebound_over = 0;      // offered events whose rebound passed the profile's limit
  double worst_rebound = 0;  // max rebound_peak
  double worst_deviation = 0;
  std::map<double, double> mean_offer_kw_by_hour;  // over every fleet, 0 when not offered
};

struct CampaignResult {
  int fleets = 0;
  int events = 0;
  int violations = 0;  // of the counted events and the commissioning ones
  // The commissioning days' events (CampaignOptions::commissioning), not in `events` nor in the
  // profiles.
  int commissioning_events = 0, commissioning_violations = 0;
  int cases_replayed = 0;  // Σ over events of the fleet's cases
  int faulty_cases = 0;    // of those, with a faulty sensor (the simulator's truth)
  double seconds = 0;
  std::vector<CampaignProfileSummary> profiles;  // in options.profiles order
  std::vector<CampaignEvent> events_list;
};

Result<CampaignResult> RunDispatchCampaign(const CampaignOptions& options);

// The same replays on given cases of a given fleet (e.g. the demo's held-out stores), at
// options.hours of day `day` (0 = the simulation's first day; the look-back must fit before the
// first event), after the commissioning replays of day − 1 when options.commissioning (then
// day ≥ 1). stores, cases_per_store, seed, fault_rates, random_mix and min_events are not
// used; the result has one fleet.
Result<CampaignResult> ReplayServicesOnFleet(const FleetSimulator& simulator,
                                             const std::vector<int>& case_indices, int day,
                                             const CampaignOptions& options);

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_DISPATCH_CAMPAIGN_H_
