// `nemesyst predict`: a registered model over readings from a store stream or a file
// (include/nemesyst/predict_job.h), predictions as CSV or JSON lines.
#include <fstream>
#include <iostream>

#include "nemesyst/predict_job.h"
#include "nemesyst/timestamp.h"
#include "tools/nemesyst/job_cli.h"

namespace nemesyst::cli {
namespace {

Result<int64_t> ParseTime(const std::string& text, const char* flag) {
  int64_t us = 0;
  if (ParseIso8601(text, &us)) return us;
  if (ParseEpoch(text, EpochUnit::kMicroseconds, &us)) return us;
  return Status::InvalidArgument(std::string(flag) + ": '" + text +
                                 "' is neither an ISO-8601 time nor microseconds since the epoch");
}

}  // namespace

void AddPredictCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* cmd = app.add_subcommand(
      "predict",
      "Predict safe off-times with a registered model (name, name@version or name:alias), "
      "through the pipeline stored with it, from a store stream or a CSV / JSON-lines file.");
  struct Flags {
    std::string from, to, format = "csv", output = "-";
    PredictJobOptions o;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("--model", f->o.model, "Model: name | name@version | name:alias")->required();
  cmd->add_option("--input-stream", f->o.stream, "Read readings from this store stream");
  cmd->add_option("--input", f->o.input_path, "Read readings from this CSV / JSON-lines file");
  cmd->add_option("--from", f->from, "First prediction time (ISO-8601 or µs since the epoch)");
  cmd->add_option("--to", f->to, "Last reading time (ISO-8601 or µs since the epoch)");
  cmd->add_option("--device", f->o.device, "Only this device");
  cmd->add_flag("--stream", f->o.streaming,
                "Streaming mode: each reading advances its device's recurrent state one step");
  cmd->add_option("--format", f->format, "csv | jsonl")->capture_default_str();
  cmd->add_option("--output,-o", f->output, "Output file ('-' = standard output)")
      ->capture_default_str();
  cmd->callback([&ctx, f] {
    ctx.action = [&ctx, f]() -> Status {
      PredictJobOptions o = f->o;
      if (!f->from.empty()) {
        NEMESYST_ASSIGN_OR_RETURN(o.from_us, ParseTime(f->from, "--from"));
      }
      if (!f->to.empty()) {
        NEMESYST_ASSIGN_OR_RETURN(o.to_us, ParseTime(f->to, "--to"));
      }
      NEMESYST_ASSIGN_OR_RETURN(PredictionFormat format, ParsePredictionFormat(f->format));
      if (o.stream.empty() == o.input_path.empty()) {
        return Status::InvalidArgument("predict: give exactly one of --input-stream or --input");
      }
      NEMESYST_ASSIGN_OR_RETURN(o.model_options, ConfiguredModelOptions(ctx));
      o.logger = ctx.logger.get();
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kRead));
      std::ofstream file;
      std::ostream* out = &std::cout;
      if (f->output != "-") {
        file.open(f->output, std::ios::binary | std::ios::trunc);
        if (!file) return Status::IOError("cannot create " + f->output);
        out = &file;
      }
      if (format == PredictionFormat::kCsv) *out << PredictionCsvHeader();
      NEMESYST_ASSIGN_OR_RETURN(
          PredictJobResult r, RunPredictJob(*store, o, [&](const PredictionRow& row) -> Status {
            *out << FormatPrediction(row, format);
            return *out ? Status::OK() : Status::IOError("cannot write predictions");
          }));
      out->flush();
      if (!*out) return Status::IOError("cannot write predictions");
      ctx.logger->Log(LogLevel::kInfo, "predict", "done",
                      {{"model", r.model},
                       {"resolved_by", r.resolved_by},
                       {"readings", std::to_string(r.readings)},
                       {"predictions", std::to_string(r.predictions)}});
      return Status::OK();
    };
  });
}

}  // namespace nemesyst::cli
