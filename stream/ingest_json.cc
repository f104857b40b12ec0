// IngestOptions to and from JSON (ingest.h): how a client hands a node its ingest options.
#include <nlohmann/json.hpp>

#include "common/json_number.h"
#include "nemesyst/ingest.h"

namespace nemesyst {
namespace {

std::string_view FormatName(IngestFormat f) {
  return f == IngestFormat::kCsv ? "csv" : f == IngestFormat::kJsonLines ? "jsonl" : "auto";
}

std::string_view TimestampName(TimestampFormat f) {
  switch (f) {
    case TimestampFormat::kIso8601:
      return "iso";
    case TimestampFormat::kEpochSeconds:
      return "s";
    case TimestampFormat::kEpochMillis:
      return "ms";
    case TimestampFormat::kEpochMicros:
      return "us";
    case TimestampFormat::kEpochNanos:
      return "ns";
    case TimestampFormat::kAuto:
      break;
  }
  return "auto";
}

}  // namespace

std::string IngestOptionsToJson(const IngestOptions& o) {
  return nlohmann::json{{"stream", o.stream},
                        {"format", FormatName(o.format)},
                        {"device_column", o.device_column},
                        {"timestamp_column", o.timestamp_column},
                        {"timestamp_format", TimestampName(o.timestamp_format)},
                        {"map", o.rename},
                        {"ignore_unknown", o.ignore_unknown},
                        {"batch_rows", o.batch_rows},
                        {"on_error", o.on_error == OnError::kDeadLetter ? "dead-letter" : "reject"},
                        {"dry_run", o.dry_run}}
      .dump();
}

Result<IngestOptions> IngestOptionsFromJson(std::string_view json_text) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, false);
  if (!j.is_object()) return Status::InvalidArgument("ingest options: not a JSON object");
  IngestOptions o;
  std::string key;
  try {
    key = "stream";
    o.stream = j.value(key, o.stream);
    key = "format";
    NEMESYST_ASSIGN_OR_RETURN(o.format, ParseIngestFormat(j.value(key, std::string("auto"))));
    key = "device_column";
    o.device_column = j.value(key, o.device_column);
    key = "timestamp_column";
    o.timestamp_column = j.value(key, o.timestamp_column);
    key = "timestamp_format";
    NEMESYST_ASSIGN_OR_RETURN(o.timestamp_format,
                              ParseTimestampFormat(j.value(key, std::string("auto"))));
    key = "map";
    if (j.contains(key)) o.rename = j.at(key).get<std::map<std::string, std::string>>();
    key = "ignore_unknown";
    o.ignore_unknown = j.value(key, o.ignore_unknown);
    key = "batch_rows";
    o.batch_rows = JsonInteger(j, key, o.batch_rows);
    key = "on_error";
    NEMESYST_ASSIGN_OR_RETURN(o.on_error, ParseOnError(j.value(key, std::string("reject"))));
    key = "dry_run";
    o.dry_run = j.value(key, o.dry_run);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument("ingest options: " + key + ": " + e.what());
  }
  if (o.stream.empty()) return Status::InvalidArgument("ingest options: stream: required");
  return o;
}

}  // namespace nemesyst
