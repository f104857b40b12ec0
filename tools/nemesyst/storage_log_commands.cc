// `nemesyst log create|append|tail|stat|retain`: streams of the store from the command line.
#include <toml++/toml.h>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <limits>
#include <sstream>

#include "nemesyst/store_json.h"
#include "tools/nemesyst/storage_cli.h"

namespace nemesyst::cli {
namespace {

// "name:type[:unit[:min[:max]]]", e.g. "temperature_c:float32:degC:-50:150" (empty parts skipped).
Result<FieldSpec> ParseFieldFlag(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ':');) parts.push_back(part);
  if (parts.empty() || parts.size() > 5) {
    return Status::InvalidArgument("--field '" + text + "': expected name:type[:unit[:min[:max]]]");
  }
  FieldSpec spec;
  spec.name = parts[0];
  if (parts.size() > 1 && !parts[1].empty()) {
    NEMESYST_ASSIGN_OR_RETURN(spec.type, ParseFieldType(parts[1]));
  }
  if (parts.size() > 2) spec.unit = parts[2];
  for (size_t i = 3; i < parts.size(); ++i) {
    if (parts[i].empty()) continue;
    char* end = nullptr;
    double v = std::strtod(parts[i].c_str(), &end);
    if (end == parts[i].c_str() || *end != '\0') {
      return Status::InvalidArgument("--field '" + text + "': '" + parts[i] + "' is not a number");
    }
    (i == 3 ? spec.min_value : spec.max_value) = v;
  }
  return spec;
}

// A schema file: JSON ({"fields": [...]}) or TOML ([[fields]] tables), by extension.
Result<StreamSchema> ReadSchemaFile(const std::string& path) {
  NEMESYST_ASSIGN_OR_RETURN(std::string text, ReadInput(path));
  nlohmann::json json;
  if (path.size() > 5 && path.substr(path.size() - 5) == ".toml") {
    try {
      toml::table table = toml::parse(text, path);
      std::ostringstream out;
      out << toml::json_formatter{table};
      json = nlohmann::json::parse(out.str());
    } catch (const toml::parse_error& e) {
      return Status::InvalidArgument(path + ":" + std::to_string(e.source().begin.line) + ": " +
                                     std::string(e.description()));
    } catch (const nlohmann::json::exception& e) {
      return Status::InvalidArgument(path + ": " + e.what());
    }
  } else {
    json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded()) return Status::InvalidArgument(path + ": not valid JSON");
  }
  Result<StreamSchema> schema = SchemaFromJson(json.dump());
  if (!schema.ok()) return schema.status().WithContext(path);
  return schema;
}

Result<double> ParseNumber(std::string_view text, const std::string& where) {
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) {
    return Status::InvalidArgument(where + ": '" + s + "' is not a number");
  }
  return v;
}

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

// CSV with a header naming `device`, `timestamp_us` and every schema field (any order).
Result<std::vector<Record>> ParseCsv(const std::string& text, const std::string& source,
                                     const StreamSchema& schema) {
  std::stringstream in(text);
  std::string line;
  if (!std::getline(in, line)) return std::vector<Record>{};
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> header = SplitCsv(line);
  int device_col = -1, ts_col = -1;
  std::vector<int> field_col(schema.fields.size(), -1);
  for (size_t c = 0; c < header.size(); ++c) {
    if (header[c] == "device") device_col = int(c);
    if (header[c] == "timestamp_us") ts_col = int(c);
    for (size_t f = 0; f < schema.fields.size(); ++f) {
      if (schema.fields[f].name == header[c]) field_col[f] = int(c);
    }
  }
  if (device_col < 0 || ts_col < 0) {
    return Status::InvalidArgument(source + ":1: header needs 'device' and 'timestamp_us' columns");
  }
  for (size_t f = 0; f < schema.fields.size(); ++f) {
    if (field_col[f] < 0) {
      return Status::InvalidArgument(source + ":1: header lacks field '" + schema.fields[f].name +
                                     "'");
    }
  }
  std::vector<Record> records;
  for (int line_no = 2; std::getline(in, line); ++line_no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::string where = source + ":" + std::to_string(line_no);
    std::vector<std::string> cells = SplitCsv(line);
    if (cells.size() != header.size()) {
      return Status::InvalidArgument(where + ": " + std::to_string(cells.size()) +
                                     " cells, header has " + std::to_string(header.size()));
    }
    Record r;
    r.device_id = cells[device_col];
    NEMESYST_ASSIGN_OR_RETURN(double ts, ParseNumber(cells[ts_col], where + " timestamp_us"));
    r.timestamp_us = static_cast<int64_t>(ts);
    for (size_t f = 0; f < schema.fields.size(); ++f) {
      NEMESYST_ASSIGN_OR_RETURN(
          double v,
          ParseNumber(cells[field_col[f]], where + " field '" + schema.fields[f].name + "'"));
      r.values.push_back(v);
    }
    records.push_back(std::move(r));
  }
  return records;
}

