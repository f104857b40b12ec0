#include "nemesyst/train_job.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <thread>

#include "common/scope_exit.h"
#include "jobs/augmented_provider.h"
#include "jobs/fit_sample.h"
#include "jobs/group_values.h"
#include "jobs/replay_provider.h"
#include "nemesyst/pipeline.h"
#include "nemesyst/predict_job.h"
#include "nemesyst/predictions.h"

namespace nemesyst {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

Status ValidateOptions(const TrainJobOptions& o) {
  if (o.model_name.empty()) return Status::InvalidArgument("train: a model name is required");
  if (o.learners < 1 || o.learners > 64) {
    return Status::InvalidArgument("train: learners must be in 1..64");
  }
  if (o.trainer.epochs < 1) return Status::InvalidArgument("train: epochs must be ≥ 1");
  if (o.trainer.batch_size < 1) return Status::InvalidArgument("train: batch size must be ≥ 1");
  if (!(o.trainer.learning_rate > 0)) {
    return Status::InvalidArgument("train: learning rate must be > 0");
  }
  if (o.fit_records < 1) return Status::InvalidArgument("train: fit_records must be ≥ 1");
  if (!(o.fit_hours > 0)) return Status::InvalidArgument("train: fit_hours must be > 0");
  if (!(o.lower_risk >= 0 && o.lower_risk < 1)) {
    return Status::InvalidArgument("train: lower_risk must be in [0, 1) (0: no lower bound)");
  }
  if (o.parent.empty() && o.model_spec_json.empty()) {
    return Status::InvalidArgument("train: a model spec (or a parent model to continue) is needed");
  }
  if (o.parent.empty() && o.pipeline_text.empty()) {
    return Status::InvalidArgument("train: a pipeline spec (or a parent model) is needed");
  }
  return Status::OK();
}

// What every learner shares (read-only while learners run).
struct Shared {
  const TrainJobOptions* options = nullptr;
  Store* store = nullptr;
  const Pipeline* pipeline = nullptr;
  std::string resolved_pipeline;
  std::string stream;
  std::string group;
  std::string spec_json;
  std::string parent_blob;  // non-empty: learners start from these weights
  uint32_t parent_version = 0;
  std::string gan_blob;  // non-empty: augment with this GAN
  std::string gan_ref;
  std::shared_ptr<const WindowDataset> validation;
  jobs::GroupValues groups;  // the validation windows' lower-bound groups
  Logger* logger = nullptr;
};

Result<std::string> ReadBlob(const Store& store, const ResolvedModel& m) {
  return store.ReadModelBlob(m.name, m.version);
}

ModelMetadata MakeMetadata(const Shared& s, const Model& model, const LearnerVersion& v,
                           int learner, size_t synthetic) {
  const TrainJobOptions& o = *s.options;
  ModelMetadata meta;
  meta.kind = std::string(model.family());
  auto& hp = meta.hyper_parameters;
  hp["spec"] = model.spec_json();
  hp["epochs"] = std::to_string(o.trainer.epochs);
  hp["batch_size"] = std::to_string(o.trainer.batch_size);
  hp["optimizer"] = o.trainer.optimizer;
  hp["learning_rate"] = Num(o.trainer.learning_rate);
  hp["clip_norm"] = Num(o.trainer.clip_norm);
  hp["seed"] = std::to_string(o.trainer.seed + static_cast<uint64_t>(learner));
  hp["learners"] = std::to_string(o.learners);
  hp["learner"] = std::to_string(learner);
  hp["group"] = s.group;
  hp["backend"] = std::string(BackendName(model.backend()));
  hp["kernel_threads"] = std::to_string(o.model.kernel.threads);
  hp["parameters"] = std::to_string(model.parameter_count());
  if (!s.gan_ref.empty()) {
    hp["augment_gan"] = s.gan_ref;
    hp["augment_fraction"] = Num(o.augment_fraction);
    hp["synthetic_windows"] = std::to_string(synthetic);
  }
  for (const TrainEpochMetrics& e : v.epochs) {
    EpochMetrics em;
    em.epoch = e.epoch;
    em.metrics["train_loss"] = e.loss;
    if (std::isfinite(e.validation_loss)) em.metrics["val_loss"] = e.validation_loss;
    if (model.kind() == "gan") em.metrics["generator_loss"] = e.generator_loss;
    em.metrics["samples"] = static_cast<double>(e.samples);
    em.metrics["seconds"] = e.seconds;
    meta.epoch_metrics.push_back(std::move(em));
  }
  if (!v.epochs.empty()) meta.metrics["train_loss"] = v.epochs.back().loss;
  if (std::isfinite(v.val_mae_s)) {
    meta.metrics["val_mae_s"] = v.val_mae_s;
    meta.metrics["val_p90_s"] = v.val_p90_s;
    meta.metrics["val_overpredict_p99_s"] = v.val_overpredict_p99_s;
  }
  if (v.lower) AddLowerBoundMetadata(*v.lower, &meta);
  if (model.kind() == "gan" && !v.epochs.empty()) {
    meta.metrics["discriminator_loss"] = v.epochs.back().loss;
    meta.metrics["generator_loss"] = v.epochs.back().generator_loss;
  }
  meta.metrics["train_windows"] = static_cast<double>(v.windows);
  meta.metrics["train_seconds"] = v.train_seconds;
  meta.lineage.stream = s.stream;
  meta.lineage.seq_ranges = v.ranges;
  meta.lineage.pipeline_spec = s.resolved_pipeline;
  meta.lineage.parent_version = s.parent_version;
  meta.lineage.node_id = o.node_id;
  meta.lineage.code_version = o.code_version;
  return meta;
}

// One learner: its own model, group member, cached claims and (optional) augmentation.
struct Learner {
  int index = 0;
  uint64_t seed = 0;
  std::unique_ptr<Model> model;
  std::unique_ptr<GroupBatchProvider> group;
  std::unique_ptr<jobs::ReplayProvider> replay;
  std::unique_ptr<Model> gan;
  std::unique_ptr<jobs::AugmentedProvider> augmented;
  std::unique_ptr<BatchProvider> validation;
  BatchProvider* train = nullptr;
  Clock::time_point started;
  LearnerVersion* out = nullptr;
  Status status;
  bool stopped = false;
  Status lease;  // not OK once a claimed batch's lease could not be renewed (learner's thread)
};

Status PrepareLearner(const Shared& s, int index, LearnerVersion* out, Learner* l) {
  const TrainJobOptions& o = *s.options;
  l->index = index;
  l->out = out;
  l->started = Clock::now();
  out->learner = index;
  out->val_mae_s = std::numeric_limits<double>::quiet_NaN();
  l->seed = o.trainer.seed + static_cast<uint64_t>(index);
  if (!s.parent_blob.empty()) {
    NEMESYST_ASSIGN_OR_RETURN(l->model, Model::Deserialize(s.parent_blob, o.model));
  } else {
    NEMESYST_ASSIGN_OR_RETURN(l->model, Model::Create(s.spec_json, l->seed, o.model));
  }
  const Pipeline& p = *s.pipeline;
  Model& m = *l->model;
  if (m.features() != p.features() || (m.steps() != 0 && m.steps() != p.steps()) ||
      m.label_width() != p.label_width()) {
    return Status::InvalidArgument(
        "train: the model spec expects windows of " + std::to_string(m.steps()) + " x " +
        std::to_string(m.features()) + " with " + std::to_string(m.label_width()) +
        " label(s), but the pipeline makes " + std::to_string(p.steps()) + " x " +
        std::to_string(p.features()) + " with " + std::to_string(p.label_width()));
  }
  GroupProviderOptions g;
  g.group = s.group;
  g.member = o.node_id + "/learner-" + std::to_string(index);
  g.split = DataSplit::kTrain;
  g.records_per_claim = o.records_per_claim;
  g.lease_ms = o.lease_ms;
  g.auto_ack = false;  // acknowledged together with the model, in one write
  NEMESYST_ASSIGN_OR_RETURN(l->group, MakeGroupProvider(s.store, s.pipeline, g));
  l->replay = std::make_unique<jobs::ReplayProvider>(l->group.get(), l->seed);
  l->train = l->replay.get();
  if (!s.gan_blob.empty()) {
    NEMESYST_ASSIGN_OR_RETURN(l->gan, Model::Deserialize(s.gan_blob, o.model));
    l->augmented = std::make_unique<jobs::AugmentedProvider>(
        l->replay.get(), l->gan.get(), o.augment_fraction, l->seed * 7919 + 17);
    NEMESYST_RETURN_IF_ERROR(l->augmented->Check());
    l->train = l->augmented.get();
  }
  if (m.kind() == "regressor" && s.validation && s.validation->Count(DataSplit::kValidation) > 0) {
    DatasetProviderOptions v;
    v.split = DataSplit::kValidation;
    v.shuffle = false;
    NEMESYST_ASSIGN_OR_RETURN(l->validation, MakeDatasetProvider(s.validation, v));
  }
  return Status::OK();
}

// The learner's calibrated lower bound from its validation predictions (nemesyst/lower_bound.h).
// Too few windows for the risk leaves the version without one, with a warning.
Status FitLearnerLowerBound(const Shared& s, const WindowPredictions& vp, Learner* l) {
  const TrainJobOptions& o = *s.options;
  std::vector<std::string> groups;
  if (!o.lower_group_field.empty()) {
    groups.reserve(vp.device.size());
    for (size_t i = 0; i < vp.device.size(); ++i) {
      groups.push_back(s.groups.At(vp.device[i], vp.end_us[i]));
    }
  }
  Result<LowerBoundCalibration> fit =
      FitLowerBound(vp.predicted_s, vp.truth_s, groups, o.lower_risk, o.lower_group_field);
  if (fit.status().code() == StatusCode::kFailedPrecondition) {
    s.logger->Log(
        LogLevel::kWarn, "jobs.train", "no calibrated lower bound",
        {{"learner", std::to_string(l->index)}, {"reason", std::string(fit.status().message())}});
    return Status::OK();
  }
  NEMESYST_ASSIGN_OR_RETURN(LowerBoundCalibration c, std::move(fit));
  for (const auto& [g, m] : c.groups) {
    if (!m.pooled_fallback) continue;
    s.logger->Log(LogLevel::kWarn, "jobs.train", "lower bound group uses the pooled margin",
                  {{"learner", std::to_string(l->index)},
                   {"group", o.lower_group_field + "=" + g},
                   {"windows", std::to_string(m.n)}});
  }
  l->out->lower = std::move(c);
  return Status::OK();
}

// Training only (runs on the learner's thread): no store writes.
Status TrainLearner(const Shared& s, Learner* l) {
  const TrainJobOptions& o = *s.options;
  TrainerOptions lo = o.trainer;
  lo.seed = l->seed;
  lo.logger = s.logger;
  // The claims' leases are held until the model is committed: renew them as training reports
  // progress (the epochs after the first replay the windows; no Next() renews them then). A
  // lease lost anyway (it ran out and the batch went to another member) ends this learner's
  // training: its model could not be committed with that batch.
  const std::function<bool()> outer_stop = o.should_stop;
  lo.should_stop = [l, outer_stop] { return !l->lease.ok() || (outer_stop && outer_stop()); };
  auto sink = o.on_progress;
  lo.on_progress = [sink, l](const TrainProgress& p) {
    if (sink) sink(l->index, p);
    if (l->lease.ok()) l->lease = l->group->RenewLeases();
  };
  if (o.deterministic_claims && l->replay->windows() == 0) {
    return Status::OK();  // the other learners claimed everything: nothing to train on
  }
  auto trained = Trainer(lo).Train(*l->model, *l->train, l->validation.get());
  if (!l->lease.ok()) return l->lease.WithContext("renewing the claimed batches' leases");
  if (!trained.ok() && l->replay->windows() == 0) {
    return Status::OK();  // claimed as it went and found nothing new
  }
  NEMESYST_ASSIGN_OR_RETURN(TrainReport report, std::move(trained));
  l->out->epochs = report.epochs;
  l->out->windows = l->replay->windows();
  // Fewer epochs than asked without early stopping: should_stop ended it (a lost lease, or the
  // caller's stop).
  l->stopped = static_cast<int>(report.epochs.size()) < lo.epochs && !report.stopped_early;
  if (l->validation && !l->stopped && l->out->windows > 0) {
    const Pipeline& p = *s.pipeline;
    NEMESYST_ASSIGN_OR_RETURN(WindowPredictions vp,
                              PredictWindows(*l->model, *l->validation,
                                             [&p](double v) { return p.LabelToOriginal(0, v); }));
    NEMESYST_ASSIGN_OR_RETURN(ErrorStats stats, ComputeErrorStats(vp.truth_s, vp.predicted_s));
    l->out->val_mae_s = stats.mae_s;
    l->out->val_p90_s = stats.p90_s;
    std::vector<double> over(vp.truth_s.size());
    for (size_t i = 0; i < over.size(); ++i) {
      over[i] = std::max(0.0, vp.predicted_s[i] - vp.truth_s[i]);
    }
    l->out->val_overpredict_p99_s = Percentile(std::move(over), 0.99);
    if (o.lower_risk > 0) NEMESYST_RETURN_IF_ERROR(FitLearnerLowerBound(s, vp, l));
  }
  l->out->train_seconds = SecondsSince(l->started);
  return Status::OK();
}

// Gives the learner's batches back for immediate redelivery (it did not train to the end).
void GiveBack(const Shared& s, Learner* l) {
  for (const GroupAck& a : l->group->TakePendingAcks()) {
    s.store->Nack(a.group, a.lease).IgnoreError();
  }
}

// Registers the learner's version: the model, its metadata and the acknowledgement of every
// batch it trained on, in one atomic write.
Status CommitLearner(const Shared& s, Learner* l) {
  const TrainJobOptions& o = *s.options;
  LearnerVersion* out = l->out;
  std::vector<GroupAck> acks = l->group->TakePendingAcks();
  out->ranges = l->group->ConsumedRanges();
  if (out->windows == 0) {
    // Nothing to learn from (the other learners claimed everything): acknowledge the claims it
    // read (they held only other splits' windows) and register nothing.
    for (const GroupAck& a : acks) NEMESYST_RETURN_IF_ERROR(s.store->Ack(a.group, a.lease));
    s.logger->Log(LogLevel::kWarn, "jobs.train", "learner got no training windows",
                  {{"learner", std::to_string(l->index)}});
    return Status::OK();
  }
  ModelMetadata meta = MakeMetadata(s, *l->model, *out, l->index,
                                    l->augmented ? l->augmented->synthetic_windows() : 0);
  ModelFileMetadata file_meta = {{"pipeline", s.resolved_pipeline},
                                 {"model_name", o.model_name},
                                 {"stream", s.stream},
                                 {"input_fields", JoinFieldList(s.pipeline->input_fields())}};
  if (out->lower) file_meta[kLowerBoundFileKey] = LowerBoundToJson(*out->lower);
  NEMESYST_ASSIGN_OR_RETURN(std::string blob, l->model->Serialize(file_meta));
  NEMESYST_ASSIGN_OR_RETURN(out->version, s.store->CommitModel(o.model_name, blob, meta, acks));
  s.logger->Log(LogLevel::kInfo, "jobs.train", "registered model version",
                {{"model", o.model_name + "@" + std::to_string(out->version)},
                 {"learner", std::to_string(l->index)},
                 {"windows", std::to_string(out->windows)},
                 {"val_mae_s", Num(out->val_mae_s)}});
  return Status::OK();
}

}  // namespace

