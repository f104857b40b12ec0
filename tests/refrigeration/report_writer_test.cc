#include "refrigeration/report_writer.h"

#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "refrigeration/svg_plot.h"
#include "tests/testing/temp_dir.h"

namespace nemesyst::refrigeration {
namespace {

DemoReport SampleReport() {
  DemoReport r;
  r.seed = 7;
  r.fleet["stores"] = "2";
  EvaluatedPredictor lstm;
  lstm.name = "lstm";
  lstm.version = "lstm@2";
  lstm.overall = {100, 180, 4};
  lstm.by_case_type["chilled_multideck"] = {90, 150, 2};
  lstm.by_case_type["frozen_well"] = {110, 200, 2};
  lstm.train_seconds = 12.5;
  lstm.infer_us_per_case_step = 3.25;
  lstm.train_loss = {1.0, 0.5, 0.25};
  lstm.truth_s = {100, 200, 300, 400};
  lstm.predicted_s = {120, 190, 330, 380};
  EvaluatedPredictor mean;
  mean.name = "mean";
  mean.overall = {400, 700, 4};
  mean.by_case_type["frozen_well"] = {400, 700, 4};
  r.models = {lstm};
  r.baselines = {mean};
  r.dispatch.requested_kw = 10;
  r.dispatch.delivered_kw = 9.5;
  r.dispatch.violations = 0;
  r.dispatch.time_s = {0, 60, 120};
  r.dispatch.delivered_kw_at = {10, 9.5, 9};
  r.targets = {{"mae", true, "75 % lower"}, {"violations", false, "1 violation"}};
  return r;
}

TEST(ReportWriterTest, SummaryJsonHasTheFigures) {
  auto j = nlohmann::json::parse(SummaryJson(SampleReport()));
  EXPECT_EQ(j["seed"], 7);
  ASSERT_EQ(j["models"].size(), 1u);
  EXPECT_EQ(j["models"][0]["name"], "lstm");
  EXPECT_DOUBLE_EQ(j["models"][0]["mae_s"].get<double>(), 100);
  EXPECT_DOUBLE_EQ(j["models"][0]["p90_s"].get<double>(), 180);
  EXPECT_DOUBLE_EQ(j["models"][0]["train_seconds"].get<double>(), 12.5);
  EXPECT_DOUBLE_EQ(j["models"][0]["infer_us_per_case_step"].get<double>(), 3.25);
  EXPECT_EQ(j["baselines"][0]["name"], "mean");
  EXPECT_EQ(j["best_model"], "lstm");
  EXPECT_DOUBLE_EQ(j["mae_reduction"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(j["dispatch"]["requested_kw"].get<double>(), 10);
  EXPECT_DOUBLE_EQ(j["dispatch"]["delivered_kw"].get<double>(), 9.5);
  EXPECT_EQ(j["dispatch"]["violations"], 0);
  EXPECT_EQ(j["passed"], false) << "one target failed";
}

TEST(ReportWriterTest, WritesEveryFile) {
  testing::TempDir dir;
  const auto out = dir.path() / "report";
  ASSERT_TRUE(WriteReport(SampleReport(), out).ok());
  for (const char* f : {"report.md", "summary.json", "predicted_vs_true.svg",
                        "error_by_case_type.svg", "training_loss.svg", "dispatch_replay.svg"}) {
    const std::string text = testing::ReadFile((out / f).string());
    EXPECT_FALSE(text.empty()) << f;
    if (std::string(f).ends_with(".svg")) {
      EXPECT_EQ(text.rfind("<svg", 0), 0u) << f;
      EXPECT_NE(text.find("</svg>"), std::string::npos) << f;
    }
  }
  const std::string md = testing::ReadFile((out / "report.md").string());
  EXPECT_NE(md.find("| lstm | model | lstm@2 | 100.0 | 180.0 | 12.50 | 3.250 |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("75.0 % lower"), std::string::npos) << md;
  EXPECT_NE(md.find("**FAIL**"), std::string::npos);
}

TEST(ReportWriterTest, ReportsAnUnwritableDirectory) {
  testing::TempDir dir;
  testing::WriteFile(dir.Sub("file"), "x");
  Status s = WriteReport(SampleReport(), dir.path() / "file" / "sub");
  EXPECT_EQ(s.code(), StatusCode::kIOError);
}

TEST(SvgPlotTest, ChartsAreWellFormedForEmptyAndNonFiniteData) {
  PlotSeries s{"s", {0, 1, std::nan("")}, {1, std::nan(""), 3}};
  for (const std::string& svg :
       {LineChartSvg({"t"}, {}), LineChartSvg({"t"}, {s}), ScatterChartSvg({"t"}, {s}, true),
        BarChartSvg({"t"}, {"a", "b"}, {s}), BarChartSvg({"t"}, {}, {})}) {
    EXPECT_EQ(svg.rfind("<svg", 0), 0u);
    EXPECT_NE(svg.find("</svg>"), std::string::npos);
    EXPECT_EQ(svg.find("nan"), std::string::npos) << svg;
    EXPECT_EQ(svg.find("inf"), std::string::npos) << svg;
  }
  EXPECT_NE(LineChartSvg({"t"}, {}).find("no data"), std::string::npos);
  EXPECT_EQ(XmlEscape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
}

TEST(SvgPlotTest, LineChartPlacesPointsInsideThePlot) {
  PlotSeries s{"loss", {1, 2, 3}, {3, 2, 1}};
  const std::string svg = LineChartSvg({"loss", "epoch", "loss", 640, 400, true}, {s});
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find(">loss</text>"), std::string::npos);
}

}  // namespace
}  // namespace nemesyst::refrigeration
