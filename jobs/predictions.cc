#include "nemesyst/predictions.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "common/read_file.h"

namespace nemesyst {
namespace {

std::string Where(std::string_view source, size_t line) {
  return std::string(source) + ":" + std::to_string(line);
}

bool ParseInt64(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseDouble(std::string_view s, double* out) {
  if (s.empty()) return false;
  std::string copy(s);
  char* end = nullptr;
  *out = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size() && std::isfinite(*out);
}

std::vector<std::string_view> SplitCsv(std::string_view line) {
  std::vector<std::string_view> cells;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    cells.push_back(
        line.substr(start, comma == std::string_view::npos ? line.npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return cells;
}

Status ParseCsvLine(std::string_view line, std::string_view source, size_t n, PredictionRow* row) {
  const auto cells = SplitCsv(line);
  if (cells.size() != 4) {
    return Status::InvalidArgument(Where(source, n) + ": expected 4 columns, got " +
                                   std::to_string(cells.size()));
  }
  if (cells[0].empty()) return Status::InvalidArgument(Where(source, n) + ": device is empty");
  row->device = std::string(cells[0]);
  if (!ParseInt64(cells[1], &row->timestamp_us)) {
    return Status::InvalidArgument(Where(source, n) + ": timestamp_us '" + std::string(cells[1]) +
                                   "' is not an integer");
  }
  if (!ParseDouble(cells[2], &row->prediction_s)) {
    return Status::InvalidArgument(Where(source, n) + ": prediction_s '" + std::string(cells[2]) +
                                   "' is not a finite number");
  }
  row->label_s.reset();
  if (!cells[3].empty()) {
    double label = 0;
    if (!ParseDouble(cells[3], &label)) {
      return Status::InvalidArgument(Where(source, n) + ": label_s '" + std::string(cells[3]) +
                                     "' is not a finite number");
    }
    row->label_s = label;
  }
  return Status::OK();
}

Status ParseJsonLine(std::string_view line, std::string_view source, size_t n, PredictionRow* row) {
  try {
    const auto j = nlohmann::json::parse(line);
    if (!j.is_object()) return Status::InvalidArgument(Where(source, n) + ": not a JSON object");
    for (const char* key : {"device", "timestamp_us", "prediction_s"}) {
      if (!j.contains(key)) {
        return Status::InvalidArgument(Where(source, n) + ": missing field '" + key + "'");
      }
    }
    if (!j["device"].is_string() || j["device"].get<std::string>().empty()) {
      return Status::InvalidArgument(Where(source, n) +
                                     ": field 'device' must be a non-empty string");
    }
    if (!j["timestamp_us"].is_number_integer()) {
      return Status::InvalidArgument(Where(source, n) +
                                     ": field 'timestamp_us' must be an integer");
    }
    if (!j["prediction_s"].is_number() || !std::isfinite(j["prediction_s"].get<double>())) {
      return Status::InvalidArgument(Where(source, n) + ": field 'prediction_s' must be a number");
    }
    row->device = j["device"].get<std::string>();
    row->timestamp_us = j["timestamp_us"].get<int64_t>();
    row->prediction_s = j["prediction_s"].get<double>();
    row->label_s.reset();
    if (j.contains("label_s") && !j["label_s"].is_null()) {
      if (!j["label_s"].is_number()) {
        return Status::InvalidArgument(Where(source, n) + ": field 'label_s' must be a number");
      }
      row->label_s = j["label_s"].get<double>();
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(Where(source, n) + ": " + e.what());
  }
  return Status::OK();
}

}  // namespace

Result<PredictionFormat> ParsePredictionFormat(std::string_view name) {
  if (name == "csv") return PredictionFormat::kCsv;
  if (name == "jsonl" || name == "json") return PredictionFormat::kJsonLines;
  return Status::InvalidArgument("unknown prediction format '" + std::string(name) +
                                 "' (expected csv or jsonl)");
}

std::string PredictionCsvHeader() { return "device,timestamp_us,prediction_s,label_s\n"; }

std::string FormatPrediction(const PredictionRow& row, PredictionFormat format) {
  char pred[32], label[32] = "";
  std::snprintf(pred, sizeof(pred), "%.1f", row.prediction_s);
  if (row.label_s) std::snprintf(label, sizeof(label), "%.1f", *row.label_s);
  if (format == PredictionFormat::kCsv) {
    return row.device + "," + std::to_string(row.timestamp_us) + "," + pred + "," + label + "\n";
  }
  std::string out = "{\"device\":" + nlohmann::json(row.device).dump() +
                    ",\"timestamp_us\":" + std::to_string(row.timestamp_us) +
                    ",\"prediction_s\":" + pred;
  if (row.label_s) out += std::string(",\"label_s\":") + label;
  return out + "}\n";
}

Result<std::vector<PredictionRow>> ParsePredictions(std::string_view text,
                                                    std::string_view source) {
  std::vector<PredictionRow> rows;
  const size_t first = text.find_first_not_of(" \t\r\n");
  const bool json = first != std::string_view::npos && text[first] == '{';
  size_t n = 0, pos = 0;
  bool header_seen = false;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++n;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (!json && !header_seen) {
      if (line != "device,timestamp_us,prediction_s,label_s") {
        return Status::InvalidArgument(Where(source, n) +
                                       ": expected the header device,timestamp_us,prediction_s,"
                                       "label_s");
      }
      header_seen = true;
      continue;
    }
    PredictionRow row;
    NEMESYST_RETURN_IF_ERROR(json ? ParseJsonLine(line, source, n, &row)
                                  : ParseCsvLine(line, source, n, &row));
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::vector<PredictionRow>> ReadPredictionsFile(const std::string& path) {
  NEMESYST_ASSIGN_OR_RETURN(const std::string text, ReadWholeFile(path, "predictions file"));
  return ParsePredictions(text, path);
}

std::vector<PredictionRow> LatestPerDevice(const std::vector<PredictionRow>& rows) {
  std::map<std::string, const PredictionRow*> latest;
  for (const PredictionRow& r : rows) {
    auto& slot = latest[r.device];
    if (slot == nullptr || r.timestamp_us >= slot->timestamp_us) slot = &r;
  }
  std::vector<PredictionRow> out;
  for (const auto& [device, row] : latest) out.push_back(*row);
  return out;
}

}  // namespace nemesyst