// JSON lines: {"device": "a", "timestamp_us": 1, "values": {"field": 1.5, ...} or [1.5, ...]}.
Result<std::vector<Record>> ParseJsonLines(const std::string& text, const std::string& source,
                                           const StreamSchema& schema) {
  std::stringstream in(text);
  std::string line;
  std::vector<Record> records;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::string where = source + ":" + std::to_string(line_no);
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return Status::InvalidArgument(where + ": not a JSON object");
    }
    if (!j.contains("device") || !j["device"].is_string()) {
      return Status::InvalidArgument(where + ": device: expected a string");
    }
    if (!j.contains("timestamp_us") || !j["timestamp_us"].is_number_integer()) {
      return Status::InvalidArgument(where + ": timestamp_us: expected an integer");
    }
    Record r;
    r.device_id = j["device"].get<std::string>();
    r.timestamp_us = j["timestamp_us"].get<int64_t>();
    const nlohmann::json& values = j.contains("values") ? j["values"] : nlohmann::json();
    for (size_t f = 0; f < schema.fields.size(); ++f) {
      const std::string& name = schema.fields[f].name;
      const nlohmann::json* v = nullptr;
      if (values.is_array() && f < values.size()) v = &values[f];
      if (values.is_object() && values.contains(name)) v = &values[name];
      if (v == nullptr || !v->is_number()) {
        return Status::InvalidArgument(where + ": values." + name + ": expected a number");
      }
      r.values.push_back(v->get<double>());
    }
    records.push_back(std::move(r));
  }
  return records;
}

std::string FormatRecord(const StoredRecord& r) {
  std::ostringstream out;
  out << r.seq << "\t" << r.record.device_id << "\t" << r.record.timestamp_us;
  for (double v : r.record.values) out << "\t" << v;
  return out.str();
}

