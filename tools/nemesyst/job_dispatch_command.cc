// `nemesyst dispatch`: choose the cases to switch off for a demand-response request from the
// latest predictions; --replay replays the event in the simulator
// (include/nemesyst/refrigeration/dispatch.h).
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "nemesyst/refrigeration/dispatch.h"
#include "tools/nemesyst/job_cli.h"

namespace nemesyst::cli {

void AddDispatchCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* cmd = app.add_subcommand(
      "dispatch",
      "Choose cases to switch off to shed P kW for D minutes with a safety margin, from the "
      "latest predictions; --replay replays the event in the fleet simulator.");
  struct Flags {
    double duration_min = 20;
    bool json = false;
    refrigeration::DispatchJobOptions o;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("--predictions", f->o.predictions_path,
                  "Predictions file (`nemesyst predict` output, CSV or JSON lines)")
      ->required();
  cmd->add_option("--shed-kw", f->o.request.shed_kw, "Power to shed, kW")->required();
  cmd->add_option("--duration-min", f->duration_min, "How long to hold the cut, minutes")
      ->capture_default_str();
  cmd->add_option("--margin-s", f->o.request.margin_s, "Safety margin on every prediction, s")
      ->capture_default_str();
  cmd->add_option("--model", f->o.model,
                  "Model the predictions came from: the margin is raised to its validation "
                  "over-prediction p99");
  cmd->add_option("--power-stream", f->o.power_stream, "Stream holding the cases' power readings")
      ->capture_default_str();
  cmd->add_flag("--replay", f->o.replay, "Replay the event in the simulator");
  cmd->add_option("--fleet", f->o.fleet_path, "fleet.json of the simulated fleet (--replay)");
  cmd->add_flag("--json", f->json, "Print the plan (and replay) as JSON");
  cmd->callback([&ctx, f] {
    ctx.action = [&ctx, f]() -> Status {
      refrigeration::DispatchJobOptions o = f->o;
      o.request.duration_s = f->duration_min * 60;
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kRead));
      NEMESYST_ASSIGN_OR_RETURN(refrigeration::DispatchJobResult r,
                                refrigeration::RunDispatchJob(*store, o));
      const refrigeration::DispatchPlan& p = r.plan;
      if (f->json) {
        nlohmann::json j;
        j["event_us"] = r.event_us;
        j["requested_kw"] = p.requested_kw;
        j["selected_kw"] = p.selected_kw;
        j["met"] = p.met;
        j["eligible"] = p.eligible;
        j["chosen"] = nlohmann::json::array();
        for (const auto& c : p.chosen) {
          j["chosen"].push_back({{"device", c.device},
                                 {"predicted_safe_off_s", c.predicted_safe_off_s},
                                 {"power_kw", c.power_kw},
                                 {"slack_s", c.slack_s}});
        }
        if (r.replay) {
          const auto& s = r.replay->summary;
          j["replay"] = {{"requested_kw", s.requested_kw},
                         {"delivered_kw", s.delivered_kw},
                         {"min_delivered_kw", s.min_delivered_kw},
                         {"violations", s.violations}};
        }
        std::cout << j.dump(2) << "\n";
      } else {
        std::printf("%-24s %14s %9s %9s\n", "case", "predicted_s", "kW", "slack_s");
        for (const auto& c : p.chosen) {
          std::printf("%-24s %14.0f %9.2f %9.0f\n", c.device.c_str(), c.predicted_safe_off_s,
                      c.power_kw, c.slack_s);
        }
        std::printf("requested %.2f kW, selected %.2f kW from %zu case(s) (%zu eligible)%s\n",
                    p.requested_kw, p.selected_kw, p.chosen.size(), p.eligible,
                    p.met ? "" : "  -- NOT MET");
        if (r.replay) {
          const auto& s = r.replay->summary;
          std::printf("replay: delivered %.2f kW (min %.2f kW), %d violation(s)\n", s.delivered_kw,
                      s.min_delivered_kw, s.violations);
        }
        std::fflush(stdout);
      }
      if (!p.met) {
        return Status::FailedPrecondition("the eligible cases cannot shed the requested power");
      }
      if (r.replay && r.replay->summary.violations > 0) {
        return Status::FailedPrecondition("the replay crossed temperature limits");
      }
      return Status::OK();
    };
  });
}

}  // namespace nemesyst::cli
