// What the demo measured, as data: every model and baseline evaluated on held-out stores, the
// dispatch replay, and the targets checked. Written out by the report writer (report.md,
// summary.json, SVG plots) and returned by RunDemo.
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
  std::vector<TargetCheck> targets;
  // The fleet form: what the deployment measured (replication lag, serving latency, the hot
  // swap, the dispatch's round trip), in order.
  std::vector<std::pair<std::string, std::string>> deployment;
  std::vector<std::pair<std::string, double>> step_seconds;  // demo steps and their wall time
  double elapsed_seconds = 0;
};

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_REPORT_H_