void AddLogCreate(CLI::App& log, CliContext& ctx) {
  CLI::App* cmd = log.add_subcommand("create", "Create a stream with a schema");
  struct Args {
    std::string stream, schema_file;
    std::vector<std::string> fields;
    double max_age_s = 0;
    uint64_t max_records = 0;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("stream", args->stream, "Stream name ([A-Za-z0-9_.-/])")->required();
  cmd->add_option("--field", args->fields,
                  "A field: name:type[:unit[:min[:max]]], type float32|float64|int32 (repeat)");
  cmd->add_option("--schema", args->schema_file,
                  "Schema file: JSON {\"fields\": [{name, type, unit, min, max}]} or TOML "
                  "[[fields]] (by .toml extension)");
  cmd->add_option("--max-age-s", args->max_age_s, "Retention: delete records older than this");
  cmd->add_option("--max-records", args->max_records, "Retention: keep at most this many");
  cmd->add_flag("--json", args->json, "Print the created stream as JSON");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      StreamSchema schema;
      if (!args->schema_file.empty() && !args->fields.empty()) {
        return Status::InvalidArgument("give --schema or --field, not both");
      }
      if (!args->schema_file.empty()) {
        NEMESYST_ASSIGN_OR_RETURN(schema, ReadSchemaFile(args->schema_file));
      }
      for (const std::string& f : args->fields) {
        NEMESYST_ASSIGN_OR_RETURN(FieldSpec spec, ParseFieldFlag(f));
        schema.fields.push_back(std::move(spec));
      }
      if (args->max_age_s < 0) return Status::InvalidArgument("--max-age-s must be >= 0");
      RetentionPolicy retention{static_cast<int64_t>(args->max_age_s * 1e6), args->max_records};
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kWrite));
      NEMESYST_RETURN_IF_ERROR(store->CreateStream(args->stream, schema, retention));
      NEMESYST_ASSIGN_OR_RETURN(StreamInfo info, store->GetStreamInfo(args->stream));
      if (args->json) {
        std::cout << ToJson(info).dump() << "\n";
      } else {
        std::cout << "created stream " << info.name << " (" << info.schema.fields.size()
                  << " fields)\n";
      }
      return Status::OK();
    };
  });
}

void AddAppend(CLI::App& log, CliContext& ctx) {
  CLI::App* cmd = log.add_subcommand(
      "append", "Append records from JSON lines or CSV (stdin or --file); each --batch is atomic");
  struct Args {
    std::string stream, file, format;
    uint32_t batch = 10000;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("stream", args->stream, "Stream name")->required();
  cmd->add_option("-f,--file", args->file, "Input file (default: stdin)");
  cmd->add_option("--format", args->format,
                  "jsonl ({\"device\", \"timestamp_us\", \"values\": {field: x}}) or csv (header "
                  "device,timestamp_us,<fields>); default by extension, else jsonl")
      ->check(CLI::IsMember({"jsonl", "csv"}));
  cmd->add_option("--batch", args->batch, "Records per atomic append (default 10000)")
      ->check(CLI::Range(1u, 100000u));
  cmd->add_flag("--json", args->json, "Print the result as JSON");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kWrite));
      NEMESYST_ASSIGN_OR_RETURN(StreamSchema schema, store->GetSchema(args->stream));
      NEMESYST_ASSIGN_OR_RETURN(std::string text, ReadInput(args->file));
      std::string source = args->file.empty() ? "<stdin>" : args->file;
      std::string format = args->format;
      if (format.empty()) {
        format = source.size() > 4 && source.substr(source.size() - 4) == ".csv" ? "csv" : "jsonl";
      }
      // Everything is parsed before anything is appended: a bad line appends nothing.
      NEMESYST_ASSIGN_OR_RETURN(
          std::vector<Record> records,
          format == "csv" ? ParseCsv(text, source, schema) : ParseJsonLines(text, source, schema));
      SeqRange total;
      for (size_t start = 0; start < records.size(); start += args->batch) {
        size_t n = std::min<size_t>(args->batch, records.size() - start);
        auto range = store->Append(args->stream, std::span(records).subspan(start, n));
        if (!range.ok()) {
          return range.status().WithContext(
              source + " records " + std::to_string(start + 1) + ".." + std::to_string(start + n) +
              (start > 0
                   ? " (earlier batches were appended up to seq " + std::to_string(total.last) + ")"
                   : ""));
        }
        if (total.first == 0) total.first = range->first;
        total.last = range->last;
      }
      if (args->json) {
        std::cout << nlohmann::json{{"stream", args->stream},
                                    {"appended", records.size()},
                                    {"first_seq", total.first},
                                    {"last_seq", total.last}}
                         .dump()
                  << "\n";
      } else {
        std::cout << "appended " << records.size() << " records to " << args->stream;
        if (total.first != 0) std::cout << " (seq " << total.first << ".." << total.last << ")";
        std::cout << "\n";
      }
      return Status::OK();
    };
  });
}

