// `nemesyst simulate` and `nemesyst ingest`: the stream area's subcommands (docs/simulator.md,
// docs/ingest.md).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "nemesyst/node.h"
#include "nemesyst/refrigeration/fleet.h"
#include "nemesyst/store.h"
#include "nemesyst/store_json.h"
#include "nemesyst/stream.h"
#include "nemesyst/timestamp.h"
#include "tools/nemesyst/cli_store.h"
#include "tools/nemesyst/commands.h"
#include "tools/nemesyst/storage_cli.h"

namespace nemesyst::cli {

// simulate and `ingest --simulator-schema` are the case study's fleet feed.
using namespace nemesyst::refrigeration;
namespace {

Result<std::array<double, kCaseTypeCount>> ParseMix(const std::string& text) {
  // "chilled_multideck=4,frozen_well=1" (unlisted types get 0) or four weights "4,2,1,1".
  std::array<double, kCaseTypeCount> mix{};
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    parts.push_back(
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  const bool named = text.find('=') != std::string::npos;
  if (!named && parts.size() != kCaseTypeCount) {
    return Status::InvalidArgument("--mix needs four weights or type=weight pairs");
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string weight = parts[i];
    int index = static_cast<int>(i);
    if (named) {
      const size_t eq = parts[i].find('=');
      if (eq == std::string::npos)
        return Status::InvalidArgument("--mix: '" + parts[i] + "' is not type=weight");
      NEMESYST_ASSIGN_OR_RETURN(CaseType type, ParseCaseType(parts[i].substr(0, eq)));
      index = static_cast<int>(type);
      weight = parts[i].substr(eq + 1);
    }
    char* end = nullptr;
    const double w = std::strtod(weight.c_str(), &end);
    if (weight.empty() || *end != '\0')
      return Status::InvalidArgument("--mix: bad weight '" + weight + "'");
    mix[index] = w;
  }
  return mix;
}

nlohmann::json CasesJson(const FleetSimulator& sim) {
  nlohmann::json cases = nlohmann::json::array();
  for (const CaseInfo& c : sim.cases()) {
    const CaseParams& p = c.params;
    cases.push_back({{"index", c.index},
                     {"device", c.device},
                     {"store", c.store},
                     {"type", std::string(CaseTypeName(p.type))},
                     {"limit_c", p.limit_c},
                     {"cut_in_c", p.cut_in_c},
                     {"cut_out_c", p.cut_out_c},
                     {"evap_capacity_w", p.evap_capacity_w},
                     {"cop", p.cop},
                     {"fault", c.fault == SensorFault::kNone    ? "none"
                               : c.fault == SensorFault::kStuck ? "stuck"
                                                                : "drifting"},
                     {"fault_field", c.fault_field >= 0 ? SimulatorFields()[c.fault_field] : ""}});
  }
  return cases;
}

void AddSimulate(CLI::App& app, CliContext& ctx) {
  struct Flags {
    SimulatorOptions sim;
    std::string start, mix, out, format = "csv", timestamp = "iso", into_stream, durability,
                                 cases_out;
    bool no_labels = false, json = false;
    uint32_t batch_rows = 10000;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "simulate", "Generate the refrigeration fleet of the case study (docs/simulator.md)");
  cmd->add_option("--seed", f->sim.seed, "PRNG seed (same seed, same fleet)")
      ->capture_default_str();
  cmd->add_option("--stores", f->sim.stores, "Number of stores")->capture_default_str();
  cmd->add_option("--cases-per-store", f->sim.cases_per_store, "Display cases per store")
      ->capture_default_str();
  cmd->add_option("--days", f->sim.days, "Simulated days")->capture_default_str();
  cmd->add_option("--start", f->start,
                  "First sample time, ISO-8601 (default 2026-01-05T00:00:00Z)");
  cmd->add_option("--interval-s", f->sim.interval_s, "Sampling interval, seconds")
      ->capture_default_str();
  cmd->add_option("--mix", f->mix,
                  "Case-type weights: four numbers (chilled_multideck, chilled_glass_door, "
                  "frozen_well, frozen_glass_door) or type=weight pairs");
  cmd->add_option("--fault-rate", f->sim.fault_rate,
                  "Share of cases with a stuck or drifting sensor")
      ->capture_default_str();
  cmd->add_option("--gap-rate", f->sim.gap_rate, "Probability per sample that a feed gap starts")
      ->capture_default_str();
  cmd->add_option("--noise-c", f->sim.noise_c, "Sensor noise sigma, degC")->capture_default_str();
  cmd->add_flag("--no-labels", f->no_labels, "Skip safe_off_s (faster; the field is left out)");
  cmd->add_option("--out", f->out, "Write rows to this file, '-' = stdout");
  cmd->add_option("--format", f->format, "csv|jsonl (with --out)")->capture_default_str();
  cmd->add_option("--timestamp", f->timestamp, "iso|s|ms|us|ns (with --out)")
      ->capture_default_str();
  cmd->add_option("--into-stream", f->into_stream,
                  "Append straight into this store stream (created with the simulator schema)");
  cmd->add_option("--batch-rows", f->batch_rows, "Rows per atomic append (with --into-stream)")
      ->capture_default_str();
  cmd->add_option("--durability", f->durability, "sync|group|async (default: store.durability)");
  cmd->add_option("--cases-out", f->cases_out, "Write the case table (type, limit, ...) as JSON");
  cmd->add_flag("--json", f->json, "Print the summary as JSON");
  cmd->callback([&ctx, f] {
    ctx.action = [&ctx, f]() -> Status {
      if (f->out.empty() == f->into_stream.empty()) {
        return Status::InvalidArgument("simulate needs exactly one of --out or --into-stream");
      }
      SimulatorOptions options = f->sim;
      options.labels = !f->no_labels;
      if (!f->start.empty()) {
        if (!ParseIso8601(f->start, &options.start_us)) {
          return Status::InvalidArgument("--start: '" + f->start + "' is not an ISO-8601 time");
        }
      }
      if (!f->mix.empty()) {
        NEMESYST_ASSIGN_OR_RETURN(options.type_mix, ParseMix(f->mix));
      }
      NEMESYST_ASSIGN_OR_RETURN(std::unique_ptr<FleetSimulator> sim,
                                FleetSimulator::Create(options));
      uint64_t rows = 0;
      if (!f->into_stream.empty()) {
        NEMESYST_ASSIGN_OR_RETURN(std::unique_ptr<Store> store,
                                  OpenConfiguredStore(ctx, StoreAccess::kWrite, f->durability));
        FleetIngestOptions ingest;
        ingest.batch_records = f->batch_rows;
        ingest.logger = ctx.logger.get();
        NEMESYST_ASSIGN_OR_RETURN(FleetIngestResult ingested,
                                  IngestSimulatedFleet(*store, f->into_stream, *sim, ingest));
        rows = ingested.records;
      } else {
        FleetWriteOptions write;
        if (f->format == "csv")
          write.format = SimOutputFormat::kCsv;
        else if (f->format == "jsonl")
          write.format = SimOutputFormat::kJsonLines;
        else
          return Status::InvalidArgument("--format must be csv or jsonl");
        NEMESYST_ASSIGN_OR_RETURN(write.timestamp, ParseTimestampFormat(f->timestamp));
        int fd = STDOUT_FILENO;
        if (f->out != "-") {
          fd = ::open(f->out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
          if (fd < 0)
            return Status::IOError("cannot create '" + f->out + "': " + std::strerror(errno));
        }
        Status status = WriteFleet(*sim, fd, write, &rows);
        if (fd != STDOUT_FILENO && ::close(fd) != 0 && status.ok()) {
          status = Status::IOError("closing '" + f->out + "': " + std::strerror(errno));
        }
        NEMESYST_RETURN_IF_ERROR(status);
      }
      if (!f->cases_out.empty()) {
        FILE* file = std::fopen(f->cases_out.c_str(), "w");
        if (!file) return Status::IOError("cannot create '" + f->cases_out + "'");
        const std::string text = CasesJson(*sim).dump(2) + "\n";
        const bool ok = std::fwrite(text.data(), 1, text.size(), file) == text.size();
        if (std::fclose(file) != 0 || !ok) return Status::IOError("writing '" + f->cases_out + "'");
      }
      const nlohmann::json summary = {
          {"rows", rows},
          {"cases", options.total_cases()},
          {"samples_per_case", sim->samples_per_case()},
          {"labels", options.labels},
          {"destination", f->into_stream.empty() ? f->out : "stream:" + f->into_stream}};
      // With --out - the rows own stdout: the summary goes to the log.
      if (f->out == "-") {
        ctx.logger->Log(LogLevel::kInfo, "stream.simulate", "simulated",
                        {{"rows", std::to_string(rows)}});
      } else if (f->json) {
        std::cout << summary.dump() << "\n";
      } else {
        std::cout << "simulated " << rows << " rows (" << options.total_cases() << " cases) into "
                  << summary["destination"].get<std::string>() << "\n";
      }
      return Status::OK();
    };
  });
}

struct IngestFlags {
  IngestOptions options;
  std::string path, format = "auto", timestamp_format = "auto", on_error = "reject", durability;
  std::string connect;
  std::vector<std::string> renames;
  bool simulator_schema = false, json = false;
};

// A string member of a node's reply, or `fallback` (replies are checked, not trusted).
std::string StringIn(const nlohmann::json& j, const char* key, const std::string& fallback) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                                : fallback;
}

// `ingest --connect`: the rows go to a running store node, which ingests them into its store.
Status IngestThroughNode(const IngestFlags& f, const IngestOptions& options) {
  NEMESYST_ASSIGN_OR_RETURN(std::string rows, ReadInput(f.path));
  if (f.simulator_schema) {
    nlohmann::json create = {
        {"op", "create_stream"},
        {"stream", options.stream},
        {"schema", nlohmann::json::parse(SchemaToJson(SimulatorSchema(true)))}};
    NEMESYST_ASSIGN_OR_RETURN(std::string created, NodeRequest(f.connect, create.dump(), ""));
    nlohmann::json c = nlohmann::json::parse(created, nullptr, false);
    if (!c.is_object() || c["ok"] != true) {
      return Status::FailedPrecondition("node at " + f.connect + ": " +
                                        StringIn(c, "error", created));
    }
  }
  nlohmann::json request = nlohmann::json::parse(IngestOptionsToJson(options));
  request["op"] = "append";
  request["source"] = f.path;
  NodeClientOptions co;
  co.timeout_ms = 600000;  // a big file: parsing and fsyncs take their time
  NEMESYST_ASSIGN_OR_RETURN(std::string reply, NodeRequest(f.connect, request.dump(), rows, co));
  nlohmann::json r = nlohmann::json::parse(reply, nullptr, false);
  if (!r.is_object()) return Status::Corruption("node at " + f.connect + ": unreadable reply");
  std::vector<std::string> errors;
  if (r.contains("errors") && r["errors"].is_array()) {
    for (const auto& e : r["errors"])
      errors.push_back(e.is_string() ? e.get<std::string>() : e.dump());
  }
  for (const std::string& e : errors) std::cerr << e << "\n";
  if (!r.contains("rows_committed") || !r["rows_committed"].is_number_unsigned()) {
    return Status::FailedPrecondition("node at " + f.connect + ": " + StringIn(r, "error", reply));
  }
  if (r.contains("error")) {  // failed part-way: what did commit stays (and replicates)
    return Status::IOError("node at " + f.connect + ": " + StringIn(r, "error", reply) +
                           " (after " + std::to_string(r["rows_committed"].get<uint64_t>()) +
                           " rows were committed)");
  }
  if (f.json) {
    std::cout << r.dump() << "\n";
  } else {
    std::cout << "ingested " << r["rows_committed"].get<uint64_t>() << " rows into '"
              << options.stream << "' on node " << f.connect << " (position "
              << (r["position"].is_number_unsigned() ? r["position"].get<uint64_t>() : 0) << ", "
              << (r["replicated"] == true ? "on the hub" : "not yet on the hub") << ", "
              << StringIn(r, "ack_mode", "") << ")\n";
  }
  if (r["rejected"] == true) {
    return Status::InvalidArgument("input rejected: " +
                                   (errors.empty() ? std::string("see above") : errors[0]));
  }
  return Status::OK();
}

void AddIngest(CLI::App& app, CliContext& ctx) {
  using Flags = IngestFlags;
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "ingest",
      "Validate CSV or JSON lines against a stream's schema and append them (docs/ingest.md)");
  cmd->add_option("input", f->path, "File to read, '-' = stdin")->required();
  cmd->add_option("--stream", f->options.stream, "Target stream")->required();
  cmd->add_option("--format", f->format, "auto|csv|jsonl")->capture_default_str();
  cmd->add_option("--device-column", f->options.device_column, "Column/key of the device id")
      ->capture_default_str();
  cmd->add_option("--timestamp-column", f->options.timestamp_column, "Column/key of the timestamp")
      ->capture_default_str();
  cmd->add_option("--timestamp-format", f->timestamp_format, "auto|iso|s|ms|us|ns")
      ->capture_default_str();
  cmd->add_option("--map", f->renames, "Input name to schema field: --map col=field (repeatable)");
  cmd->add_flag("--ignore-unknown", f->options.ignore_unknown,
                "Ignore columns that are not in the schema (default: refuse the input)");
  cmd->add_option("--batch-rows", f->options.batch_rows, "Rows per atomic append")
      ->capture_default_str();
  cmd->add_option("--on-error", f->on_error,
                  "reject: stop, the failing batch is not written (exit 1); dead-letter: bad rows "
                  "to the stream's dead-letter rows, good rows in")
      ->capture_default_str();
  cmd->add_option("--durability", f->durability, "sync|group|async (default: store.durability)");
  cmd->add_flag("--simulator-schema", f->simulator_schema,
                "Create the stream with the simulator's schema (with labels) when missing");
  cmd->add_flag("--dry-run", f->options.dry_run,
                "Parse and validate only; write nothing (the counts say what would be written)");
  cmd->add_flag("--json", f->json, "Print the report as JSON");
  cmd->add_option("--connect", f->connect,
                  "Send the rows to a running store node's client endpoint instead of opening "
                  "the store (the node validates them the same way)");
  cmd->callback([&ctx, f] {
    ctx.action = [&ctx, f]() -> Status {
      IngestOptions options = f->options;
      NEMESYST_ASSIGN_OR_RETURN(options.format, ParseIngestFormat(f->format));
      NEMESYST_ASSIGN_OR_RETURN(options.timestamp_format,
                                ParseTimestampFormat(f->timestamp_format));
      NEMESYST_ASSIGN_OR_RETURN(options.on_error, ParseOnError(f->on_error));
      for (const std::string& kv : f->renames) {
        const size_t eq = kv.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size()) {
          return Status::InvalidArgument("--map expects column=field, got '" + kv + "'");
        }
        options.rename[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
      if (!f->connect.empty()) return IngestThroughNode(*f, options);
      NEMESYST_ASSIGN_OR_RETURN(std::unique_ptr<Store> store,
                                OpenConfiguredStore(ctx, StoreAccess::kWrite, f->durability));
      if (f->simulator_schema && store->GetSchema(options.stream).status().IsNotFound()) {
        NEMESYST_RETURN_IF_ERROR(store->CreateStream(options.stream, SimulatorSchema(true)));
      }
      IngestReport report;
      Status status = Ingest(*store, f->path, options, &report);
      for (const IngestError& e : report.error_details) std::cerr << e.ToString() << "\n";
      if (report.errors > report.error_details.size()) {
        std::cerr << "... and " << report.errors - report.error_details.size()
                  << " more bad rows\n";
      }
      nlohmann::json out = {{"rows_read", report.rows_read},
                            {"rows_committed", report.rows_committed},
                            {"rows_dead_lettered", report.rows_dead_lettered},
                            {"batches_committed", report.batches_committed},
                            {"bytes_read", report.bytes_read},
                            {"errors", report.errors},
                            {"rejected", report.rejected}};
      if (f->json) {
        std::cout << out.dump() << "\n";
      } else if (status.ok() || report.rows_read > 0) {
        // On a failure this line says what did commit (it stays; the error follows on stderr).
        const bool failed = !status.ok() || report.rejected;
        std::cout << (options.dry_run ? "would ingest "
                      : failed        ? "committed "
                                      : "ingested ")
                  << report.rows_committed << " rows into '" << options.stream << "' ("
                  << report.batches_committed << " batches";
        if (report.rows_dead_lettered) {
          std::cout << ", " << report.rows_dead_lettered
                    << (options.dry_run ? " would be dead-lettered" : " dead-lettered");
        }
        std::cout << (failed ? ") before the error\n" : ")\n");
        if (options.dry_run) std::cout << "dry run: nothing was written\n";
      }
      NEMESYST_RETURN_IF_ERROR(status);
      if (report.rejected) {
        return Status::InvalidArgument("input rejected at " + report.error_details[0].ToString() +
                                       "; " + std::to_string(report.rows_committed) +
                                       " rows were committed before the failing batch");
      }
      return Status::OK();
    };
  });
}

}  // namespace

void AddStreamCommands(CLI::App& app, CliContext& ctx) {
  AddSimulate(app, ctx);
  AddIngest(app, ctx);
}

}  // namespace nemesyst::cli
