// What the job subcommands (train, predict, dispatch, demo) share: opening the configured store
// and rendering training progress (a live line on a terminal, else a log line every few seconds).
#ifndef NEMESYST_TOOLS_JOB_CLI_H_
#define NEMESYST_TOOLS_JOB_CLI_H_

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <CLI/CLI.hpp>

#include "nemesyst/model.h"
#include "nemesyst/store.h"
#include "tools/nemesyst/cli_context.h"
#include "tools/nemesyst/cli_store.h"

namespace nemesyst::cli {

void AddTrainCommand(CLI::App& app, CliContext& ctx);
void AddPredictCommand(CLI::App& app, CliContext& ctx);
void AddDispatchCommand(CLI::App& app, CliContext& ctx);
void AddDemoCommand(CLI::App& app, CliContext& ctx);
void AddGridReplayCommand(CLI::App& app, CliContext& ctx);

// The backend and kernel threads the configuration asks for (kernels.backend, kernels.threads).
Result<ModelOptions> ConfiguredModelOptions(const CliContext& ctx);

// Thread-safe progress of many learners of many models. On a terminal: one line rewritten in
// place (model, learner, epoch, step, loss, samples/s, ETA); otherwise an info log line per
// learner at most every `log_every_s` seconds, and one at every epoch end.
class TrainingProgress {
 public:
  TrainingProgress(const CliContext& ctx, double log_every_s = 5.0);
  ~TrainingProgress();
  // `epochs`: the run's total, for the line and the ETA.
  void Update(const std::string& model, int learner, int epochs, const TrainProgress& p);
  // Ends the live line (call before printing anything else).
  void Finish();

 private:
  struct LearnerState {
    std::chrono::steady_clock::time_point epoch_started, last_log;
    double last_epoch_seconds = 0;
    int64_t last_epoch_samples = 0;
  };
  const CliContext& ctx_;
  double log_every_s_;
  std::mutex mu_;
  std::map<std::pair<std::string, int>, LearnerState> state_;
  bool line_open_ = false;
};

}  // namespace nemesyst::cli

#endif  // NEMESYST_TOOLS_JOB_CLI_H_