void AddTail(CLI::App& log, CliContext& ctx) {
  CLI::App* cmd = log.add_subcommand("tail", "Print the last records of a stream (or a range)");
  struct Args {
    std::string stream, device;
    uint64_t count = 10, from_seq = 0;
    int64_t since_us = std::numeric_limits<int64_t>::min();
    int64_t until_us = std::numeric_limits<int64_t>::max();
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("stream", args->stream, "Stream name")->required();
  cmd->add_option("-n,--count", args->count, "How many records (default 10)");
  cmd->add_option("--from-seq", args->from_seq, "Start at this seq instead of the last N");
  cmd->add_option("--device", args->device, "Only this device");
  cmd->add_option("--since-us", args->since_us, "Only timestamps >= this (µs since epoch)");
  cmd->add_option("--until-us", args->until_us, "Only timestamps <= this (µs since epoch)");
  cmd->add_flag("--json", args->json, "One JSON object per record");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kRead));
      NEMESYST_ASSIGN_OR_RETURN(StreamInfo info, store->GetStreamInfo(args->stream));
      RecordQuery query;
      query.device_id = args->device;
      query.min_timestamp_us = args->since_us;
      query.max_timestamp_us = args->until_us;
      bool filtered = !args->device.empty() || args->since_us != query.min_timestamp_us ||
                      args->until_us != std::numeric_limits<int64_t>::max();
      if (args->from_seq > 0) {
        query.first_seq = args->from_seq;
      } else if (!filtered && info.last_seq >= args->count) {
        query.first_seq = info.last_seq - args->count + 1;
      }
      NEMESYST_ASSIGN_OR_RETURN(auto it, store->Read(args->stream, query));
      // With filters and no --from-seq, the last N matches: keep a sliding window.
      std::deque<StoredRecord> window;
      for (; it->Valid(); it->Next()) {
        window.push_back(it->record());
        if (args->from_seq > 0 && window.size() >= args->count) break;
        if (window.size() > args->count) window.pop_front();
      }
      NEMESYST_RETURN_IF_ERROR(it->status());
      if (!args->json && !window.empty()) {
        std::cout << "seq\tdevice\ttimestamp_us";
        for (const FieldSpec& f : info.schema.fields) std::cout << "\t" << f.name;
        std::cout << "\n";
      }
      for (const StoredRecord& r : window) {
        std::cout << (args->json ? ToJson(r, info.schema).dump() : FormatRecord(r)) << "\n";
      }
      return Status::OK();
    };
  });
}

void AddLogStat(CLI::App& log, CliContext& ctx) {
  CLI::App* cmd = log.add_subcommand("stat", "Streams: schema, sequence range, retention");
  struct Args {
    std::string stream;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("stream", args->stream, "One stream (default: every stream)");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kRead));
      std::vector<std::string> names;
      if (args->stream.empty()) {
        NEMESYST_ASSIGN_OR_RETURN(names, store->ListStreams());
      } else {
        names.push_back(args->stream);
      }
      nlohmann::json all = nlohmann::json::array();
      for (const std::string& name : names) {
        NEMESYST_ASSIGN_OR_RETURN(StreamInfo info, store->GetStreamInfo(name));
        if (args->json) {
          all.push_back(ToJson(info));
          continue;
        }
        std::cout << info.name << ": seq " << info.first_seq << ".." << info.last_seq << ", next "
                  << info.next_seq << ", fields";
        for (const FieldSpec& f : info.schema.fields) {
          std::cout << " " << f.name << ":" << FieldTypeName(f.type)
                    << (f.unit.empty() ? "" : "[" + f.unit + "]");
        }
        if (info.retention.max_age_us > 0) {
          std::cout << ", max age " << info.retention.max_age_us / 1e6 << " s";
        }
        if (info.retention.max_records > 0) {
          std::cout << ", max " << info.retention.max_records << " records";
        }
        std::cout << "\n";
      }
      if (args->json) std::cout << (args->stream.empty() ? all : all[0]).dump() << "\n";
      return Status::OK();
    };
  });
}

