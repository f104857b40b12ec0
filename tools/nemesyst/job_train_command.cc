// `nemesyst train`: stream + pipeline spec + model spec -> registered model versions
// (include/nemesyst/train_job.h).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "nemesyst/train_job.h"
#include "nemesyst/version.h"
#include "tools/nemesyst/job_cli.h"
#include "tools/nemesyst/storage_cli.h"

namespace nemesyst::cli {
namespace {

Result<std::string> ReadTextFile(const std::string& path, const char* what) {
  if (path.empty() || path == "-") {  // ReadInput would read stdin
    return Status::InvalidArgument(std::string(what) + ": a file path is required");
  }
  auto text = ReadInput(path);
  if (!text.ok()) return text.status().WithContext(what);
  return text;
}

}  // namespace

void AddTrainCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Train a model on a stream through a pipeline, with N parallel learners on one consumer "
      "group; each learner registers its own version (lineage, metrics); the best by validation "
      "MAE gets the alias 'candidate'.");
  struct Flags {
    std::string pipeline_path, model_path;
    bool json = false;
    TrainJobOptions o;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("--stream", f->o.stream, "Stream to train on (default: the pipeline's)");
  cmd->add_option("--pipeline", f->pipeline_path, "Pipeline spec file (TOML or JSON)");
  cmd->add_option("--model", f->model_path, "Model spec file (JSON)");
  cmd->add_option("--name", f->o.model_name, "Registry name of the new versions")->required();
  cmd->add_option("--learners", f->o.learners, "Parallel learners")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--epochs", f->o.trainer.epochs, "Passes over each learner's data")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--batch-size", f->o.trainer.batch_size, "Windows per optimiser step")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--learning-rate", f->o.trainer.learning_rate, "Adam learning rate")
      ->capture_default_str();
  cmd->add_option("--seed", f->o.trainer.seed, "Seed (learner i uses seed + i)")
      ->capture_default_str();
  cmd->add_option("--group", f->o.group, "Consumer group (default train.<name>)");
  cmd->add_option("--records-per-claim", f->o.records_per_claim, "Records per group claim")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 24));
  cmd->add_option("--lease-ms", f->o.lease_ms, "Lease of a claim before it is handed out again")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{100}, int64_t{1} << 40));
  cmd->add_option(
         "--fit-hours", f->o.fit_hours,
         "Hours of readings (from the stream's start) to fit normalisation and validate on")
      ->capture_default_str();
  cmd->add_option("--fit-records", f->o.fit_records, "At most this many records for that")
      ->capture_default_str();
  cmd->add_option("--lower-risk", f->o.lower_risk,
                  "Risk α of the calibrated lower bound (lower_s) fitted on the validation "
                  "stores; 0: none (docs/calibration.md)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.5));
  cmd->add_option("--lower-group", f->o.lower_group_field,
                  "Input field whose value groups the lower bound's margins (e.g. case_type); "
                  "default one pooled margin");
  cmd->add_option("--parent", f->o.parent, "Continue from this model (name@version, name:alias)");
  cmd->add_option("--augment-gan", f->o.augment_gan, "Augment with windows of this GAN model");
  cmd->add_option("--augment-fraction", f->o.augment_fraction, "Synthetic windows per real window")
      ->capture_default_str();
  cmd->add_flag("--claim-as-you-go{false},--deterministic-claims{true}", f->o.deterministic_claims,
                "Hand claims out round-robin before training (reproducible; default) or let "
                "each learner claim while it trains");
  cmd->add_flag("--json", f->json, "Print the result as JSON");
  cmd->callback([&ctx, f] {
    ctx.action = [&ctx, f]() -> Status {
      TrainJobOptions o = f->o;
      if (!f->pipeline_path.empty()) {
        NEMESYST_ASSIGN_OR_RETURN(o.pipeline_text, ReadTextFile(f->pipeline_path, "pipeline spec"));
      }
      if (!f->model_path.empty()) {
        NEMESYST_ASSIGN_OR_RETURN(o.model_spec_json, ReadTextFile(f->model_path, "model spec"));
      }
      if (o.parent.empty() && (f->pipeline_path.empty() || f->model_path.empty())) {
        return Status::InvalidArgument("train: --pipeline and --model are required (or --parent)");
      }
      NEMESYST_ASSIGN_OR_RETURN(o.model, ConfiguredModelOptions(ctx));
      o.node_id = ctx.config.GetString("node.id");
      o.code_version = NEMESYST_VERSION_STRING;
      o.logger = ctx.logger.get();
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kWrite));
      TrainingProgress progress(ctx);
      const std::string name = o.model_name;
      const int epochs = o.trainer.epochs;
      o.on_progress = [&progress, name, epochs](int learner, const TrainProgress& p) {
        progress.Update(name, learner, epochs, p);
      };
      NEMESYST_ASSIGN_OR_RETURN(TrainJobResult r, RunTrainJob(*store, o));
      progress.Finish();
      if (f->json) {
        nlohmann::json j;
        j["model"] = r.model_name;
        j["candidate"] = r.candidate;
        j["seconds"] = r.seconds;
        j["versions"] = nlohmann::json::array();
        for (const auto& v : r.learners) {
          j["versions"].push_back(
              {{"learner", v.learner},
               {"version", v.version},
               {"windows", v.windows},
               {"val_mae_s",
                std::isfinite(v.val_mae_s) ? nlohmann::json(v.val_mae_s) : nlohmann::json()},
               {"train_seconds", v.train_seconds}});
        }
        std::cout << j.dump(2) << "\n";
        return Status::OK();
      }
      for (const auto& v : r.learners) {
        char line[256];
        std::snprintf(line, sizeof(line), "%s@%u  learner %d  windows %zu  val_mae_s %.1f%s\n",
                      r.model_name.c_str(), v.version, v.learner, v.windows, v.val_mae_s,
                      v.version == r.candidate ? "  (candidate)" : "");
        std::cout << (v.version == 0 ? "learner " + std::to_string(v.learner) +
                                           ": no training data, nothing registered\n"
                                     : std::string(line));
      }
      return Status::OK();
    };
  });
}

}  // namespace nemesyst::cli
