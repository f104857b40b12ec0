// The demo's grid-service step (docs/demo.md, docs/dispatch.md): every built-in service profile
// replayed with rotating dispatch, planned with the production model's calibrated lower bounds,
// on the held-out stores (their last day) and on one unseen fleet of aggregation size (its own
// seed and case mix, some faulty sensors). Fills report->grid and report->grid_trace.
//
// Thread-safety: one call at a time per model.
#ifndef NEMESYST_REFRIGERATION_DEMO_GRID_H_
#define NEMESYST_REFRIGERATION_DEMO_GRID_H_

#include <vector>

#include "nemesyst/predict_job.h"
#include "nemesyst/refrigeration/demo.h"
#include "nemesyst/refrigeration/report.h"
#include "nemesyst/refrigeration/simulator.h"
#include "nemesyst/status.h"

namespace nemesyst::refrigeration {

Status RunDemoGridServices(LoadedModel& model, const FleetSimulator& demo_fleet,
                           const std::vector<int>& held_out_cases, const DemoOptions& options,
                           DemoReport* report);

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_DEMO_GRID_H_