void AddRetain(CLI::App& log, CliContext& ctx) {
  CLI::App* cmd = log.add_subcommand(
      "retain", "Apply retention (optionally setting a new policy first); reports held-back data");
  struct Args {
    std::string stream;
    double max_age_s = -1;
    int64_t max_records = -1;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("stream", args->stream, "Stream name")->required();
  cmd->add_option("--max-age-s", args->max_age_s, "New policy: max age in seconds (0 = none)");
  cmd->add_option("--max-records", args->max_records, "New policy: max records (0 = none)");
  cmd->add_flag("--json", args->json, "Print the report as JSON");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kWrite));
      if (args->max_age_s >= 0 || args->max_records >= 0) {
        NEMESYST_ASSIGN_OR_RETURN(StreamInfo info, store->GetStreamInfo(args->stream));
        RetentionPolicy policy = info.retention;
        if (args->max_age_s >= 0) policy.max_age_us = static_cast<int64_t>(args->max_age_s * 1e6);
        if (args->max_records >= 0) policy.max_records = static_cast<uint64_t>(args->max_records);
        NEMESYST_RETURN_IF_ERROR(store->SetRetention(args->stream, policy));
      }
      NEMESYST_ASSIGN_OR_RETURN(RetentionReport report, store->ApplyRetention(args->stream));
      if (args->json) {
        std::cout << ToJson(report).dump() << "\n";
        return Status::OK();
      }
      std::cout << report.stream << ": deleted " << report.records_deleted << " records";
      if (report.deleted_through_seq > 0)
        std::cout << " (through seq " << report.deleted_through_seq << ")";
      std::cout << "\n";
      for (const auto& h : report.held_back) {
        std::cout << "held back by group " << h.group << " (needs seq " << h.needs_from_seq
                  << " onwards; policy wanted through " << report.wanted_through_seq << ")\n";
      }
      return Status::OK();
    };
  });
}

void AddRejects(CLI::App& log, CliContext& ctx) {
  CLI::App* cmd = log.add_subcommand(
      "rejects", "Raw input rows ingest refused (dead-letter rows), with source and reason");
  struct Args {
    std::string stream;
    uint64_t after = 0;
    size_t count = 100;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("stream", args->stream, "Only rows meant for this stream (default: all)");
  cmd->add_option("--after", args->after, "Only rows with id > this");
  cmd->add_option("-n,--count", args->count, "At most this many rows (default 100)");
  cmd->add_flag("--json", args->json, "One JSON object per row");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kRead));
      NEMESYST_ASSIGN_OR_RETURN(auto rows,
                                store->ListDeadLetterRows(args->stream, args->after, args->count));
      for (const DeadLetterRow& row : rows) {
        if (args->json) {
          std::cout << nlohmann::json{{"id", row.id},
                                      {"stream", row.stream},
                                      {"source", row.source},
                                      {"reason", row.reason},
                                      {"raw", row.raw},
                                      {"raw_bytes", row.raw_bytes},
                                      {"received_us", row.received_us}}
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                    << "\n";
        } else {
          std::cout << row.id << "\t" << row.stream << "\t" << row.source << "\t" << row.reason;
          if (row.raw_bytes > row.raw.size()) {
            std::cout << " (row of " << row.raw_bytes << " bytes, first " << row.raw.size()
                      << " kept)";
          }
          std::cout << "\n";
        }
      }
      return Status::OK();
    };
  });
}

}  // namespace

void AddLogCommands(CLI::App& app, CliContext& ctx) {
  CLI::App* log = app.add_subcommand("log", "Streams of sensor records in the store");
  log->require_subcommand(1);
  AddLogCreate(*log, ctx);
  AddAppend(*log, ctx);
  AddTail(*log, ctx);
  AddLogStat(*log, ctx);
  AddRetain(*log, ctx);
  AddRejects(*log, ctx);
}

}  // namespace nemesyst::cli
