#include "refrigeration/demo_grid.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "nemesyst/refrigeration/dispatch_campaign.h"
#include "nemesyst/refrigeration/model_bounds.h"

namespace nemesyst::refrigeration {
namespace {

GridServiceSection SectionFrom(const CampaignResult& r, const std::string& where, int cases,
                               const std::vector<double>& hours) {
  GridServiceSection s;
  s.where = where;
  s.cases = cases;
  s.events = r.events;
  s.violations = r.violations;
  s.commissioning_events = r.commissioning_events;
  s.seconds = r.seconds;
  s.hours = hours;
  std::sort(s.hours.begin(), s.hours.end());
  for (const CampaignProfileSummary& p : r.profiles) {
    GridServiceRow row;
    row.profile = p.profile;
    row.events = p.events;
    row.offered = p.offered;
    double total = 0;
    for (const auto& [hour, kw] : p.mean_offer_kw_by_hour) {
      total += kw;
      s.offer_kw_by_hour[p.profile].push_back(kw);
    }
    row.mean_offer_kw =
        p.mean_offer_kw_by_hour.empty() ? 0 : total / p.mean_offer_kw_by_hour.size();
    row.window_minutes = p.window_minutes;
    row.minutes_within = p.minutes_within;
    row.violations = p.violations;
    row.worst_deviation = p.worst_deviation;
    row.worst_rebound = p.worst_rebound;
    row.rebound_over = p.rebound_over;
    s.rows.push_back(row);
  }
  return s;
}

}  // namespace

Status RunDemoGridServices(LoadedModel& model, const FleetSimulator& demo_fleet,
                           const std::vector<int>& held_out_cases, const DemoOptions& o,
                           DemoReport* report) {
  CampaignOptions c;
  c.hours = o.grid_hours;
  c.commissioning = o.grid_commissioning;
  c.bounds_for = [&model](const FleetSimulator& sim) { return ModelLowerBounds(model, sim); };
  // The trace shown in the report: the longest service the unseen fleet offered.
  GridServiceTrace best;
  double best_minutes = -1;
  std::string where;
  c.on_event = [&](const RotationEventResult& e, uint64_t, double) {
    if (e.contracted_kw <= 0 || e.window_minutes <= best_minutes) return;
    best_minutes = e.window_minutes;
    best = {};
    best.profile = e.profile;
    best.where = where;
    best.hour = e.hour_of_day;
    best.contracted_kw = e.contracted_kw;
    best.window_minutes = e.window_minutes;
    for (const ServiceProfile& p : c.profiles) {
      if (p.name == e.profile) best.tolerance = p.tolerance;
    }
    std::vector<double> available;
    for (const RotationCaseOutcome& c : e.cases) {
      if (c.times_off > 0 && c.available_s >= 0) available.push_back(c.available_s / 60);
    }
    best.touched_cases = static_cast<int>(available.size());
    if (!available.empty()) {
      std::sort(available.begin(), available.end());
      best.available_median_min = available[available.size() / 2];
      best.available_max_min = available.back();
    }
    for (const RotationMinute& m : e.minutes) {
      best.t_min.push_back(m.t_s / 60);
      best.delivered_kw.push_back(m.delivered_kw);
      best.physical_shed_kw.push_back(m.physical_shed_kw);
    }
  };

  // The held-out stores of the demo's own fleet, on its last whole day.
  const int last_day = std::max(1, static_cast<int>(std::floor(demo_fleet.options().days)) - 1);
  where = "held-out stores";
  NEMESYST_ASSIGN_OR_RETURN(CampaignResult held,
                            ReplayServicesOnFleet(demo_fleet, held_out_cases, last_day, c));
  report->grid.push_back(SectionFrom(held,
                                     "held-out stores, day " + std::to_string(last_day + 1) + " (" +
                                         std::to_string(held_out_cases.size()) + " cases)",
                                     static_cast<int>(held_out_cases.size()), c.hours));

  // An unseen fleet of aggregation size: its own seed, case mix and faulty sensors.
  if (o.grid_stores == 0) {
    report->grid_trace = best;
    return Status::OK();
  }
  c.min_events = 1;
  c.seed = o.seed * 1000 + 17;
  c.stores = o.grid_stores;
  c.fault_rates = {o.grid_fault_rate};
  best_minutes = -1;
  const int cases = o.grid_stores * o.cases_per_store;
  c.cases_per_store = o.cases_per_store;
  where = "unseen fleet";
  NEMESYST_ASSIGN_OR_RETURN(CampaignResult unseen, RunDispatchCampaign(c));
  report->grid.push_back(SectionFrom(unseen,
                                     "unseen fleet (seed " + std::to_string(c.seed) + ", " +
                                         std::to_string(cases) + " cases, own case mix, " +
                                         std::to_string(static_cast<int>(100 * o.grid_fault_rate)) +
                                         " % faulty sensors)",
                                     cases, c.hours));
  report->grid_trace = best;
  return Status::OK();
}

}  // namespace nemesyst::refrigeration
