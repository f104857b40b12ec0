#include "nemesyst/refrigeration/dispatch_campaign.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "common/random.h"
#include "refrigeration/fleet_branch.h"
#include "refrigeration/rotation_event.h"

namespace nemesyst::refrigeration {

Status CampaignOptions::Validate() const {
  auto bad = [](const char* field, const std::string& why) {
    return Status::InvalidArgument(std::string("campaign option '") + field + "' " + why);
  };
  if (profiles.empty()) return bad("profiles", "must name at least one profile");
  for (const ServiceProfile& p : profiles) {
    NEMESYST_RETURN_IF_ERROR(ValidateProfile(p).WithContext("campaign profile '" + p.name + "'"));
  }
  if (hours.empty()) return bad("hours", "must hold at least one start hour");
  for (double h : hours) {
    // The replay needs the event, its rebound and a look-back inside the fleet's day.
    if (!(h >= 0 && h < 24)) return bad("hours", "must be in [0, 24)");
  }
  if (fault_rates.empty()) return bad("fault_rates", "must hold at least one rate");
  for (double f : fault_rates) {
    if (!(f >= 0 && f <= 1)) return bad("fault_rates", "must be in [0, 1]");
  }
  if (min_events < 1 || min_events > 10000000) return bad("min_events", "must be in [1, 1e7]");
  if (stores < 1 || stores > 1000) return bad("stores", "must be in [1, 1000]");
  if (cases_per_store < 1 || cases_per_store > 100) {
    return bad("cases_per_store", "must be in [1, 100]");
  }
  if (!bounds_for) return bad("bounds_for", "is required");
  if (!(event.offer_rebound_aim > 0 && event.offer_rebound_aim <= 1)) {
    return bad("event.offer_rebound_aim", "must be in (0, 1]");
  }
  return event.settings.Validate();
}

namespace {

CampaignResult EmptyResult(const CampaignOptions& o) {
  CampaignResult result;
  for (const ServiceProfile& p : o.profiles) {
    CampaignProfileSummary s;
    s.profile = p.name;
    for (double h : o.hours) s.mean_offer_kw_by_hour[h] = 0;
    result.profiles.push_back(s);
  }
  return result;
}

// What a fleet's commissioning day teaches it, per profile.
struct Commissioned {
  DeliveryErrorFloor error_floor;
  ReboundOvershoot rebound;
};

// Every profile at every hour of `day` on cases `cases` of `sim` (`base`: those cases, before the
// day's first event), each offered with the error floor and rebound aim `learnt` gives its profile
// (null: those in o.event). With `commissioning`, the day teaches them (from each offered event)
// and counts only its violations; otherwise its events are added to `result`.
Status ReplayDay(const FleetSimulator& sim, FleetBranch& base, const std::vector<int>& cases,
                 int day, const CampaignOptions& o, const LowerBoundSource& bounds,
                 const Commissioned* learnt, Commissioned* commissioning, CampaignResult* result) {
  const SimulatorOptions& so = sim.options();
  int faulty = 0;
  for (int i : cases) {
    if (i >= 0 && i < static_cast<int>(sim.cases().size())) {
      faulty += sim.cases()[i].fault != SensorFault::kNone ? 1 : 0;
    }
  }
  const int64_t step_us = static_cast<int64_t>(so.interval_s) * 1000000;
  std::vector<double> hours = o.hours;
  std::sort(hours.begin(), hours.end());
  for (double hour : hours) {
    int64_t start = so.start_us + static_cast<int64_t>((24.0 * day + hour) * 3600.0 * 1e6);
    start -= (start - so.start_us) % step_us;  // on the sampling grid
    if (start < so.start_us + static_cast<int64_t>(o.event.lookback_minutes) * step_us) {
      return Status::InvalidArgument("campaign: an event at hour " + std::to_string(hour) +
                                     " of day " + std::to_string(day) +
                                     " leaves no look-back before it");
    }
    base.AdvanceTo(start);
    for (size_t p = 0; p < o.profiles.size(); ++p) {
      RotationEventOptions eo = o.event;
      eo.profile = o.profiles[p];
      if (learnt != nullptr) {
        eo.settings.error_floor_kw = learnt->error_floor.Kw(eo.profile.name);
        eo.offer_rebound_aim = learnt->rebound.OfferAim(eo.profile.name, eo.offer_rebound_aim);
      }
      NEMESYST_ASSIGN_OR_RETURN(RotationEventResult r, RunRotationEvent(base, eo, bounds));
      result->violations += r.violations;
      if (commissioning != nullptr) {
        commissioning->error_floor.Add(r);
        commissioning->rebound.Add(r);
        ++result->commissioning_events;
        result->commissioning_violations += r.violations;
        continue;
      }
      ++result->events;
      result->cases_replayed += static_cast<int>(cases.size());
      result->faulty_cases += faulty;
      CampaignProfileSummary& s = result->profiles[p];
      ++s.events;
      s.violations += r.violations;
      s.mean_offer_kw_by_hour[hour] += r.contracted_kw;
      if (r.contracted_kw > 0) {
        ++s.offered;
        s.window_minutes += r.window_minutes;
        s.minutes_within += r.minutes_within;
        s.worst_deviation = std::max(s.worst_deviation, r.worst_deviation);
        s.worst_rebound = std::max(s.worst_rebound, r.rebound_peak);
        if (r.rebound_peak > eo.profile.rebound_limit) ++s.rebound_over;
      }
      result->events_list.push_back(
          {r.profile, so.seed, so.fault_rate, hour, r.capacity_kw, r.contracted_kw,
           r.window_minutes, r.minutes_within, r.worst_deviation, r.violations, r.rebound_peak,
           r.suspect_cases, r.safety_restarts, r.mean_physical_shed_kw, r.offer_sigma_kw,
           eo.settings.error_floor_kw, eo.offer_rebound_aim, r.rebound_minutes,
           r.rebound_switch_offs});
      if (o.on_event) o.on_event(r, so.seed, so.fault_rate);
    }
  }
  return Status::OK();
}

// One fleet: its commissioning day (day − 1) when learning, then day `day`, added to `result`.
Status ReplayFleet(const FleetSimulator& sim, const std::vector<int>& cases, int day,
                   const CampaignOptions& o, CampaignResult* result) {
  NEMESYST_ASSIGN_OR_RETURN(LowerBoundSource bounds, o.bounds_for(sim));
  NEMESYST_ASSIGN_OR_RETURN(
      FleetBranch base,
      FleetBranch::Create(sim, cases, static_cast<size_t>(o.event.lookback_minutes) + 60));
  if (!o.commissioning) {
    NEMESYST_RETURN_IF_ERROR(ReplayDay(sim, base, cases, day, o, bounds, nullptr, nullptr, result));
  } else {
    if (day < 1) {
      return Status::InvalidArgument(
          "campaign: commissioning needs day ≥ 1 (the day before commissions)");
    }
    Commissioned learnt;
    NEMESYST_RETURN_IF_ERROR(
        ReplayDay(sim, base, cases, day - 1, o, bounds, nullptr, &learnt, result));
    NEMESYST_RETURN_IF_ERROR(ReplayDay(sim, base, cases, day, o, bounds, &learnt, nullptr, result));
  }
  ++result->fleets;
  return Status::OK();
}

void Finish(CampaignResult* result, std::chrono::steady_clock::time_point started) {
  for (CampaignProfileSummary& s : result->profiles) {
    for (auto& [hour, kw] : s.mean_offer_kw_by_hour) kw /= std::max(1, result->fleets);
  }
  result->seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

}  // namespace

Result<CampaignResult> RunDispatchCampaign(const CampaignOptions& o) {
  NEMESYST_RETURN_IF_ERROR(o.Validate());
  const auto started = std::chrono::steady_clock::now();
  CampaignResult result = EmptyResult(o);
  for (int fleet = 0; result.events < o.min_events; ++fleet) {
    SimulatorOptions so;
    so.seed = o.seed + static_cast<uint64_t>(fleet);
    so.stores = o.stores;
    so.cases_per_store = o.cases_per_store;
    so.days = o.commissioning ? 3 : 2;
    so.fault_rate = o.fault_rates[fleet % o.fault_rates.size()];
    if (o.random_mix) {
      // An unseen mix: each type's weight uniform in [0.1, 1).
      SimRandom mix(MixKeys(so.seed, 0x6d6978));
      for (double& w : so.type_mix) w = mix.Uniform(0.1, 1.0);
    }
    NEMESYST_ASSIGN_OR_RETURN(std::unique_ptr<FleetSimulator> sim, FleetSimulator::Create(so));
    std::vector<int> all(sim->cases().size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
    NEMESYST_RETURN_IF_ERROR(ReplayFleet(*sim, all, /*day=*/so.days - 1, o, &result));
  }
  Finish(&result, started);
  return result;
}

Result<CampaignResult> ReplayServicesOnFleet(const FleetSimulator& simulator,
                                             const std::vector<int>& case_indices, int day,
                                             const CampaignOptions& o) {
  NEMESYST_RETURN_IF_ERROR(o.Validate());
  if (day < 0) return Status::InvalidArgument("campaign: day must be ≥ 0");
  const auto started = std::chrono::steady_clock::now();
  CampaignResult result = EmptyResult(o);
  NEMESYST_RETURN_IF_ERROR(ReplayFleet(simulator, case_indices, day, o, &result));
  Finish(&result, started);
  return result;
}

}  // namespace nemesyst::refrigeration
