// nemesyst::Trainer: mini-batch training of regressors (loss + optimiser, clipping, dropout,
// early stopping) and GANs (alternating discriminator / generator updates).
#include <chrono>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "kernels/model_impl.h"
#include "kernels/optimizer.h"

namespace nemesyst {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

Result<kernels::OptimizerOptions> MakeOptimizerOptions(const TrainerOptions& o) {
  kernels::OptimizerOptions opt;
  NEMESYST_ASSIGN_OR_RETURN(opt.kind, kernels::ParseOptimizer(o.optimizer));
  opt.learning_rate = o.learning_rate;
  opt.momentum = o.momentum;
  opt.beta1 = o.beta1;
  opt.beta2 = o.beta2;
  opt.weight_decay = o.weight_decay;
  return opt;
}

Status ValidateOptions(const TrainerOptions& o) {
  auto bad = [](const std::string& what) { return Status::InvalidArgument("trainer: " + what); };
  if (o.epochs < 1) return bad("epochs must be >= 1");
  if (o.batch_size < 1) return bad("batch_size must be >= 1");
  if (!(o.learning_rate > 0.0) || !std::isfinite(o.learning_rate)) {
    return bad("learning_rate must be > 0");
  }
  if (o.momentum < 0.0 || o.momentum >= 1.0) return bad("momentum must be in [0, 1)");
  if (o.beta1 < 0.0 || o.beta1 >= 1.0 || o.beta2 < 0.0 || o.beta2 >= 1.0) {
    return bad("beta1 and beta2 must be in [0, 1)");
  }
  if (o.weight_decay < 0.0) return bad("weight_decay must be >= 0");
  if (o.clip_norm < 0.0) return bad("clip_norm must be >= 0 (0 = off)");
  if (o.patience < 0) return bad("patience must be >= 0");
  if (o.discriminator_steps < 1) return bad("discriminator_steps must be >= 1");
  if (o.progress_every_steps < 0) return bad("progress_every_steps must be >= 0");
  return Status::OK();
}

// Checks that a provider's shape fits the model.
Status CheckProvider(const Model& model, const BatchProvider& p, const char* which) {
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument(std::string(which) + " provider: " + what);
  };
  if (p.features() != model.features()) {
    return bad("has " + std::to_string(p.features()) + " features, the model takes " +
               std::to_string(model.features()));
  }
  if (model.steps() != 0 && p.steps() != model.steps()) {
    return bad("has " + std::to_string(p.steps()) + "-step windows, the model takes " +
               std::to_string(model.steps()));
  }
  if (p.label_width() != model.label_width()) {
    return bad("has label width " + std::to_string(p.label_width()) + ", the model needs " +
               std::to_string(model.label_width()));
  }
  return Status::OK();
}

Status CheckBatch(const Batch& b, int max_batch, const BatchProvider& p, const char* which) {
  if (b.batch < 1 || b.batch > max_batch || b.steps != p.steps() || b.features != p.features() ||
      b.label_width != p.label_width() ||
      b.x.size() != static_cast<size_t>(b.batch) * b.steps * b.features ||
      b.y.size() != static_cast<size_t>(b.batch) * b.label_width) {
    return Status::InvalidArgument(std::string(which) +
                                   " provider returned a batch whose shape or sizes do not match");
  }
  return Status::OK();
}

class Run {
 public:
  Run(const TrainerOptions& options, Model::Impl* model)
      : o_(options), m_(model), logger_(options.logger ? options.logger : NullLogger()) {}

  Result<TrainReport> Regressor(BatchProvider& train, BatchProvider* validation);
  Result<TrainReport> Gan(BatchProvider& train);

