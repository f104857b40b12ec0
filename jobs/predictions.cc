#include "nemesyst/predictions.h"

#include <charconv>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "common/number_format.h"
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

// An optional number cell: empty = unknown.
Status ParseOptionalCell(std::string_view cell, std::string_view field, std::string_view source,
                         size_t n, std::optional<double>* out) {
  out->reset();
  if (cell.empty()) return Status::OK();
  double value = 0;
  if (!ParseDouble(cell, &value)) {
    return Status::InvalidArgument(Where(source, n) + ": " + std::string(field) + " '" +
                                   std::string(cell) + "' is not a finite number");
  }
  *out = value;
  return Status::OK();
}

// `columns`: 4 (files written before lower_s) or 5, as the file's header says.
Status ParseCsvLine(std::string_view line, std::string_view source, size_t n, size_t columns,
                    PredictionRow* row) {
  const auto cells = SplitCsv(line);
  if (cells.size() != columns) {
    return Status::InvalidArgument(Where(source, n) + ": expected " + std::to_string(columns) +
                                   " columns, got " + std::to_string(cells.size()));
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
  NEMESYST_RETURN_IF_ERROR(ParseOptionalCell(cells[3], "label_s", source, n, &row->label_s));
  row->lower_s.reset();
  if (columns > 4) {
    NEMESYST_RETURN_IF_ERROR(ParseOptionalCell(cells[4], "lower_s", source, n, &row->lower_s));
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
    row->lower_s.reset();
    if (j.contains("lower_s") && !j["lower_s"].is_null()) {
      if (!j["lower_s"].is_number() || !std::isfinite(j["lower_s"].get<double>())) {
        return Status::InvalidArgument(Where(source, n) + ": field 'lower_s' must be a number");
      }
      row->lower_s = j["lower_s"].get<double>();
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

std::string PredictionCsvHeader() { return "device,timestamp_us,prediction_s,label_s,lower_s\n"; }

std::string FormatPrediction(const PredictionRow& row, PredictionFormat format) {
  const std::string pred = Fixed(row.prediction_s, 1);
  const std::string label = row.label_s ? Fixed(*row.label_s, 1) : "";
  const std::string lower = row.lower_s ? Fixed(*row.lower_s, 1) : "";
  if (format == PredictionFormat::kCsv) {
    return row.device + "," + std::to_string(row.timestamp_us) + "," + pred + "," + label + "," +
           lower + "\n";
  }
  std::string out = "{\"device\":" + nlohmann::json(row.device).dump() +
                    ",\"timestamp_us\":" + std::to_string(row.timestamp_us) +
                    ",\"prediction_s\":" + pred;
  if (row.label_s) out += std::string(",\"label_s\":") + label;
  if (row.lower_s) out += std::string(",\"lower_s\":") + lower;
  return out + "}\n";
}

Result<std::vector<PredictionRow>> ParsePredictions(std::string_view text,
                                                    std::string_view source) {
  std::vector<PredictionRow> rows;
  const size_t first = text.find_first_not_of(" \t\r\n");
  const bool json = first != std::string_view::npos && text[first] == '{';
  size_t n = 0, pos = 0;
  size_t columns = 0;  // CSV: from the header (0 until it is read)
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++n;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (!json && columns == 0) {
      // Files written before lower_s existed have the 4-column header; they still read.
      if (line == "device,timestamp_us,prediction_s,label_s,lower_s") {
        columns = 5;
      } else if (line == "device,timestamp_us,prediction_s,label_s") {
        columns = 4;
      } else {
        return Status::InvalidArgument(Where(source, n) +
                                       ": expected the header device,timestamp_us,prediction_s,"
                                       "label_s,lower_s");
      }
      continue;
    }
    PredictionRow row;
    NEMESYST_RETURN_IF_ERROR(json ? ParseJsonLine(line, source, n, &row)
                                  : ParseCsvLine(line, source, n, columns, &row));
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