TrainerOptions TrainJobOptions::DefaultTrainer() {
  TrainerOptions t;
  t.epochs = 5;
  t.batch_size = 64;
  t.learning_rate = 1e-3;
  t.clip_norm = 1.0;
  t.seed = 1;
  t.progress_every_steps = 20;
  return t;
}

// Refuses the job when its learners' training (at window length `steps`, 0 = the spec's) plus
// `extra_bytes` exceeds the memory budget, with the estimate in the message.
Status CheckTrainingMemory(const Shared& s, int steps, uint64_t extra_bytes) {
  const TrainJobOptions& o = *s.options;
  NEMESYST_ASSIGN_OR_RETURN(
      const MemoryEstimate need,
      Model::EstimateMemory(s.spec_json, o.trainer.batch_size, steps, o.trainer.optimizer));
  const uint64_t budget = MemoryBudgetBytes(o.model);
  const uint64_t total = need.training_bytes * static_cast<uint64_t>(o.learners) + extra_bytes;
  s.logger->Log(LogLevel::kDebug, "jobs.train", "memory estimate",
                {{"bytes", std::to_string(total)}, {"budget", std::to_string(budget)}});
  if (total <= budget) return Status::OK();
  return Status::ResourceExhausted(
      "train: training needs about " + FormatBytes(total) + " (" + std::to_string(o.learners) +
      " learner(s) × " + FormatBytes(need.training_bytes) + ": " + std::to_string(need.parameters) +
      " parameters, optimiser state and one batch of " + std::to_string(o.trainer.batch_size) +
      (extra_bytes > 0 ? "; " + FormatBytes(extra_bytes) + " for the fit sample" : "") +
      ") but the memory budget is " + FormatBytes(budget) +
      " (kernels.memory_budget_mb; default a quarter of physical memory); use a smaller model, "
      "batch, window, fit sample or fewer learners");
}

