// The demo's report directory:
//   report.md            the table of every model and baseline, the dispatch replay, the targets
//   summary.json         the same figures for scripts (format below)
//   predicted_vs_true.svg, error_by_case_type.svg, training_loss.svg, dispatch_replay.svg
//
// summary.json (all times in seconds unless the name says otherwise):
//   { "seed": 42, "fleet": {...free-form description...},
//     "models":    [{"name","version","mae_s","p90_s","train_seconds","infer_us_per_case_step",
//                    "by_case_type": {"<type>": {"mae_s","p90_s","count"}}, "count"}],
//     "baselines": [same members; version "" ],
//     "best_model": "<name>", "best_baseline": "<name>", "mae_reduction": 0.41,
//     "dispatch": {"requested_kw","selected_kw","delivered_kw","min_delivered_kw","violations",
//                  "cases_chosen","duration_s","margin_s"},
//     "targets": [{"name","passed","detail"}], "passed": true, "elapsed_seconds": 123.4 }
//
// Thread-safety: pure function of its input (writes only below `dir`).
#ifndef NEMESYST_REFRIGERATION_REPORT_WRITER_H_
#define NEMESYST_REFRIGERATION_REPORT_WRITER_H_

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/number_format.h"
#include "nemesyst/refrigeration/report.h"
#include "nemesyst/status.h"

namespace nemesyst::refrigeration {

// Writes `text` to `path`, created or truncated; the error names the file.
Status WriteText(const std::filesystem::path& path, const std::string& text);

// Best (lowest MAE) entry of `list`, or nullptr when empty.
const EvaluatedPredictor* BestByMae(const std::vector<EvaluatedPredictor>& list);

// Creates `dir` if needed and writes every file. Errors name the file that failed.
Status WriteReport(const DemoReport& report, const std::filesystem::path& dir);

// The summary.json document alone (also what WriteReport writes).
std::string SummaryJson(const DemoReport& report);
// The report.md document alone.
std::string ReportMarkdown(const DemoReport& report);

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_REPORT_WRITER_H_
