#include "refrigeration/report_writer.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "refrigeration/svg_plot.h"

namespace nemesyst::refrigeration {
namespace {

constexpr size_t kMaxScatterPoints = 1500;

nlohmann::json PredictorJson(const EvaluatedPredictor& p) {
  nlohmann::json by_type = nlohmann::json::object();
  for (const auto& [type, s] : p.by_case_type) {
    by_type[type] = {{"mae_s", s.mae_s}, {"p90_s", s.p90_s}, {"count", s.count}};
  }
  return {{"name", p.name},
          {"version", p.version},
          {"mae_s", p.overall.mae_s},
          {"p90_s", p.overall.p90_s},
          {"count", p.overall.count},
          {"train_seconds", p.train_seconds},
          {"infer_us_per_case_step", p.infer_us_per_case_step},
          {"train_loss", p.train_loss},
          {"val_mae_s", p.val_mae_s},
          {"by_case_type", by_type}};
}

std::string ScatterSvg(const DemoReport& r) {
  std::vector<PlotSeries> series;
  const EvaluatedPredictor* best_model = BestByMae(r.models);
  const EvaluatedPredictor* best_base = BestByMae(r.baselines);
  for (const EvaluatedPredictor* p : {best_model, best_base}) {
    if (p == nullptr) continue;
    PlotSeries s;
    s.name = p->name;
    const size_t n = std::min(p->truth_s.size(), p->predicted_s.size());
    const size_t stride = std::max<size_t>(1, (n + kMaxScatterPoints - 1) / kMaxScatterPoints);
    for (size_t i = 0; i < n; i += stride) {  // deterministic thinning keeps the SVG small
      s.x.push_back(p->truth_s[i]);
      s.y.push_back(p->predicted_s[i]);
    }
    series.push_back(std::move(s));
  }
  return ScatterChartSvg({"Predicted vs true safe off-time (held-out stores)", "true safe_off_s",
                          "predicted safe_off_s", 640, 480, true},
                         series, true);
}

std::string ErrorByTypeSvg(const DemoReport& r) {
  std::set<std::string> types;
  for (const auto* list : {&r.models, &r.baselines}) {
    for (const auto& p : *list) {
      for (const auto& [t, s] : p.by_case_type) types.insert(t);
    }
  }
  std::vector<std::string> categories(types.begin(), types.end());
  std::vector<PlotSeries> series;
  for (const auto* list : {&r.models, &r.baselines}) {
    for (const auto& p : *list) {
      PlotSeries s;
      s.name = p.name;
      for (const auto& t : categories) {
        auto it = p.by_case_type.find(t);
        s.y.push_back(it == p.by_case_type.end() ? std::nan("") : it->second.mae_s);
      }
      series.push_back(std::move(s));
    }
  }
  return BarChartSvg({"MAE by case type (held-out stores)", "case type", "MAE, s", 720, 420, true},
                     categories, series);
}

std::string LossSvg(const DemoReport& r) {
  std::vector<PlotSeries> series;
  for (const auto& p : r.models) {
    PlotSeries s;
    s.name = p.name;
    for (size_t e = 0; e < p.train_loss.size(); ++e) {
      s.x.push_back(static_cast<double>(e + 1));
      s.y.push_back(p.train_loss[e]);
    }
    series.push_back(std::move(s));
  }
  return LineChartSvg({"Training loss per epoch", "epoch", "loss (normalised MSE)", 640, 400, true},
                      series);
}

std::string DispatchSvg(const DemoReport& r) {
  const DispatchReplaySummary& d = r.dispatch;
  PlotSeries delivered{"delivered kW", d.time_s, d.delivered_kw_at, false, true};
  for (double& t : delivered.x) t /= 60.0;
  PlotSeries request{"requested kW", {}, {}, true, false};
  if (!delivered.x.empty()) {
    request.x = {delivered.x.front(), delivered.x.back()};
    request.y = {d.requested_kw, d.requested_kw};
  }
  return LineChartSvg(
      {"Dispatch replay: shed power vs request", "minutes from event start", "kW", 640, 400, true},
      {delivered, request});
}

std::string GridSvg(const DemoReport& r) {
  const GridServiceTrace& t = r.grid_trace;
  PlotSeries delivered{"delivered kW (settled)", t.t_min, t.delivered_kw, false, true};
  PlotSeries physical{"physical shed kW", t.t_min, t.physical_shed_kw, false, true};
  // The contract and its band, over the window only.
  std::vector<PlotSeries> series = {delivered, physical};
  if (t.contracted_kw > 0 && !t.t_min.empty()) {
    const double end = t.window_minutes;
    series.push_back({"contracted", {0, end}, {t.contracted_kw, t.contracted_kw}, true, false});
    series.push_back({"+" + Fixed(100 * t.tolerance, 0) + " %",
                      {0, end},
                      {t.contracted_kw * (1 + t.tolerance), t.contracted_kw * (1 + t.tolerance)},
                      true,
                      false});
    series.push_back({"−" + Fixed(100 * t.tolerance, 0) + " %",
                      {0, end},
                      {t.contracted_kw * (1 - t.tolerance), t.contracted_kw * (1 - t.tolerance)},
                      true,
                      false});
  }
  return LineChartSvg({"Grid service " + t.profile + " at " + Fixed(t.hour, 0) + ":00, " + t.where +
                           ": delivered vs contracted",
                       "minutes from the instruction", "kW", 720, 420, false},
                      series);
}

void GridMarkdown(std::string& md, const DemoReport& r) {
  if (r.grid.empty() && r.lower_coverage.risk <= 0) return;
  md += "## Grid services (rotating dispatch)\n\n";
  const LowerBoundCoverage& c = r.lower_coverage;
  if (c.risk > 0) {
    md += "Calibrated lower bound of the production model (risk " + Fixed(100 * c.risk, 0) +
          " %): on the held-out stores the true safe off-time fell below it in **" +
          Fixed(100 * c.miss_rate, 2) + " %** of " + std::to_string(c.windows) +
          " windows (mean bound " + Fixed(c.mean_lower_s, 0) + " s, mean truth " +
          Fixed(c.mean_truth_s, 0) + " s; by case type:";
    const char* separator = " ";
    for (const auto& [type, rate] : c.miss_rate_by_case_type) {
      md += separator + type + " " + Fixed(100 * rate, 1) + " %";
      separator = ", ";
    }
    md += ").";
    if (c.calibration_stores > 0) {
      md += " Its margins were fitted on " + std::to_string(c.calibration_stores) +
            " validation store(s) and measured on " + std::to_string(c.test_stores) +
            " held-out store(s).";
      // The rate is a property of store draws: ±1.3 points at 15 + 15 (docs/calibration.md).
      if (std::min(c.calibration_stores, c.test_stores) < 15) {
        md +=
            " With fewer than about 15 of each, the realised rate can land several points from "
            "the risk, depending on which stores they are; the method's coverage at 15 + 15 "
            "stores is in docs/calibration.md.";
      }
    }
    md += "\n\n";
  }
  for (const GridServiceSection& g : r.grid) {
    md += "### " + g.where + "\n\n" + std::to_string(g.events) + " events";
    if (g.commissioning_events > 0) {
      md += " (after " + std::to_string(g.commissioning_events) +
            " commissioning events the day before, which set each profile's error floor and "
            "rebound aim)";
    }
    md += ", " + std::to_string(g.violations) + " violation(s), " + Fixed(g.seconds, 1) + " s.\n\n";
    md +=
        "| profile | events | offered | mean offer, kW | minutes within ±5 % | worst deviation | "
        "worst rebound | violations |\n|---|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const GridServiceRow& row : g.rows) {
      md += "| " + row.profile + " | " + std::to_string(row.events) + " | " +
            std::to_string(row.offered) + " | " + Fixed(row.mean_offer_kw, 2) + " | " +
            (row.window_minutes > 0
                 ? std::to_string(row.minutes_within) + " / " + std::to_string(row.window_minutes) +
                       " (" + Fixed(100.0 * row.minutes_within / row.window_minutes, 1) + " %)"
                 : std::string("—")) +
            " | " + Fixed(100 * row.worst_deviation, 1) + " % | " +
            Fixed(100 * row.worst_rebound, 1) + " % | " + std::to_string(row.violations) + " |\n";
    }
    md += "\nWhat the fleet offers (kW) by start hour:\n\n| profile |";
    for (double h : g.hours) md += " " + Fixed(h, 0) + ":00 |";
    md += "\n|---|";
    for (size_t i = 0; i < g.hours.size(); ++i) md += "---:|";
    md += "\n";
    for (const auto& [profile, kw] : g.offer_kw_by_hour) {
      md += "| " + profile + " |";
      for (double v : kw) md += " " + Fixed(v, 2) + " |";
      md += "\n";
    }
    md += "\n";
  }
  const GridServiceTrace& t = r.grid_trace;
  if (!t.t_min.empty()) {
    md += "![grid service](grid_service.svg)\n\nIn that event (" + t.profile + " at " +
          Fixed(t.hour, 0) + ":00, " + Fixed(t.contracted_kw, 1) + " kW) " +
          std::to_string(t.touched_cases) +
          " cases were switched off at some point; all were back to normal running " +
          Fixed(t.available_max_min, 0) + " min after the window (median " +
          Fixed(t.available_median_min, 0) + " min).\n\n";
  }
}

void TableRow(std::string& md, const EvaluatedPredictor& p, bool model) {
  md += "| " + p.name + " | " + (model ? "model" : "baseline") + " | " +
        (p.version.empty() ? "—" : p.version) + " | " + Fixed(p.overall.mae_s, 1) + " | " +
        Fixed(p.overall.p90_s, 1) + " | " + Fixed(p.train_seconds, 2) + " | " +
        Fixed(p.infer_us_per_case_step, 3) + " |\n";
}

}  // namespace

