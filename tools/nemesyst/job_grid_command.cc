// `nemesyst grid-replay`: the grid-service campaign — every service profile replayed with
// rotating dispatch, at several hours, on simulated fleets the model never saw, planning with a
// registered model's calibrated lower bounds (include/nemesyst/refrigeration/dispatch_campaign.h,
// docs/dispatch.md).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "nemesyst/predict_job.h"
#include "nemesyst/refrigeration/dispatch_campaign.h"
#include "nemesyst/refrigeration/model_bounds.h"
#include "tools/nemesyst/job_cli.h"

namespace nemesyst::cli {
namespace {

struct GridFlags {
  std::string model;
  std::vector<std::string> profile_names;
  std::string profiles_file;
  std::string csv_path;
  std::string minutes_path;
  bool json = false;
  bool no_commissioning = false;
  refrigeration::CampaignOptions o;
};

Result<std::vector<refrigeration::ServiceProfile>> ChosenProfiles(const GridFlags& f) {
  std::vector<refrigeration::ServiceProfile> known = refrigeration::BuiltInProfiles();
  if (!f.profiles_file.empty()) {
    NEMESYST_ASSIGN_OR_RETURN(known, refrigeration::ReadProfilesFile(f.profiles_file));
  }
  if (f.profile_names.empty()) return known;
  std::vector<refrigeration::ServiceProfile> out;
  for (const std::string& name : f.profile_names) {
    NEMESYST_ASSIGN_OR_RETURN(refrigeration::ServiceProfile p,
                              refrigeration::FindProfile(name, known));
    out.push_back(p);
  }
  return out;
}

Status WriteEventsCsv(const std::string& path, const refrigeration::CampaignResult& r) {
  std::ofstream out(path);
  if (!out) return Status::IOError("cannot write " + path);
  out << "profile,fleet_seed,fault_rate,hour,capacity_kw,contracted_kw,window_minutes,"
         "minutes_within,worst_deviation,violations,rebound_peak,suspect_cases,"
         "safety_restarts,mean_physical_shed_kw,offer_sigma_kw,error_floor_kw,offer_rebound_aim,"
         "rebound_minutes,rebound_switch_offs\n";
  for (const refrigeration::CampaignEvent& e : r.events_list) {
    out << e.profile << "," << e.fleet_seed << "," << e.fault_rate << "," << e.hour << ","
        << e.capacity_kw << "," << e.contracted_kw << "," << e.window_minutes << ","
        << e.minutes_within << "," << e.worst_deviation << "," << e.violations << ","
        << e.rebound_peak << "," << e.suspect_cases << "," << e.safety_restarts << ","
        << e.mean_physical_shed_kw << "," << e.offer_sigma_kw << "," << e.error_floor_kw << ","
        << e.offer_rebound_aim << "," << e.rebound_minutes << "," << e.rebound_switch_offs << "\n";
  }
  out.close();
  return out ? Status::OK() : Status::IOError("writing " + path + " failed");
}

void PrintSummary(const refrigeration::CampaignResult& r) {
  std::printf("%-14s %6s %7s %9s %9s %6s %9s %8s\n", "profile", "events", "offered", "within",
              "minutes", "viol", "rebound", "worst_dev");
  for (const refrigeration::CampaignProfileSummary& s : r.profiles) {
    const double within = s.window_minutes > 0 ? 100.0 * s.minutes_within / s.window_minutes : 0.0;
    std::printf("%-14s %6d %7d %8.2f%% %9d %6d %8.1f%% %8.1f%%\n", s.profile.c_str(), s.events,
                s.offered, within, s.window_minutes, s.violations, 100 * s.worst_rebound,
                100 * s.worst_deviation);
  }
  std::printf(
      "%d events on %d fleets in %.1f s; %d violation(s); %d of %d replayed cases had a "
      "faulty sensor\n",
      r.events, r.fleets, r.seconds, r.violations, r.faulty_cases, r.cases_replayed);
  if (r.commissioning_events > 0) {
    std::printf(
        "before them, %d commissioning event(s) taught each fleet its error floors and rebound "
        "aims; %d of the "
        "violation(s) above in them\n",
        r.commissioning_events, r.commissioning_violations);
  }
  std::fflush(stdout);
}

nlohmann::json SummaryJson(const refrigeration::CampaignResult& r) {
  nlohmann::json j;
  j["events"] = r.events;
  j["fleets"] = r.fleets;
  j["violations"] = r.violations;
  j["seconds"] = r.seconds;
  j["cases_replayed"] = r.cases_replayed;
  j["faulty_cases"] = r.faulty_cases;
  j["commissioning_events"] = r.commissioning_events;
  j["commissioning_violations"] = r.commissioning_violations;
  j["profiles"] = nlohmann::json::array();
  for (const refrigeration::CampaignProfileSummary& s : r.profiles) {
    nlohmann::json offer = nlohmann::json::object();
    for (const auto& [hour, kw] : s.mean_offer_kw_by_hour) offer[std::to_string(hour)] = kw;
    j["profiles"].push_back({{"profile", s.profile},
                             {"events", s.events},
                             {"offered", s.offered},
                             {"window_minutes", s.window_minutes},
                             {"minutes_within", s.minutes_within},
                             {"violations", s.violations},
                             {"worst_rebound", s.worst_rebound},
                             {"rebound_over", s.rebound_over},
                             {"worst_deviation", s.worst_deviation},
                             {"mean_offer_kw_by_hour", offer}});
  }
  return j;
}

}  // namespace

void AddGridReplayCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* cmd = app.add_subcommand(
      "grid-replay",
      "Replay grid services (DC, DM, DR, FFR ... or custom profiles) with rotating dispatch on "
      "simulated fleets the model never saw, planning with the model's calibrated lower bounds: "
      "delivery within tolerance minute by minute, violations, rebound, what the fleet offers "
      "(docs/dispatch.md). Exit 1 on any temperature-limit violation.");
  auto f = std::make_shared<GridFlags>();
  cmd->add_option("--model", f->model,
                  "Model whose calibrated lower bounds plan the dispatch (name, name@version, "
                  "name:alias)")
      ->required();
  cmd->add_option("--events", f->o.min_events, "Replay at least this many events")
      ->capture_default_str();
  cmd->add_option("--profiles", f->profile_names,
                  "Profiles to replay (default: all built-in, or all in --profiles-file)")
      ->delimiter(',');
  cmd->add_option("--profiles-file", f->profiles_file,
                  "Custom profiles (JSON, docs/dispatch.md) instead of the built-in ones");
  cmd->add_option("--hours", f->o.hours, "Event start hours (UTC) on each fleet's second day")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--fault-rates", f->o.fault_rates,
                  "Share of cases with a faulty sensor, one per fleet in turn")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--stores", f->o.stores, "Stores per fleet")->capture_default_str();
  cmd->add_option("--cases-per-store", f->o.cases_per_store, "Cases per store")
      ->capture_default_str();
  cmd->add_option("--seed", f->o.seed, "Fleet k is simulated with seed + k")->capture_default_str();
  cmd->add_option("--precision-z", f->o.event.settings.precision_z,
                  "Offer only what the planner can hold: z times its expected error must fit in "
                  "the band its aim leaves (0: offer on energy and rebound room alone)")
      ->capture_default_str();
  cmd->add_flag("--no-commissioning", f->no_commissioning,
                "Offer without learnt error floors and rebound aims: no commissioning day before "
                "each fleet's counted events (docs/dispatch.md)");
  cmd->add_option("--csv", f->csv_path, "Write one row per event to this CSV file");
  cmd->add_option("--minutes-csv", f->minutes_path,
                  "Write every event's minutes (contracted, expected, delivered, physical shed, "
                  "cases off / recovering / switched) to this CSV file");
  cmd->add_flag("--json", f->json, "Print the summary as JSON");
  cmd->callback([&ctx, f] {
    ctx.action = [&ctx, f]() -> Status {
      refrigeration::CampaignOptions o = f->o;
      o.commissioning = !f->no_commissioning;
      NEMESYST_ASSIGN_OR_RETURN(o.profiles, ChosenProfiles(*f));
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kRead));
      NEMESYST_ASSIGN_OR_RETURN(ModelOptions mo, ConfiguredModelOptions(ctx));
      NEMESYST_ASSIGN_OR_RETURN(LoadedModel model, LoadModelForPrediction(*store, f->model, mo));
      o.bounds_for = [&model](const refrigeration::FleetSimulator& sim) {
        return refrigeration::ModelLowerBounds(model, sim);
      };
      int done = 0;
      std::ofstream minutes;
      if (!f->minutes_path.empty()) {
        minutes.open(f->minutes_path);
        if (!minutes) return Status::IOError("cannot write " + f->minutes_path);
        minutes << "profile,fleet_seed,hour,t_s,in_window,contracted_kw,expected_kw,sigma_kw,"
                   "delivered_kw,"
                   "physical_shed_kw,off,recovering,switched_off,restarted,safety_restarts\n";
      }
      o.on_event = [&](const refrigeration::RotationEventResult& e, uint64_t seed, double fault) {
        ++done;
        for (const refrigeration::RotationMinute& m : e.minutes) {
          if (!minutes.is_open()) break;
          minutes << e.profile << "," << seed << "," << e.hour_of_day << "," << m.t_s << ","
                  << m.in_window << "," << m.contracted_kw << "," << m.expected_kw << ","
                  << m.sigma_kw << "," << m.delivered_kw << "," << m.physical_shed_kw << ","
                  << m.off << "," << m.recovering << "," << m.switched_off << "," << m.restarted
                  << "," << m.safety_restarts << "\n";
        }
        ctx.logger->Log(
            LogLevel::kInfo, "grid-replay", "event",
            {{"n", std::to_string(done)},
             {"profile", e.profile},
             {"fleet_seed", std::to_string(seed)},
             {"fault_rate", std::to_string(fault)},
             {"hour", std::to_string(e.hour_of_day)},
             {"contracted_kw", std::to_string(e.contracted_kw)},
             {"within", std::to_string(e.minutes_within) + "/" + std::to_string(e.window_minutes)},
             {"violations", std::to_string(e.violations)}});
        for (const refrigeration::RotationCaseOutcome& c : e.cases) {
          if (!c.violation) continue;
          std::string periods;
          for (const refrigeration::OffPeriod& p : c.off_periods) {
            periods += (periods.empty() ? "" : " ") + std::to_string(static_cast<int>(p.start_s)) +
                       "-" + std::to_string(static_cast<int>(p.end_s)) + "s/bound " +
                       std::to_string(static_cast<int>(p.bound_s)) + "s/" +
                       std::string(refrigeration::RestartReasonName(p.ended_by));
          }
          ctx.logger->Log(LogLevel::kError, "grid-replay", "temperature-limit violation",
                          {{"device", c.device},
                           {"type", std::string(refrigeration::CaseTypeName(c.type))},
                           {"max_air_c", std::to_string(c.max_air_c)},
                           {"limit_c", std::to_string(c.limit_c)},
                           {"off", periods},
                           {"suspect", c.suspect ? c.suspect_reason : "no"}});
        }
      };
      NEMESYST_ASSIGN_OR_RETURN(refrigeration::CampaignResult r,
                                refrigeration::RunDispatchCampaign(o));
      if (!f->csv_path.empty()) NEMESYST_RETURN_IF_ERROR(WriteEventsCsv(f->csv_path, r));
      if (f->json) {
        std::cout << SummaryJson(r).dump(2) << "\n";
      } else {
        PrintSummary(r);
      }
      if (r.violations > 0) {
        return Status::FailedPrecondition(std::to_string(r.violations) +
                                          " temperature-limit violation(s)");
      }
      return Status::OK();
    };
  });
}

}  // namespace nemesyst::cli