Result<TrainJobResult> RunTrainJob(Store& store, const TrainJobOptions& o) {
  NEMESYST_RETURN_IF_ERROR(ValidateOptions(o));
  const auto t0 = Clock::now();
  Shared s;
  s.options = &o;
  s.store = &store;
  s.logger = o.logger != nullptr ? o.logger : NullLogger();
  s.spec_json = o.model_spec_json;
  std::string pipeline_text = o.pipeline_text;

  if (!o.parent.empty()) {
    NEMESYST_ASSIGN_OR_RETURN(ResolvedModel parent, store.ResolveModel(o.parent));
    if (parent.name != o.model_name) {
      s.logger->Log(LogLevel::kInfo, "jobs.train", "continuing from another model's version",
                    {{"parent", parent.name + "@" + std::to_string(parent.version)}});
    }
    NEMESYST_ASSIGN_OR_RETURN(s.parent_blob, ReadBlob(store, parent));
    ModelFileMetadata meta;
    NEMESYST_ASSIGN_OR_RETURN(auto parent_model, Model::Deserialize(s.parent_blob, o.model, &meta));
    s.spec_json = parent_model->spec_json();
    if (meta.count("pipeline") == 0) {
      return Status::FailedPrecondition("parent model " + o.parent +
                                        " carries no pipeline; it cannot be continued");
    }
    pipeline_text = meta["pipeline"];  // resolved: the statistics stay those of the parent
    s.parent_version = parent.name == o.model_name ? parent.version : 0;
  }

  // Training must fit in the memory budget: estimated from the spec before anything is allocated
  // (every learner trains its own copy), refused with the estimate rather than left to swap.
  // Checked here with the spec's window, and again once the pipeline says its window and the
  // fit sample is counted.
  NEMESYST_RETURN_IF_ERROR(CheckTrainingMemory(s, 0, 0));
  // The model must build on the asked backend before anything is created: an unavailable backend
  // is an error here, not a silent fallback and not a consumer group left behind.
  NEMESYST_RETURN_IF_ERROR(Model::Create(s.spec_json, o.trainer.seed, o.model).status());

  NEMESYST_ASSIGN_OR_RETURN(s.stream, jobs::PipelineStream(pipeline_text, o.stream, "train"));
  NEMESYST_ASSIGN_OR_RETURN(auto pipeline,
                            Pipeline::CreateForStream(pipeline_text, store, s.stream));
  if (pipeline->label_width() < 1) {
    return Status::InvalidArgument("train: the pipeline has no label (set label.field)");
  }
  // The fit sample: its records, then its processed rows (a window references rows, no copy).
  const uint64_t sample_bytes =
      static_cast<uint64_t>(o.fit_records) *
      (sizeof(Record) + 48 + 8 * pipeline->input_fields().size() +
       4 * static_cast<uint64_t>(pipeline->features() + pipeline->label_width() + 2));
  NEMESYST_RETURN_IF_ERROR(CheckTrainingMemory(s, pipeline->steps(), sample_bytes));

  // Fit on the stream's first hours (every device's), at most fit_records records, and window
  // them for validation.
  NEMESYST_ASSIGN_OR_RETURN(
      std::vector<Record> sample,
      jobs::ReadFitSample(store, s.stream, o.fit_hours, o.fit_records, "train"));
  if (!pipeline->fitted() || o.parent.empty()) NEMESYST_RETURN_IF_ERROR(pipeline->Fit(sample));
  NEMESYST_ASSIGN_OR_RETURN(s.validation, pipeline->Apply(sample));
  if (o.lower_risk > 0 && !o.lower_group_field.empty()) {
    const auto& fields = pipeline->input_fields();
    auto f = std::find(fields.begin(), fields.end(), o.lower_group_field);
    if (f == fields.end()) {
      return Status::InvalidArgument("train: lower-bound group field '" + o.lower_group_field +
                                     "' is not a field of stream '" + s.stream +
                                     "' (fields: " + JoinFieldList(fields) + ")");
    }
    s.groups = jobs::GroupValues(sample, static_cast<int>(f - fields.begin()));
  }
  sample.clear();
  sample.shrink_to_fit();
  s.resolved_pipeline = pipeline->Serialize();
  s.pipeline = pipeline.get();

  if (!o.augment_gan.empty()) {
    NEMESYST_ASSIGN_OR_RETURN(ResolvedModel gan, store.ResolveModel(o.augment_gan));
    NEMESYST_ASSIGN_OR_RETURN(s.gan_blob, ReadBlob(store, gan));
    s.gan_ref = gan.name + "@" + std::to_string(gan.version);
  }
  s.group = o.group.empty() ? "train." + o.model_name : o.group;
  auto groups = store.ListGroups();
  // A group this job creates is removed again if the job ends without registering a version: left
  // behind, it would hold back the stream's retention forever. One that existed before is kept.
  bool created_group = false;
  // A flag, not derived from `result` in the guard: `return result;` moves it out before the
  // guard runs.
  bool registered = false;
  if (groups.ok() && std::find(groups->begin(), groups->end(), s.group) == groups->end()) {
    Status created = store.CreateGroup(s.group, s.stream, GroupStart::kEarliest);
    if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return created;
    created_group = created.ok();
  }
  // Declared before the learners, so it runs after they (and their leases) are gone.
  const ScopeExit remove_created_group([&] {
    if (!created_group || registered) return;
    Status removed = store.DeleteGroup(s.group, /*force=*/true);
    s.logger->Log(removed.ok() ? LogLevel::kInfo : LogLevel::kWarn, "jobs.train",
                  removed.ok() ? "removed the consumer group this failed job created"
                               : "could not remove the consumer group this failed job created",
                  {{"group", s.group}, {"status", removed.ToString()}});
  });
  NEMESYST_ASSIGN_OR_RETURN(GroupStats gstats, store.GetGroupStats(s.group));
  if (gstats.stream != s.stream) {
    return Status::InvalidArgument("train: consumer group '" + s.group + "' reads stream '" +
                                   gstats.stream + "', not '" + s.stream + "'");
  }

  TrainJobResult result;
  result.model_name = o.model_name;
  result.learners.resize(static_cast<size_t>(o.learners));
  std::vector<Learner> learners(static_cast<size_t>(o.learners));
  for (int i = 0; i < o.learners; ++i) {
    NEMESYST_RETURN_IF_ERROR(PrepareLearner(s, i, &result.learners[i], &learners[i]));
  }
  if (o.deterministic_claims) {
    // One thread hands the claims out round-robin, so which learner trains on which data does
    // not depend on thread timing: the same seed gives the same versions.
    std::vector<bool> done(learners.size(), false);
    size_t remaining = learners.size();
    while (remaining > 0) {
      for (size_t i = 0; i < learners.size(); ++i) {
        if (done[i]) continue;
        NEMESYST_ASSIGN_OR_RETURN(bool got, learners[i].replay->PullOneClaim());
        if (!got) done[i] = true, --remaining;
      }
    }
    for (Learner& l : learners) l.replay->FinishFirstPass();
  }
  std::vector<std::thread> threads;
  for (Learner& l : learners) {
    threads.emplace_back([&s, &l] { l.status = TrainLearner(s, &l); });
  }
  for (auto& t : threads) t.join();
  Status failed;
  for (Learner& l : learners) {
    if (!l.status.ok() && failed.ok())
      failed = l.status.WithContext("learner " + std::to_string(l.index));
    if (l.stopped && failed.ok()) {
      failed = Status::Aborted("training stopped before the last epoch; nothing registered");
    }
  }
  if (!failed.ok()) {
    for (Learner& l : learners) GiveBack(s, &l);
    return failed;
  }
  // Registered in learner order, so version numbers are reproducible too.
  for (Learner& l : learners) {
    Status committed = CommitLearner(s, &l);
    registered = registered || l.out->version != 0;
    NEMESYST_RETURN_IF_ERROR(committed);
  }

  // The candidate: best validation MAE; for GANs (no validation) the discriminator loss closest
  // to the equilibrium is not a reliable signal, so the learner that saw the most data wins.
  const LearnerVersion* best = nullptr;
  for (const LearnerVersion& v : result.learners) {
    if (v.version == 0) continue;
    if (best == nullptr) {
      best = &v;
    } else if (std::isfinite(v.val_mae_s) && std::isfinite(best->val_mae_s)) {
      if (v.val_mae_s < best->val_mae_s) best = &v;
    } else if (v.windows > best->windows) {
      best = &v;
    }
  }
  if (best == nullptr) {
    return Status::FailedPrecondition("train: no learner got training windows (the group '" +
                                      s.group +
                                      "' has nothing new; use a new --group to retrain "
                                      "on the same data)");
  }
  NEMESYST_RETURN_IF_ERROR(store.SetAlias(o.model_name, "candidate", best->version));
  result.candidate = best->version;
  result.seconds = SecondsSince(t0);
  return result;
}

}  // namespace nemesyst