 private:
  bool ShouldStop() const { return o_.should_stop && o_.should_stop(); }
  void Report(const TrainProgress& p) {
    if (o_.on_progress) o_.on_progress(p);
  }
  Result<double> ValidationLoss(BatchProvider& validation);
  // Progress within an epoch, every progress_every_steps optimiser steps (GAN: generator steps).
  void ReportSteps(int epoch, int64_t steps, int64_t samples, double loss, double generator_loss,
                   Clock::time_point epoch_start) {
    if (o_.progress_every_steps <= 0 || steps % o_.progress_every_steps != 0) return;
    TrainProgress p;
    p.epoch = epoch;
    p.step = steps;
    p.samples = samples;
    p.loss = loss;
    p.generator_loss = generator_loss;
    p.samples_per_second = samples / std::max(Seconds(epoch_start), 1e-9);
    p.validation_loss = kNaN;
    Report(p);
  }
  // An epoch's end: its metrics logged, and reported as the epoch_end progress.
  void EndEpoch(const TrainEpochMetrics& e, int64_t steps) {
    LogEpoch(e);
    TrainProgress p;
    p.epoch = e.epoch;
    p.step = steps;
    p.samples = e.samples;
    p.loss = e.loss;
    p.generator_loss = e.generator_loss;
    p.samples_per_second = e.samples_per_second;
    p.validation_loss = e.validation_loss;
    p.epoch_end = true;
    Report(p);
  }
  void LogEpoch(const TrainEpochMetrics& e) {
    logger_->Log(LogLevel::kInfo, "kernels.trainer", "epoch done",
                 {{"epoch", std::to_string(e.epoch)},
                  {"loss", std::to_string(e.loss)},
                  {"validation_loss", std::to_string(e.validation_loss)},
                  {"samples_per_second", std::to_string(e.samples_per_second)}});
  }

  const TrainerOptions& o_;
  Model::Impl* m_;
  Logger* logger_;
  Batch batch_;
};

Result<double> Run::ValidationLoss(BatchProvider& validation) {
  NEMESYST_RETURN_IF_ERROR(validation.Rewind());
  double sum = 0;
  int64_t count = 0;
  while (true) {
    NEMESYST_ASSIGN_OR_RETURN(bool got, validation.Next(o_.batch_size, &batch_));
    if (!got) break;
    NEMESYST_RETURN_IF_ERROR(CheckBatch(batch_, o_.batch_size, validation, "validation"));
    NEMESYST_ASSIGN_OR_RETURN(
        double loss,
        m_->regressor->Evaluate(batch_.batch, batch_.steps, batch_.x.data(), batch_.y.data()));
    sum += loss * batch_.batch;
    count += batch_.batch;
  }
  if (count == 0) return Status::InvalidArgument("validation provider produced no windows");
  return sum / count;
}

