// What the demo measured, as data: every model and baseline evaluated on held-out stores, the
// dispatch replay, the grid services replayed with rotating dispatch, and the targets checked.
// Written out by the report writer (report.md, summary.json, SVG plots) and returned by RunDemo.
#ifndef NEMESYST_REFRIGERATION_REPORT_H_
#define NEMESYST_REFRIGERATION_REPORT_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nemesyst/predictions.h"

namespace nemesyst::refrigeration {

struct EvaluatedPredictor {
  std::string name;     // "lstm", "rnn", "gan_lstm", "mean", "ridge", "warmup_slope"
  std::string version;  // registry reference "lstm@3" for models; empty for baselines
  ErrorStats overall;
  std::map<std::string, ErrorStats> by_case_type;
  double train_seconds = 0;
  double infer_us_per_case_step = 0;
  std::vector<double> train_loss;   // per epoch (models only)
  std::vector<double> val_mae_s;    // per epoch validation MAE (models only; may be empty)
  std::vector<double> truth_s;      // held-out rows, for the scatter plot
  std::vector<double> predicted_s;  // same length as truth_s
};

struct DispatchCaseRow {
  std::string device;
  double predicted_safe_off_s = 0;
  double true_safe_off_s = 0;  // the simulator's label at the event start
  double shed_kw = 0;
  double max_air_c = 0;
  double limit_c = 0;
  bool violation = false;
};

struct DispatchReplaySummary {
  double requested_kw = 0;
  double selected_kw = 0;       // sum of the chosen cases' power at the start
  double delivered_kw = 0;      // mean shed power over the event
  double min_delivered_kw = 0;  // lowest shed power during the event
  int violations = 0;           // chosen cases whose air crossed their limit during the event
  int cases_chosen = 0;
  double duration_s = 0;
  double margin_s = 0;
  std::vector<double> time_s;           // replay timeline, seconds from the event start
  std::vector<double> delivered_kw_at;  // shed power at each time_s
  std::vector<DispatchCaseRow> cases;   // the chosen cases
};

// Grid services replayed with rotating dispatch (docs/dispatch.md), per profile.
struct GridServiceRow {
  std::string profile;
  int events = 0;
  int offered = 0;           // events the fleet made an offer in
  double mean_offer_kw = 0;  // over every event (0 when not offered)
  int window_minutes = 0;    // over offered events
  int minutes_within = 0;    // delivered within the profile's tolerance
  int violations = 0;
  double worst_deviation = 0;  // max |delivered − contracted| / contracted
  double worst_rebound = 0;    // max draw above baseline after the window / baseline
  int rebound_over = 0;        // offered events past the profile's rebound limit
};

struct GridServiceSection {
  std::string where;  // "held-out stores, day 14" / "unseen fleet (seed 1042, 2400 cases)"
  int cases = 0;
  int events = 0;
  int violations = 0;  // in the events and the commissioning events
  // Replayed the day before to learn each profile's error floor (CampaignResult).
  int commissioning_events = 0;
  double seconds = 0;
  std::vector<double> hours;
  std::vector<GridServiceRow> rows;
  std::map<std::string, std::vector<double>> offer_kw_by_hour;  // profile -> one per `hours`
};

// One event minute by minute (the report's plot).
struct GridServiceTrace {
  std::string profile;
  std::string where;
  double hour = 0;
  double contracted_kw = 0;
  double tolerance = 0.05;
  int window_minutes = 0;
  std::vector<double> t_min, delivered_kw, physical_shed_kw;
  // When the cases it switched off were back to normal running, minutes after the window's end.
  int touched_cases = 0;
  double available_median_min = 0, available_max_min = 0;
};

// How often the truth fell below the calibrated lower bound on the held-out stores.
struct LowerBoundCoverage {
  double risk = 0;  // the bound's α (0: the model carries none)
  size_t windows = 0;
  double miss_rate = 0;  // share of windows whose true safe off-time < lower_s
  std::map<std::string, double> miss_rate_by_case_type;
  double mean_lower_s = 0, mean_truth_s = 0;
  // The stores its margins were fitted on and the held-out stores it was measured on: the rate
  // varies with which stores they are, by several points when they are few (docs/calibration.md).
  int calibration_stores = 0, test_stores = 0;
};

struct TargetCheck {
  std::string name;
  bool passed = false;
  std::string detail;
};

struct DemoReport {
  int64_t seed = 0;
  std::map<std::string, std::string> fleet;  // description lines: "stores" -> "8", ...
  std::vector<EvaluatedPredictor> models;
  std::vector<EvaluatedPredictor> baselines;
  // Streaming prediction of the production model (errors only; not part of the comparison).
  std::vector<EvaluatedPredictor> streaming;
  DispatchReplaySummary dispatch;
  LowerBoundCoverage lower_coverage;
  std::vector<GridServiceSection> grid;
  GridServiceTrace grid_trace;
  std::vector<TargetCheck> targets;
  // The fleet form: what the deployment measured (replication lag, serving latency, the hot
  // swap, the dispatch's round trip), in order.
  std::vector<std::pair<std::string, std::string>> deployment;
  std::vector<std::pair<std::string, double>> step_seconds;  // demo steps and their wall time
  double elapsed_seconds = 0;
};

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_REPORT_H_
