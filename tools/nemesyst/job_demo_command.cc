// `nemesyst demo`: the whole case study in a fresh directory
// (include/nemesyst/refrigeration/demo.h, docs/demo.md)..
#include <filesystem>
#include <iostream>

#include "nemesyst/refrigeration/demo.h"
#include "tools/nemesyst/job_cli.h"

namespace nemesyst::cli {

void AddDemoCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "Simulate a refrigerated fleet, ingest it, train LSTM / RNN / GAN-augmented LSTM with "
      "parallel learners, evaluate on held-out stores against baselines, promote, predict, "
      "replay a demand-response dispatch and write a report. Exit 1 if a step fails or a target "
      "is missed.");
  struct Flags {
    std::string dir;
    int64_t seed = -1;
    bool force = false;
    bool single_process = false;
    refrigeration::DemoOptions o;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("--dir", f->dir, "Directory to create (config key demo.dir)");
  cmd->add_option("--seed", f->seed, "Seed of the simulation and training (config key demo.seed)");
  cmd->add_flag("--force", f->force, "Remove the directory first if it is not empty");
  cmd->add_flag("--single-process", f->single_process,
                "Everything in this process (quicker): no hub or store node processes, no live "
                "feed, swap or dispatch through the control plane");
  cmd->add_option("--live-hours", f->o.live_hours,
                  "Fleet form: the last hours of data that arrive live")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 48.0));
  cmd->add_option("--stores", f->o.stores, "Stores in the fleet")
      ->capture_default_str()
      ->check(CLI::Range(3, 1000));
  cmd->add_option("--cases", f->o.cases_per_store, "Cases per store")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--days", f->o.days, "Days simulated")
      ->capture_default_str()
      ->check(CLI::Range(0.25, 365.0));
  cmd->add_option("--test-stores", f->o.test_stores, "Held-out stores")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->add_option("--validation-stores", f->o.validation_stores, "Validation stores")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->add_option("--epochs", f->o.epochs, "Epochs of the regressors")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--gan-epochs", f->o.gan_epochs, "Epochs of the GAN")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--learners", f->o.learners, "Parallel learners per model")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--hidden", f->o.hidden, "Recurrent units")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->callback([&ctx, f] {
    ctx.action = [&ctx, f]() -> Status {
      refrigeration::DemoOptions o = f->o;
      o.dir = f->dir.empty() ? ctx.config.GetString("demo.dir") : f->dir;
      o.seed = static_cast<uint64_t>(f->seed >= 0 ? f->seed : ctx.config.GetInt("demo.seed"));
      o.force = f->force;
      if (!f->single_process) {
        // The fleet form runs this very binary as its nodes.
        std::error_code ec;
        o.node_binary = std::filesystem::read_symlink("/proc/self/exe", ec).string();
        if (ec) return Status::IOError("demo: cannot find this program (/proc/self/exe)");
        // The nodes train and serve with the kernel settings the demo was given.
        for (const char* key : {"kernels.backend", "kernels.threads", "kernels.memory_budget_mb",
                                "kernels.max_isa"}) {
          const auto& entry = ctx.config.GetEntry(key);
          if (entry.source != ConfigSource::kDefault) {
            o.node_settings.push_back(std::string(key) + "=" + entry.value);
          }
        }
      }
      o.train_stores = o.stores - o.test_stores - o.validation_stores;
      if (o.train_stores < 1) {
        return Status::InvalidArgument("demo: --stores must leave at least one training store");
      }
      NEMESYST_ASSIGN_OR_RETURN(o.model_options, ConfiguredModelOptions(ctx));
      o.node_id = ctx.config.GetString("node.id");
      o.logger = ctx.logger.get();
      TrainingProgress progress(ctx);
      o.on_step = [&ctx, &progress](const std::string& step) {
        progress.Finish();
        ctx.logger->Log(LogLevel::kInfo, "demo", "step", {{"step", step}});
      };
      o.on_progress = [&progress](const std::string& model, int learner, int epochs,
                                  const TrainProgress& p) {
        progress.Update(model, learner, epochs, p);
      };
      NEMESYST_ASSIGN_OR_RETURN(refrigeration::DemoResult r, refrigeration::RunDemo(o));
      progress.Finish();
      for (const refrigeration::TargetCheck& t : r.report.targets) {
        std::cout << (t.passed ? "  pass  " : "  FAIL  ") << t.name << ": " << t.detail << "\n";
      }
      std::cout << "report: " << r.report_dir << "/report.md\n";
      if (!r.passed) return Status::FailedPrecondition("the demo missed a target (see the report)");
      return Status::OK();
    };
  });
}

}  // namespace nemesyst::cli