Status WriteText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::IOError("cannot create " + path.string());
  out << text;
  out.close();
  if (!out) return Status::IOError("cannot write " + path.string());
  return Status::OK();
}

const EvaluatedPredictor* BestByMae(const std::vector<EvaluatedPredictor>& list) {
  const EvaluatedPredictor* best = nullptr;
  for (const auto& p : list) {
    if (best == nullptr || p.overall.mae_s < best->overall.mae_s) best = &p;
  }
  return best;
}

std::string SummaryJson(const DemoReport& r) {
  nlohmann::json j;
  j["seed"] = r.seed;
  j["fleet"] = r.fleet;
  j["models"] = nlohmann::json::array();
  for (const auto& p : r.models) j["models"].push_back(PredictorJson(p));
  j["baselines"] = nlohmann::json::array();
  for (const auto& p : r.baselines) j["baselines"].push_back(PredictorJson(p));
  j["streaming"] = nlohmann::json::array();
  for (const auto& p : r.streaming) j["streaming"].push_back(PredictorJson(p));
  const EvaluatedPredictor* bm = BestByMae(r.models);
  const EvaluatedPredictor* bb = BestByMae(r.baselines);
  j["best_model"] = bm ? bm->name : "";
  j["best_baseline"] = bb ? bb->name : "";
  j["mae_reduction"] =
      (bm && bb && bb->overall.mae_s > 0) ? 1.0 - bm->overall.mae_s / bb->overall.mae_s : 0.0;
  const DispatchReplaySummary& d = r.dispatch;
  j["dispatch"] = {{"requested_kw", d.requested_kw}, {"selected_kw", d.selected_kw},
                   {"delivered_kw", d.delivered_kw}, {"min_delivered_kw", d.min_delivered_kw},
                   {"violations", d.violations},     {"cases_chosen", d.cases_chosen},
                   {"duration_s", d.duration_s},     {"margin_s", d.margin_s}};
  j["lower_bound"] = {{"risk", r.lower_coverage.risk},
                      {"windows", r.lower_coverage.windows},
                      {"miss_rate", r.lower_coverage.miss_rate},
                      {"miss_rate_by_case_type", r.lower_coverage.miss_rate_by_case_type},
                      {"calibration_stores", r.lower_coverage.calibration_stores},
                      {"test_stores", r.lower_coverage.test_stores}};
  j["grid"] = nlohmann::json::array();
  for (const GridServiceSection& g : r.grid) {
    nlohmann::json rows = nlohmann::json::array();
    for (const GridServiceRow& row : g.rows) {
      rows.push_back({{"profile", row.profile},
                      {"events", row.events},
                      {"offered", row.offered},
                      {"mean_offer_kw", row.mean_offer_kw},
                      {"window_minutes", row.window_minutes},
                      {"minutes_within", row.minutes_within},
                      {"violations", row.violations},
                      {"worst_deviation", row.worst_deviation},
                      {"worst_rebound", row.worst_rebound},
                      {"rebound_over", row.rebound_over}});
    }
    j["grid"].push_back({{"where", g.where},
                         {"cases", g.cases},
                         {"events", g.events},
                         {"commissioning_events", g.commissioning_events},
                         {"violations", g.violations},
                         {"seconds", g.seconds},
                         {"hours", g.hours},
                         {"offer_kw_by_hour", g.offer_kw_by_hour},
                         {"profiles", rows}});
  }
  j["targets"] = nlohmann::json::array();
  bool passed = true;
  for (const auto& t : r.targets) {
    j["targets"].push_back({{"name", t.name}, {"passed", t.passed}, {"detail", t.detail}});
    passed = passed && t.passed;
  }
  j["passed"] = passed;
  j["steps"] = nlohmann::json::array();
  for (const auto& [step, seconds] : r.step_seconds) {
    j["steps"].push_back({{"step", step}, {"seconds", seconds}});
  }
  j["elapsed_seconds"] = r.elapsed_seconds;
  j["deployment"] = nlohmann::json::object();
  for (const auto& [k, v] : r.deployment) j["deployment"][k] = v;
  return j.dump(2) + "\n";
}

