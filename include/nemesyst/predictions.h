// Predictions as data: the rows `nemesyst predict` writes and `nemesyst dispatch` reads, and the
// error statistics a set of predictions is judged by.
//
// Prediction files:
//
// CSV (header row required, columns in this order; `label_s` empty when the input had no label,
// `lower_s` empty when the model carries no calibrated lower bound):
//   device,timestamp_us,prediction_s,label_s,lower_s
//   store-0001/case-03,1767571200000000,1843.2,1790,1411.0
// Files written before `lower_s` existed (header device,timestamp_us,prediction_s,label_s, four
// columns per row) still read, with no lower bound.
// JSON lines (one object per line; "label_s" and "lower_s" omitted when unknown):
//   {"device":"store-0001/case-03","timestamp_us":1767571200000000,"prediction_s":1843.2,"label_s":1790,"lower_s":1411.0}
//
// lower_s is the calibrated lower bound of the safe off-time at the model's risk α
// (nemesyst/lower_bound.h): on held-out stores the truth falls below it in about α of windows.
//
// Readers validate every row; errors name the source, the line and the field.
// Thread-safety: pure functions.
#ifndef NEMESYST_PREDICTIONS_H_
#define NEMESYST_PREDICTIONS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/export.h"
#include "nemesyst/status.h"

namespace nemesyst {

struct PredictionRow {
  std::string device;
  int64_t timestamp_us = 0;
  double prediction_s = 0;
  std::optional<double> label_s;
  // Calibrated lower bound of the safe off-time (nemesyst/lower_bound.h); empty when the model
  // has no calibration.
  std::optional<double> lower_s;
};

enum class PredictionFormat { kCsv, kJsonLines };

// "csv" | "jsonl" (also "json").
Result<PredictionFormat> ParsePredictionFormat(std::string_view name);

std::string PredictionCsvHeader();  // "device,timestamp_us,prediction_s,label_s,lower_s\n"
std::string FormatPrediction(const PredictionRow& row, PredictionFormat format);  // one line + \n

// Parses a whole file's text; the format is detected from the first non-empty character
// ('{' = JSON lines, else CSV). `source` names the file in errors.
Result<std::vector<PredictionRow>> ParsePredictions(std::string_view text, std::string_view source);
Result<std::vector<PredictionRow>> ReadPredictionsFile(const std::string& path);

// The latest row (by timestamp) of each device, sorted by device.
std::vector<PredictionRow> LatestPerDevice(const std::vector<PredictionRow>& rows);

// ---- Error statistics ---------------------------------------------------------------------------
// Mean and 90th-percentile absolute error, in seconds, overall and by group (case type, store ...).
// p90 is the linear-interpolation percentile of the absolute errors (the "type 7" definition used
// by numpy and R's default): sorted errors e[0..n-1], position h = 0.9·(n−1),
// p90 = e[⌊h⌋] + (h − ⌊h⌋)·(e[⌊h⌋+1] − e[⌊h⌋]).

struct ErrorStats {
  double mae_s = 0;  // mean absolute error, seconds
  double p90_s = 0;  // 90th percentile of the absolute error, seconds
  size_t count = 0;
};

// Linear-interpolation percentile (q in [0, 1]) of `values`; 0 for an empty input.
double Percentile(std::vector<double> values, double q);

// Errors of `predicted` against `truth`; the vectors must have the same, non-zero length.
Result<ErrorStats> ComputeErrorStats(const std::vector<double>& truth,
                                     const std::vector<double>& predicted);

// The same, per value of `group` (e.g. the case type of each row). All three vectors have the
// same length. Groups are returned in name order.
Result<std::map<std::string, ErrorStats>> ComputeErrorStatsByGroup(
    const std::vector<double>& truth, const std::vector<double>& predicted,
    const std::vector<std::string>& group);

}  // namespace nemesyst

#endif  // NEMESYST_PREDICTIONS_H_
