#include "refrigeration/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "common/number_format.h"

namespace nemesyst::refrigeration {
namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);
constexpr int kLeft = 70, kRight = 20, kTop = 40, kBottom = 55;

// Coordinates and sizes to a tenth of a pixel.
std::string Num(double v) { return Fixed(v, 1); }

std::string TickLabel(double v) {
  char buf[32];
  const double a = std::fabs(v);
  if (a != 0 && (a >= 1e5 || a < 1e-2)) {
    std::snprintf(buf, sizeof(buf), "%.1e", v);
  } else if (a >= 100 || v == std::floor(v)) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.2g", v);
  }
  return buf;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void Add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return !(lo <= hi); }
  // Widens to "nice" bounds and returns the tick step.
  double Nice() {
    if (empty()) lo = 0, hi = 1;
    if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
    const double raw = (hi - lo) / 5;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double norm = raw / mag;
    const double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
    lo = std::floor(lo / step) * step;
    hi = std::ceil(hi / step) * step;
    return step;
  }
};

class Canvas {
 public:
  Canvas(const ChartOptions& o, Range x, Range y, bool x_ticks) : o_(o), x_(x), y_(y) {
    if (o.y_from_zero) y_.Add(0);
    y_step_ = y_.Nice();
    if (x_ticks) x_step_ = x_.Nice();
    pw_ = o.width_px - kLeft - kRight;
    ph_ = o.height_px - kTop - kBottom;
    out_ = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(o.width_px) +
           "\" height=\"" + std::to_string(o.height_px) + "\" viewBox=\"0 0 " +
           std::to_string(o.width_px) + " " + std::to_string(o.height_px) +
           "\" font-family=\"sans-serif\" font-size=\"12\">\n"
           "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    Text(o.width_px / 2.0, 22, o.title, "middle", 15);
    Text(kLeft + pw_ / 2.0, o.height_px - 12, o.x_label, "middle", 12);
    out_ += "<text transform=\"translate(16," + Num(kTop + ph_ / 2.0) +
            ") rotate(-90)\" text-anchor=\"middle\">" + XmlEscape(o.y_label) + "</text>\n";
    for (double v = y_.lo; v <= y_.hi + y_step_ * 1e-6; v += y_step_) {
      Line(kLeft, Y(v), kLeft + pw_, Y(v), "#e0e0e0");
      Text(kLeft - 6, Y(v) + 4, TickLabel(v), "end", 11);
    }
    if (x_ticks) {
      for (double v = x_.lo; v <= x_.hi + x_step_ * 1e-6; v += x_step_) {
        Line(X(v), kTop + ph_, X(v), kTop + ph_ + 5, "#333");
        Text(X(v), kTop + ph_ + 18, TickLabel(v), "middle", 11);
      }
    }
    out_ += "<rect x=\"" + Num(kLeft) + "\" y=\"" + Num(kTop) + "\" width=\"" + Num(pw_) +
            "\" height=\"" + Num(ph_) + "\" fill=\"none\" stroke=\"#333\"/>\n";
  }
  double X(double v) const { return kLeft + (v - x_.lo) / (x_.hi - x_.lo) * pw_; }
  double Y(double v) const { return kTop + ph_ - (v - y_.lo) / (y_.hi - y_.lo) * ph_; }
  double plot_width() const { return pw_; }
  double plot_height() const { return ph_; }
  const Range& y() const { return y_; }
  void Line(double x1, double y1, double x2, double y2, const std::string& color,
            const std::string& extra = "") {
    out_ += "<line x1=\"" + Num(x1) + "\" y1=\"" + Num(y1) + "\" x2=\"" + Num(x2) + "\" y2=\"" +
            Num(y2) + "\" stroke=\"" + color + "\"" + extra + "/>\n";
  }
  void Text(double x, double y, const std::string& text, const char* anchor, int size) {
    out_ += "<text x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" text-anchor=\"" + anchor +
            "\" font-size=\"" + std::to_string(size) + "\">" + XmlEscape(text) + "</text>\n";
  }
  void Raw(const std::string& s) { out_ += s; }
  void Legend(const std::vector<std::string>& names) {
    double y = kTop + 14;
    for (size_t i = 0; i < names.size(); ++i, y += 16) {
      const double x = kLeft + pw_ - 150;
      out_ += "<rect x=\"" + Num(x) + "\" y=\"" + Num(y - 9) +
              "\" width=\"10\" height=\"10\" fill=\"" + kPalette[i % kPaletteSize] + "\"/>\n";
      Text(x + 14, y, names[i], "start", 11);
    }
  }
  std::string Finish(bool empty) {
    if (empty) Text(kLeft + pw_ / 2.0, kTop + ph_ / 2.0, "no data", "middle", 14);
    return out_ + "</svg>\n";
  }

