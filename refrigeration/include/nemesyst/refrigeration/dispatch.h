// `nemesyst dispatch`: a demand-response request and the latest predictions in, the cases to
// switch off out; optionally the event replayed in the fleet simulator.
//
// Each case's load (what switching it off sheds) is estimated from its readings over the two hours
// before the event (SheddableKw: cooling-cycle mean minus the always-on share), read from the
// store stream the predictions came from — what a dispatcher knows; the event time is the latest
// prediction time. The replay needs the simulated fleet's parameters:
// the `fleet.json` the demo writes ({"seed","stores","cases_per_store","days","start_us",
// "interval_s"}).
//
// Thread-safety: one job per call.
#ifndef NEMESYST_REFRIGERATION_DISPATCH_JOB_H_
#define NEMESYST_REFRIGERATION_DISPATCH_JOB_H_

#include <optional>
#include <string>

#include "nemesyst/predictions.h"
#include "nemesyst/refrigeration/dispatch_replay.h"
#include "nemesyst/refrigeration/dispatch_selection.h"
#include "nemesyst/refrigeration/simulator.h"
#include "nemesyst/status.h"
#include "nemesyst/store.h"

namespace nemesyst::refrigeration {

// The safety margin to use with predictions of `model_ref`: the larger of `asked_s` and the
// model's validation over-prediction p99 (registry metric "val_overpredict_p99_s"; absent: asked).
Result<double> DispatchMarginFor(const Store& store, const std::string& model_ref, double asked_s);

struct DispatchJobOptions {
  std::string predictions_path;  // `nemesyst predict` output (CSV or JSON lines)
  DispatchRequest request;
  // The model the predictions came from (optional): the margin is raised to its validation
  // over-prediction p99 (DispatchMarginFor).
  std::string model;
  std::string power_stream = "fleet";  // where each case's recent power is read
  double power_window_s = 7200;
  bool replay = false;
  std::string fleet_path;  // fleet.json (replay only)
  int timeline_slots = 10;
};

struct DispatchJobResult {
  int64_t event_us = 0;
  DispatchPlan plan;
  std::optional<DispatchReplay> replay;
};

// Parses a fleet.json; errors name the file and the key.
Result<SimulatorOptions> ReadFleetFile(const std::string& path);

Result<DispatchJobResult> RunDispatchJob(const Store& store, const DispatchJobOptions& options);

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_DISPATCH_JOB_H_
