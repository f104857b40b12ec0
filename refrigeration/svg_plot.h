// Small, dependency-free SVG charts for the demo report: line charts (loss curves, dispatch
// power over time), scatter plots (predicted vs true) and grouped bar charts (error by case type).
// The output is a complete standalone SVG document (viewable in a browser, embeddable in Markdown).
//
// Contract: every function returns valid SVG for any input, including empty or non-finite data
// (non-finite points are skipped; an empty chart shows its axes and "no data").
// Thread-safety: pure functions.
#ifndef NEMESYST_REFRIGERATION_SVG_PLOT_H_
#define NEMESYST_REFRIGERATION_SVG_PLOT_H_

#include <string>
#include <vector>

namespace nemesyst::refrigeration {

struct PlotSeries {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;  // same length as x (extra points of the longer one are ignored)
  bool dashed = false;    // line charts: draw dashed (e.g. a request level)
  bool step = false;      // line charts: draw as a step function (value holds until the next x)
};

struct ChartOptions {
  std::string title;
  std::string x_label;
  std::string y_label;
  int width_px = 640;
  int height_px = 400;
  bool y_from_zero = false;  // force the y axis to include 0
};

std::string LineChartSvg(const ChartOptions& options, const std::vector<PlotSeries>& series);

// `diagonal` draws the y = x reference line (perfect prediction).
std::string ScatterChartSvg(const ChartOptions& options, const std::vector<PlotSeries>& series,
                            bool diagonal);

// One group of bars per category; series[k].y[i] is the bar of series k in category i
// (series[k].x is ignored).
std::string BarChartSvg(const ChartOptions& options, const std::vector<std::string>& categories,
                        const std::vector<PlotSeries>& series);

// "<" ">" "&" "\"" escaped for SVG/XML text.
std::string XmlEscape(const std::string& text);

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_SVG_PLOT_H_