std::string ReportMarkdown(const DemoReport& r) {
  std::string md = "# Nemesyst demo report\n\n";
  md += "Seed " + std::to_string(r.seed) + ". Fleet:";
  for (const auto& [k, v] : r.fleet) md += " " + k + " = " + v + ";";
  md += "\n\nEvaluated on held-out **stores** (no row of those stores was seen in training).\n\n";
  md += "## Models and baselines\n\n";
  md +=
      "| name | kind | version | MAE, s | p90 abs error, s | training, s | inference, µs per "
      "case-step |\n|---|---|---|---:|---:|---:|---:|\n";
  for (const auto& p : r.models) TableRow(md, p, true);
  for (const auto& p : r.baselines) TableRow(md, p, false);
  for (const auto& p : r.streaming) TableRow(md, p, true);
  const EvaluatedPredictor* bm = BestByMae(r.models);
  const EvaluatedPredictor* bb = BestByMae(r.baselines);
  if (bm && bb && bb->overall.mae_s > 0) {
    md += "\nBest model **" + bm->name + "** (MAE " + Fixed(bm->overall.mae_s, 1) +
          " s) vs best baseline **" + bb->name + "** (MAE " + Fixed(bb->overall.mae_s, 1) +
          " s): " + Fixed(100.0 * (1.0 - bm->overall.mae_s / bb->overall.mae_s), 1) + " % lower.\n";
  }
  md +=
      "\n![predicted vs true](predicted_vs_true.svg)\n\n![error by case "
      "type](error_by_case_type.svg)"
      "\n\n![training loss](training_loss.svg)\n\n";
  const DispatchReplaySummary& d = r.dispatch;
  md +=
      "## Dispatch replay\n\n| requested kW | selected kW | delivered kW (mean) | delivered kW "
      "(min) | cases | duration, min | margin, s | violations |\n|---:|---:|---:|---:|---:|---:|"
      "---:|---:|\n| " +
      Fixed(d.requested_kw, 1) + " | " + Fixed(d.selected_kw, 1) + " | " +
      Fixed(d.delivered_kw, 1) + " | " + Fixed(d.min_delivered_kw, 1) + " | " +
      std::to_string(d.cases_chosen) + " | " + Fixed(d.duration_s / 60, 1) + " | " +
      Fixed(d.margin_s, 0) + " | " + std::to_string(d.violations) +
      " |\n\n![dispatch replay](dispatch_replay.svg)\n\n";
  if (!d.cases.empty()) {
    md +=
        "| chosen case | predicted safe off, s | true safe off, s | shed kW | max air, °C | limit, "
        "°C | violation |\n|---|---:|---:|---:|---:|---:|---|\n";
    for (const DispatchCaseRow& c : d.cases) {
      md += "| " + c.device + " | " + Fixed(c.predicted_safe_off_s, 0) + " | " +
            Fixed(c.true_safe_off_s, 0) + " | " + Fixed(c.shed_kw, 2) + " | " +
            Fixed(c.max_air_c, 1) + " | " + Fixed(c.limit_c, 1) + " | " +
            (c.violation ? "**yes**" : "no") + " |\n";
    }
    md += "\n";
  }
  GridMarkdown(md, r);
  if (!r.deployment.empty()) {
    md +=
        "## The fleet as processes\n\nA hub and one store node per store, separate processes on "
        "loopback (measured on this machine, with every process sharing its cores).\n\n| what | "
        "measured |\n|---|---|\n";
    for (const auto& [k, v] : r.deployment) md += "| " + k + " | " + v + " |\n";
    md += "\n";
  }
  md += "## Targets\n\n| target | result | detail |\n|---|---|---|\n";
  for (const auto& t : r.targets) {
    md += "| " + t.name + " | " + (t.passed ? "pass" : "**FAIL**") + " | " + t.detail + " |\n";
  }
  md += "\n## Steps\n\n| step | seconds |\n|---|---:|\n";
  for (const auto& [step, seconds] : r.step_seconds)
    md += "| " + step + " | " + Fixed(seconds, 2) + " |\n";
  md += "\nTotal: " + Fixed(r.elapsed_seconds, 1) + " s.\n";
  return md;
}

Status WriteReport(const DemoReport& report, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("report: cannot create " + dir.string() + ": " + ec.message());
  NEMESYST_RETURN_IF_ERROR(WriteText(dir / "report.md", ReportMarkdown(report)));
  NEMESYST_RETURN_IF_ERROR(WriteText(dir / "summary.json", SummaryJson(report)));
  NEMESYST_RETURN_IF_ERROR(WriteText(dir / "predicted_vs_true.svg", ScatterSvg(report)));
  NEMESYST_RETURN_IF_ERROR(WriteText(dir / "error_by_case_type.svg", ErrorByTypeSvg(report)));
  NEMESYST_RETURN_IF_ERROR(WriteText(dir / "training_loss.svg", LossSvg(report)));
  NEMESYST_RETURN_IF_ERROR(WriteText(dir / "dispatch_replay.svg", DispatchSvg(report)));
  NEMESYST_RETURN_IF_ERROR(WriteText(dir / "grid_service.svg", GridSvg(report)));
  return Status::OK();
}

}  // namespace nemesyst::refrigeration
