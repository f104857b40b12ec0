#include "tools/nemesyst/job_cli.h"

#include <cmath>
#include <cstdio>
#include <iostream>

namespace nemesyst::cli {

TrainingProgress::TrainingProgress(const CliContext& ctx, double log_every_s)
    : ctx_(ctx), log_every_s_(log_every_s) {}

TrainingProgress::~TrainingProgress() { Finish(); }

void TrainingProgress::Finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (line_open_) {
    std::cerr << "\n" << std::flush;
    line_open_ = false;
  }
}

Result<ModelOptions> ConfiguredModelOptions(const CliContext& ctx) {
  ModelOptions options;
  NEMESYST_ASSIGN_OR_RETURN(options.backend, ParseBackend(ctx.config.GetString("kernels.backend")));
  const int64_t threads = ctx.config.GetInt("kernels.threads");
  if (threads < 1 || threads > 256) {
    return Status::InvalidArgument("kernels.threads must be in 1..256, got " +
                                   std::to_string(threads) + " (" +
                                   ctx.config.GetEntry("kernels.threads").origin + ")");
  }
  options.kernel.threads = static_cast<int>(threads);
  options.memory_budget_bytes =
      static_cast<uint64_t>(ctx.config.GetInt("kernels.memory_budget_mb")) * 1'000'000;
  return options;
}

void TrainingProgress::Update(const std::string& model, int learner, int epochs,
                              const TrainProgress& p) {
  using Clock = std::chrono::steady_clock;
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = Clock::now();
  LearnerState& s = state_[{model, learner}];
  if (s.epoch_started == Clock::time_point{}) s.epoch_started = s.last_log = now;
  const double in_epoch = std::chrono::duration<double>(now - s.epoch_started).count();
  // ETA from the previous epoch's duration (the first epoch's size is unknown when reading a
  // consumer group: it ends when the group has nothing more).
  double eta_s = -1;
  if (s.last_epoch_seconds > 0) {
    const double done = s.last_epoch_samples > 0
                            ? std::min(1.0, static_cast<double>(p.samples) / s.last_epoch_samples)
                            : 0;
    eta_s = (epochs - p.epoch) * s.last_epoch_seconds + (1 - done) * s.last_epoch_seconds;
  }
  if (p.epoch_end) {
    s.last_epoch_seconds = in_epoch;
    s.last_epoch_samples = p.samples;
    s.epoch_started = now;
    if (p.epoch >= epochs) eta_s = 0;
  }
  char eta[32] = "?";
  if (eta_s >= 0) {
    std::snprintf(eta, sizeof(eta), "%d:%02d", static_cast<int>(eta_s) / 60,
                  static_cast<int>(eta_s) % 60);
  }
  char line[256];
  std::snprintf(line, sizeof(line),
                "%s learner %d  epoch %d/%d  step %lld  loss %.4f  %.0f samples/s  ETA %s",
                model.c_str(), learner, p.epoch, epochs, static_cast<long long>(p.step), p.loss,
                p.samples_per_second, eta);
  if (ctx_.stderr_is_terminal) {
    std::cerr << "\r\033[K" << line << std::flush;
    line_open_ = true;
    return;
  }
  const double since_log = std::chrono::duration<double>(now - s.last_log).count();
  if (!p.epoch_end && since_log < log_every_s_) return;
  s.last_log = now;
  ctx_.logger->Log(LogLevel::kInfo, "train", p.epoch_end ? "epoch done" : "training",
                   {{"model", model},
                    {"learner", std::to_string(learner)},
                    {"epoch", std::to_string(p.epoch) + "/" + std::to_string(epochs)},
                    {"step", std::to_string(p.step)},
                    {"loss", std::to_string(p.loss)},
                    {"samples_per_s", std::to_string(static_cast<int64_t>(p.samples_per_second))},
                    {"eta", eta}});
}

}  // namespace nemesyst::cli
