// `nemesyst demo`: the whole case study end to end, in a fresh directory, on the embedded store.
//
//   1. simulate a fleet (stores × cases × days, 1-minute samples) and ingest it into stream
//      `fleet` of <dir>/store;
//   2. train, each with `learners` parallel learners on one consumer group: an LSTM, a vanilla
//      RNN, a conditional GAN of sensor windows, and an LSTM trained on real + GAN windows;
//   3. evaluate every model's `candidate` on held-out STORES (the pipeline's test split) against
//      the baselines (mean, ridge, warm-up slope), on the same rows;
//   4. promote the model with the best validation MAE to `production`;
//   5. streaming prediction with the production model over the held-out stores (and check it
//      against the windowed predictions where they must agree);
//   6. a dispatch replay: a request the held-out stores can meet, cases chosen from the
//      production model's predictions at the event time, replayed in the simulator; then the
//      grid services (DC, DM, DR, FFR ...) replayed with rotating dispatch on the held-out
//      stores and on an unseen fleet, planned with the model's calibrated lower bounds;
//   7. write <dir>/report (report.md, summary.json, SVG plots) and check the targets.
//
// With DemoOptions::node_binary set it runs the fleet form: the same steps, with the stores, the
// hub and the dispatch as separate node processes (see DemoOptions).
//
// The specs it trains with are written to <dir>/specs so every step can be rerun by hand
// (docs/demo.md). Deterministic for a seed (except wall-clock times).
#ifndef NEMESYST_REFRIGERATION_DEMO_JOB_H_
#define NEMESYST_REFRIGERATION_DEMO_JOB_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nemesyst/logger.h"
#include "nemesyst/model.h"
#include "nemesyst/refrigeration/report.h"
#include "nemesyst/status.h"

namespace nemesyst::refrigeration {

struct DemoOptions {
  std::string dir = "./nemesyst-demo";
  uint64_t seed = 42;
  bool force = false;  // remove an existing non-empty `dir` first (else: FailedPrecondition)
  // Fleet.
  int stores = 8;
  int cases_per_store = 24;
  double days = 14;
  int train_stores = 5, validation_stores = 1, test_stores = 2;
  // Windows and training.
  int window_length = 20;
  int window_stride = 10;
  int hidden = 32;
  int epochs = 4;
  int gan_epochs = 2;
  int gan_hidden = 16;
  int gan_window_stride = 60;  // the GAN sees a window per case-hour
  int learners = 2;
  int batch_size = 64;
  double learning_rate = 2e-3;
  double augment_fraction = 0.25;
  uint32_t records_per_claim = 20000;  // ≈ 14 case-days per claim
  double fit_hours = 24;               // normalisation statistics and validation set: the first day
  // Risk of the calibrated lower bound each regressor carries (docs/calibration.md): on held-out
  // stores the true safe off-time falls below it in about this share of windows.
  double lower_risk = 0.05;
  // Dispatch.
  double dispatch_duration_s = 20 * 60;
  double dispatch_margin_s = 300;
  double request_fraction = 0.5;  // of what the held-out cases could safely shed
  // The fleet form (docs/demo.md): with `node_binary` (the nemesyst CLI) the deployment runs as
  // processes on loopback — a hub and one store node per simulated store. Each store node gets
  // its store's history through append requests and replicates it; the hub trains every model
  // (control `train`), the first one is served at once, the last `live_hours` of the data
  // arrive live (an instant every `live_pace_ms`, the last `live_hold_back` after the swap)
  // while the best model is deployed (a hot swap under the feed), and the dispatch goes through
  // the hub's control plane to the held-out stores. Empty: everything in this process.
  std::string node_binary;
  // "key=value" settings every node process gets (the demo's kernel settings, say); the hub's
  // node id is node_id below.
  std::vector<std::string> node_settings;
  double live_hours = 2;
  int live_pace_ms = 50;
  int live_hold_back = 30;
  // Grid services (docs/dispatch.md): every built-in profile replayed with rotating dispatch at
  // these hours, on the held-out stores' last day and on an unseen fleet of `grid_stores` stores
  // (its own seed and case mix; `grid_fault_rate` of its cases with a faulty sensor).
  // `grid_stores` 0: no unseen fleet — the held-out stores only, and the two targets judged on the
  // unseen fleet (±5 %, rebound) are not judged; for a test whose unseen fleet another judges.
  std::vector<double> grid_hours = {3, 21};
  int grid_stores = 100;
  double grid_fault_rate = 0.05;
  // Each grid fleet first replays the same profiles and hours the day before, its commissioning
  // day, and offers with the error floors and rebound aims learnt there
  // (CampaignOptions::commissioning).
  bool grid_commissioning = true;
  // Targets.
  double target_mae_reduction = 0.25;
  // Grid services on the unseen fleet: delivered within each profile's tolerance (±5 %) at this
  // share of the offered window minutes.
  double target_within_fraction = 0.99;
  double target_seconds = 600;

  // Backend and kernel threads of every model the demo trains and runs (each parallel learner
  // runs model_options.kernel.threads).
  ModelOptions model_options;
  std::string node_id = "local";  // recorded in each model version's lineage

  Logger* logger = nullptr;
  std::function<void(const std::string& step)> on_step;
  // Called from learner threads; `epochs` is that model's total.
  std::function<void(const std::string& model, int learner, int epochs, const TrainProgress& p)>
      on_progress;
};

struct DemoResult {
  DemoReport report;
  std::string report_dir;
  bool passed = false;
};

// Errors: a step failed (the Status names it). A run whose targets are missed returns OK with
// passed == false (the report says which).
Result<DemoResult> RunDemo(const DemoOptions& options);

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_DEMO_JOB_H_