 private:
  ChartOptions o_;
  Range x_, y_;
  double x_step_ = 1, y_step_ = 1, pw_ = 0, ph_ = 0;
  std::string out_;
};

size_t Points(const PlotSeries& s) { return std::min(s.x.size(), s.y.size()); }

std::vector<std::string> Names(const std::vector<PlotSeries>& series) {
  std::vector<std::string> names;
  for (const auto& s : series) names.push_back(s.name);
  return names;
}

}  // namespace

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string LineChartSvg(const ChartOptions& options, const std::vector<PlotSeries>& series) {
  Range x, y;
  for (const auto& s : series) {
    for (size_t i = 0; i < Points(s); ++i) {
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) x.Add(s.x[i]), y.Add(s.y[i]);
    }
  }
  const bool empty = x.empty();
  Canvas canvas(options, x, y, true);
  for (size_t k = 0; k < series.size(); ++k) {
    const PlotSeries& s = series[k];
    std::string points;
    double prev_y = 0;
    bool first = true;
    for (size_t i = 0; i < Points(s); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      if (s.step && !first) points += Num(canvas.X(s.x[i])) + "," + Num(canvas.Y(prev_y)) + " ";
      points += Num(canvas.X(s.x[i])) + "," + Num(canvas.Y(s.y[i])) + " ";
      prev_y = s.y[i];
      first = false;
    }
    if (points.empty()) continue;
    canvas.Raw(std::string("<polyline fill=\"none\" stroke-width=\"1.8\" stroke=\"") +
               kPalette[k % kPaletteSize] + "\"" + (s.dashed ? " stroke-dasharray=\"6,4\"" : "") +
               " points=\"" + points + "\"/>\n");
  }
  canvas.Legend(Names(series));
  return canvas.Finish(empty);
}

std::string ScatterChartSvg(const ChartOptions& options, const std::vector<PlotSeries>& series,
                            bool diagonal) {
  Range x, y;
  for (const auto& s : series) {
    for (size_t i = 0; i < Points(s); ++i) {
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) x.Add(s.x[i]), y.Add(s.y[i]);
    }
  }
  const bool empty = x.empty();
  if (diagonal && !empty) {  // same range on both axes so y = x is the 45° line
    x.Add(y.lo), x.Add(y.hi), y.Add(x.lo), y.Add(x.hi);
  }
  Canvas canvas(options, x, y, true);
  if (diagonal && !empty) {
    const double lo = std::max(x.lo, canvas.y().lo), hi = std::min(x.hi, canvas.y().hi);
    canvas.Line(canvas.X(lo), canvas.Y(lo), canvas.X(hi), canvas.Y(hi), "#555",
                " stroke-dasharray=\"4,4\"");
  }
  for (size_t k = 0; k < series.size(); ++k) {
    const PlotSeries& s = series[k];
    for (size_t i = 0; i < Points(s); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      canvas.Raw("<circle cx=\"" + Num(canvas.X(s.x[i])) + "\" cy=\"" + Num(canvas.Y(s.y[i])) +
                 "\" r=\"1.8\" fill=\"" + kPalette[k % kPaletteSize] +
                 "\" fill-opacity=\"0.5\"/>\n");
    }
  }
  canvas.Legend(Names(series));
  return canvas.Finish(empty);
}

std::string BarChartSvg(const ChartOptions& options, const std::vector<std::string>& categories,
                        const std::vector<PlotSeries>& series) {
  Range x, y;
  x.Add(0), x.Add(1);
  y.Add(0);
  bool any = false;
  for (const auto& s : series) {
    for (size_t i = 0; i < s.y.size() && i < categories.size(); ++i) {
      if (std::isfinite(s.y[i])) y.Add(s.y[i]), any = true;
    }
  }
  Canvas canvas(options, x, y, false);
  const double group_w = categories.empty() ? 0 : canvas.plot_width() / categories.size();
  const double bar_w = series.empty() ? 0 : group_w * 0.8 / series.size();
  for (size_t i = 0; i < categories.size(); ++i) {
    const double gx = kLeft + i * group_w;
    canvas.Text(gx + group_w / 2, kTop + canvas.plot_height() + 18, categories[i], "middle", 11);
    for (size_t k = 0; k < series.size(); ++k) {
      if (i >= series[k].y.size() || !std::isfinite(series[k].y[i])) continue;
      const double top = canvas.Y(series[k].y[i]), base = canvas.Y(0);
      canvas.Raw("<rect x=\"" + Num(gx + group_w * 0.1 + k * bar_w) + "\" y=\"" +
                 Num(std::min(top, base)) + "\" width=\"" + Num(bar_w * 0.95) + "\" height=\"" +
                 Num(std::fabs(base - top)) + "\" fill=\"" + kPalette[k % kPaletteSize] + "\"/>\n");
    }
  }
  canvas.Legend(Names(series));
  return canvas.Finish(!any);
}

}  // namespace nemesyst::refrigeration
