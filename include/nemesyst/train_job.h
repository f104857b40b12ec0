// `nemesyst train`: a stream, a pipeline spec and a model spec in; registered model versions with
// full lineage out.
//
// What happens:
//  1. The pipeline is bound to the stream's schema and fitted (normalisation statistics) on the
//     stream's first `fit_hours` of readings (or taken, already fitted, from the parent
//     version). The same records, windowed, give the validation set (the pipeline's validation
//     split: other stores/devices than training when it splits by store/device).
//  2. `learners` threads each build the model (seed + learner index), read training windows
//     through ONE consumer group (each its own member: the group hands every batch to exactly one
//     learner, so their data are disjoint), train `epochs` passes over what they claimed, and
//     register their own version with Store::CommitModel — the model blob, its metadata and the
//     acknowledgement of every batch it trained on, in one atomic write. A run killed before that
//     write leaves no model and no acknowledgement: the batches are handed out again once their
//     leases expire, and the group resumes.
//  3. The version with the best validation MAE (seconds) gets the alias `candidate`.
//  4. (Regressors, lower_risk > 0.) Each version's calibrated lower bound is fitted on its
//     validation predictions: a split-conformal margin per value of `lower_group_field`
//     (nemesyst/lower_bound.h), stored in the model file (metadata "lower_bound": predict fills
//     lower_s) and in the registry metadata ("lower_*" metrics). Too few validation windows for
//     the risk: no calibration (a warning), never an error.
//
// Lineage recorded with each version: stream, the sequence ranges it trained on, the resolved
// pipeline (with its statistics), hyper-parameters, per-epoch metrics, parent version, node id.
// The model blob carries the resolved pipeline too (metadata key "pipeline"), so a model file
// alone is enough to predict.
//
// Thread-safety: RunTrainJob may run concurrently with other jobs on the same store.
#ifndef NEMESYST_TRAIN_JOB_H_
#define NEMESYST_TRAIN_JOB_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nemesyst/export.h"
#include "nemesyst/logger.h"
#include "nemesyst/lower_bound.h"
#include "nemesyst/model.h"
#include "nemesyst/status.h"
#include "nemesyst/store.h"

namespace nemesyst {

struct TrainJobOptions {
  std::string stream;           // empty: the pipeline spec's `stream`
  std::string pipeline_text;    // pipeline spec, TOML or JSON (docs/pipelines.md)
  std::string model_spec_json;  // model spec (docs/kernels.md); ignored when `parent` is set
  std::string model_name;       // registry name of the new versions
  int learners = 1;             // parallel learner threads (≥ 1)
  // Epochs, batch size, optimiser, seed (learner i: seed + i), early stopping. on_progress,
  // should_stop and logger are the job's own (below); those set here are ignored.
  TrainerOptions trainer = DefaultTrainer();
  // Backend and threads of every learner's kernels (each learner runs `model.kernel.threads`).
  // The backend is recorded in each version's hyper-parameters ("backend"); an unavailable one
  // fails the job before anything is created.
  ModelOptions model;
  std::string group;  // consumer group; empty: "train.<model_name>"
  uint32_t records_per_claim = 8192;
  // The lease of a learner's claims. A learner renews them as it reports progress, so a run may
  // outlast it; a learner whose lease was lost anyway (it stalled past the lease and another
  // member claimed its batch) stops and registers nothing. A killed run's claims are handed out
  // again once their leases expire.
  int64_t lease_ms = 10 * 60 * 1000;
  // The pipeline is fitted, and the validation set built, on the stream's first `fit_hours` of
  // readings (every device), at most `fit_records` records.
  double fit_hours = 24;
  size_t fit_records = 1000000;
  // true: one thread hands the group's claims to the learners round-robin before training (the
  // same seed gives the same versions); false: each learner claims while it trains (assignment
  // depends on timing).
  bool deterministic_claims = true;
  std::string parent;             // model reference to continue from (weights + pipeline)
  std::string augment_gan;        // model reference of a conditional GAN whose windows augment
  double augment_fraction = 0.5;  // synthetic windows per real window when augmenting
  // The calibrated lower bound (step 4): risk α in [0, 1) (0: none), and the input field whose
  // value at a window's last reading is its group (empty: one pooled margin; e.g. "case_type").
  // The group field must be one of the stream's fields.
  double lower_risk = 0.05;
  std::string lower_group_field;
  std::string node_id = "local";
  std::string code_version;
  Logger* logger = nullptr;  // NullLogger() when null
  // Called from learner threads (serialise in the callback if needed).
  std::function<void(int learner, const TrainProgress&)> on_progress;
  std::function<bool()> should_stop;

  // The trainer settings the job starts from: 5 epochs, batches of 64, Adam at 1e-3, gradient
  // clipping at norm 1, seed 1, progress every 20 steps.
  static TrainerOptions DefaultTrainer();
};

struct LearnerVersion {
  int learner = 0;
  uint32_t version = 0;  // 0 when the learner got no data and registered nothing
  size_t windows = 0;    // distinct training windows it claimed
  double val_mae_s = 0;  // regressors: validation MAE in seconds (NaN for GANs)
  double val_p90_s = 0;  // validation p90 absolute error
  // 99th percentile of the validation over-prediction max(0, predicted - true): the error that
  // endangers food in a dispatch. Dispatch margins are at least this (registry metric
  // "val_overpredict_p99_s").
  double val_overpredict_p99_s = 0;
  std::optional<LowerBoundCalibration> lower;  // step 4; nullopt when not fitted
  double train_seconds = 0;
  std::vector<TrainEpochMetrics> epochs;
  std::vector<SeqRange> ranges;
};

struct TrainJobResult {
  std::string model_name;
  std::vector<LearnerVersion> learners;
  uint32_t candidate = 0;  // the version aliased `candidate`
  double seconds = 0;
};

NEMESYST_EXPORT Result<TrainJobResult> RunTrainJob(Store& store, const TrainJobOptions& options);

}  // namespace nemesyst

#endif  // NEMESYST_TRAIN_JOB_H_
