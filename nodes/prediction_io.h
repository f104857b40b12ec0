// Prediction files: what `nemesyst predict` writes and `nemesyst dispatch` reads.
//
// CSV (header row required, columns in this order; `label_s` empty when the input had no label):
//   device,timestamp_us,prediction_s,label_s
//   store-0001/case-03,1767571200000000,1843.2,1790
// JSON lines (one object per line; "label_s" omitted when unknown):
//   {"device":"store-0001/case-03","timestamp_us":1767571200000000,"prediction_s":1843.2,"label_s":1790}
//
// Readers validate every row; errors name the source, the line and the field.
// Thread-safety: pure functions.
#ifndef NEMESYST_NODES_PREDICTION_IO_H_
#define NEMESYST_NODES_PREDICTION_IO_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/status.h"

namespace nemesyst::nodes {

struct PredictionRow {
  std::string device;
  int64_t timestamp_us = 0;
  double prediction_s = 0;
  std::optional<double> label_s;
};

enum class PredictionFormat { kCsv, kJsonLines };

// "csv" | "jsonl" (also "json").
Result<PredictionFormat> ParsePredictionFormat(std::string_view name);

std::string PredictionCsvHeader();  // "device,timestamp_us,prediction_s,label_s\n"
std::string FormatPrediction(const PredictionRow& row, PredictionFormat format);  // one line + \n

// Parses a whole file's text; the format is detected from the first non-empty character
// ('{' = JSON lines, else CSV). `source` names the file in errors.
Result<std::vector<PredictionRow>> ParsePredictions(std::string_view text, std::string_view source);
Result<std::vector<PredictionRow>> ReadPredictionsFile(const std::string& path);

// The latest row (by timestamp) of each device, sorted by device.
std::vector<PredictionRow> LatestPerDevice(const std::vector<PredictionRow>& rows);

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_PREDICTION_IO_H_