Result<TrainReport> Run::Regressor(BatchProvider& train, BatchProvider* validation) {
  kernels::RegressorNet& net = *m_->regressor;
  kernels::ParameterSet& params = net.params();
  NEMESYST_ASSIGN_OR_RETURN(auto opt_options, MakeOptimizerOptions(o_));
  kernels::Optimizer optimizer(opt_options, params.size());
  kernels::Rng rng(o_.seed);
  TrainReport report;
  report.best_loss = std::numeric_limits<double>::infinity();
  std::vector<float> best_values;
  const bool early_stopping = o_.patience > 0 && validation;

  for (int epoch = 1; epoch <= o_.epochs && !ShouldStop(); ++epoch) {
    NEMESYST_RETURN_IF_ERROR(train.Rewind());
    const auto start = Clock::now();
    TrainEpochMetrics e;
    e.epoch = epoch;
    double loss_sum = 0, norm_sum = 0;
    int64_t epoch_steps = 0;
    while (!ShouldStop()) {
      NEMESYST_ASSIGN_OR_RETURN(bool got, train.Next(o_.batch_size, &batch_));
      if (!got) break;
      NEMESYST_RETURN_IF_ERROR(CheckBatch(batch_, o_.batch_size, train, "training"));
      params.ZeroGrads();
      NEMESYST_ASSIGN_OR_RETURN(double loss, net.TrainStep(batch_.batch, batch_.steps,
                                                           batch_.x.data(), batch_.y.data(), &rng));
      const double norm =
          kernels::ClipByGlobalNorm(params.grads().data(), params.size(), o_.clip_norm);
      if (!std::isfinite(loss) || !std::isfinite(norm)) {
        return Status::FailedPrecondition(
            "training diverged (loss or gradient not finite) at epoch " + std::to_string(epoch) +
            ", step " + std::to_string(report.steps + 1) +
            "; lower learning_rate or set clip_norm");
      }
      optimizer.Step(params.values().data(), params.grads().data());
      NEMESYST_RETURN_IF_ERROR(net.SyncWeights());
      ++report.steps;
      ++epoch_steps;
      loss_sum += loss * batch_.batch;
      norm_sum += norm;
      e.samples += batch_.batch;
      ReportSteps(epoch, report.steps, e.samples, loss_sum / e.samples, 0.0, start);
    }
    if (e.samples == 0) {
      if (ShouldStop()) break;
      return Status::InvalidArgument("training provider produced no windows in epoch " +
                                     std::to_string(epoch));
    }
    e.loss = loss_sum / e.samples;
    e.gradient_norm = norm_sum / epoch_steps;
    e.seconds = Seconds(start);
    e.samples_per_second = e.samples / std::max(e.seconds, 1e-9);
    e.validation_loss = kNaN;
    if (validation) {
      NEMESYST_ASSIGN_OR_RETURN(e.validation_loss, ValidationLoss(*validation));
    }
    const double judged = validation ? e.validation_loss : e.loss;
    if (judged < report.best_loss - o_.min_delta || report.best_epoch == 0) {
      report.best_loss = std::min(judged, report.best_loss);
      report.best_epoch = epoch;
      if (early_stopping) best_values = params.values();
    }
    report.epochs.push_back(e);
    EndEpoch(e, report.steps);
    if (early_stopping && epoch - report.best_epoch >= o_.patience) {
      report.stopped_early = true;
      break;
    }
  }
  if (early_stopping && !best_values.empty()) {
    params.values() = best_values;  // the weights of the best validation epoch
    NEMESYST_RETURN_IF_ERROR(net.SyncWeights());
  }
  return report;
}

Result<TrainReport> Run::Gan(BatchProvider& train) {
  kernels::GanNet& gan = *m_->gan;
  kernels::ParameterSet& g = gan.generator_params();
  kernels::ParameterSet& d = gan.discriminator_params();
  NEMESYST_ASSIGN_OR_RETURN(auto opt_options, MakeOptimizerOptions(o_));
  kernels::Optimizer g_opt(opt_options, g.size()), d_opt(opt_options, d.size());
  kernels::Rng rng(o_.seed);
  const bool conditional = gan.spec().condition > 0;
  TrainReport report;
  report.best_loss = std::numeric_limits<double>::infinity();

  for (int epoch = 1; epoch <= o_.epochs && !ShouldStop(); ++epoch) {
    NEMESYST_RETURN_IF_ERROR(train.Rewind());
    const auto start = Clock::now();
    TrainEpochMetrics e;
    e.epoch = epoch;
    double d_sum = 0, g_sum = 0, real_acc = 0, fake_acc = 0, norm_sum = 0;
    int64_t d_updates = 0, g_updates = 0;
    while (!ShouldStop()) {
      NEMESYST_ASSIGN_OR_RETURN(bool got, train.Next(o_.batch_size, &batch_));
      if (!got) break;
      NEMESYST_RETURN_IF_ERROR(CheckBatch(batch_, o_.batch_size, train, "training"));
      const float* condition = conditional ? batch_.y.data() : nullptr;
      for (int k = 0; k < o_.discriminator_steps; ++k) {
        d.ZeroGrads();
        NEMESYST_ASSIGN_OR_RETURN(
            auto r, gan.DiscriminatorStep(batch_.batch, batch_.x.data(), condition, rng));
        const double norm = kernels::ClipByGlobalNorm(d.grads().data(), d.size(), o_.clip_norm);
        if (!std::isfinite(r.loss) || !std::isfinite(norm)) {
          return Status::FailedPrecondition("GAN training diverged (discriminator) at epoch " +
                                            std::to_string(epoch));
        }
        d_opt.Step(d.values().data(), d.grads().data());
        NEMESYST_RETURN_IF_ERROR(gan.SyncWeights());
        d_sum += r.loss;
        real_acc += r.real_accuracy;
        fake_acc += r.fake_accuracy;
        ++d_updates;
      }
      g.ZeroGrads();
      d.ZeroGrads();
      NEMESYST_ASSIGN_OR_RETURN(double g_loss, gan.GeneratorStep(batch_.batch, condition, rng));
      const double norm = kernels::ClipByGlobalNorm(g.grads().data(), g.size(), o_.clip_norm);
      if (!std::isfinite(g_loss) || !std::isfinite(norm)) {
        return Status::FailedPrecondition("GAN training diverged (generator) at epoch " +
                                          std::to_string(epoch));
      }
      g_opt.Step(g.values().data(), g.grads().data());
      NEMESYST_RETURN_IF_ERROR(gan.SyncWeights());
      g_sum += g_loss;
      norm_sum += norm;
      ++g_updates;
      ++report.steps;
      e.samples += batch_.batch;
      ReportSteps(epoch, report.steps, e.samples, d_sum / d_updates, g_sum / g_updates, start);
    }
    if (e.samples == 0) {
      if (ShouldStop()) break;
      return Status::InvalidArgument("training provider produced no windows in epoch " +
                                     std::to_string(epoch));
    }
    e.loss = d_sum / d_updates;
    e.generator_loss = g_sum / g_updates;
    e.discriminator_real_accuracy = real_acc / d_updates;
    e.discriminator_fake_accuracy = fake_acc / d_updates;
    e.gradient_norm = norm_sum / g_updates;
    e.validation_loss = kNaN;
    e.seconds = Seconds(start);
    e.samples_per_second = e.samples / std::max(e.seconds, 1e-9);
    report.epochs.push_back(e);
    report.best_epoch = epoch;  // GANs have no validation criterion: the last epoch is kept
    report.best_loss = e.loss;
    EndEpoch(e, report.steps);
  }
  return report;
}

}  // namespace

std::string TrainReport::ToJson() const {
  nlohmann::json doc;
  doc["best_epoch"] = best_epoch;
  doc["best_loss"] = best_loss;
  doc["stopped_early"] = stopped_early;
  doc["steps"] = steps;
  doc["epochs"] = nlohmann::json::array();
  for (const TrainEpochMetrics& e : epochs) {
    doc["epochs"].push_back({{"epoch", e.epoch},
                             {"loss", e.loss},
                             {"validation_loss", e.validation_loss},
                             {"generator_loss", e.generator_loss},
                             {"discriminator_real_accuracy", e.discriminator_real_accuracy},
                             {"discriminator_fake_accuracy", e.discriminator_fake_accuracy},
                             {"gradient_norm", e.gradient_norm},
                             {"samples", e.samples},
                             {"seconds", e.seconds},
                             {"samples_per_second", e.samples_per_second}});
  }
  return doc.dump();  // NaN (no validation) is written as null
}

Result<TrainReport> Trainer::Train(Model& model, BatchProvider& train, BatchProvider* validation) {
  NEMESYST_RETURN_IF_ERROR(ValidateOptions(options_));
  NEMESYST_RETURN_IF_ERROR(CheckProvider(model, train, "training"));
  Model::Impl* impl = ModelInternals::Of(model);
  if (impl->gan) {
    if (validation) {
      return Status::InvalidArgument("trainer: GAN training takes no validation provider");
    }
    return Run(options_, impl).Gan(train);
  }
  if (validation) NEMESYST_RETURN_IF_ERROR(CheckProvider(model, *validation, "validation"));
  return Run(options_, impl).Regressor(train, validation);
}

}  // namespace nemesyst
