// Models, training and streaming inference: the public face of kernels/.
//
//   auto model = nemesyst::Model::Create(spec_json, /*seed=*/42).value();
//   nemesyst::TrainerOptions opt;  opt.epochs = 20;  opt.on_progress = ...;
//   auto report = nemesyst::Trainer(opt).Train(*model, train_provider, &validation_provider);
//   model->Predict(batch, &predictions);                       // windowed
//   auto stream = model->NewStreamingPredictor().value();      // one reading per device per tick
//   std::string blob = model->Serialize({{"pipeline", pipeline_json}}).value();
//   auto again = nemesyst::Model::Deserialize(blob, {}, &metadata).value();
//
// The spec is JSON (documented in docs/kernels.md): a "regressor" (LSTM/RNN stack + dense head)
// or a "gan" (generator + discriminator). Model files are documented in docs/model-format.md.
//
// Thread-safety: a Model, Trainer run or StreamingPredictor is used by one thread at a time.
// Different objects are independent (a learner thread per consumer-group member may each own a
// Model). A StreamingPredictor snapshots the weights when created and does not see later
// training; create a new one (cheap) after retraining.
// Determinism: with KernelOptions::threads = 1, the same spec, seed, data and options give
// bit-identical weights on the same machine and backend.
#ifndef NEMESYST_MODEL_H_
#define NEMESYST_MODEL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/batch.h"
#include "nemesyst/export.h"
#include "nemesyst/kernels.h"
#include "nemesyst/logger.h"
#include "nemesyst/status.h"

namespace nemesyst {

class StreamingPredictor;

struct ModelOptions {
  // Backend for every layer; kAuto picks avx512 → avx2 → onednn → ref per operation (`nemesyst
  // kernels info` shows the choice). Forcing one that is unavailable makes Create fail.
  Backend backend = Backend::kAuto;
  KernelOptions kernel;
  // The most memory one model may take (MemoryEstimate): Create and Deserialize refuse a model
  // whose inference estimate exceeds it, the train job one whose training estimate (times its
  // learners) does. 0 = a quarter of the machine's physical memory (MemoryBudgetBytes).
  uint64_t memory_budget_bytes = 0;
};

// `options.memory_budget_bytes`, or a quarter of physical memory when it is 0.
NEMESYST_EXPORT uint64_t MemoryBudgetBytes(const ModelOptions& options);

// Caller metadata stored in model files (pipeline spec, normalisation statistics, lineage...).
// Keys starting with "nemesyst." are reserved.
using ModelFileMetadata = std::map<std::string, std::string>;

// What a model of some spec needs in memory, estimated from the spec before anything is
// allocated (Model::EstimateMemory): the jobs refuse work whose estimate exceeds the memory budget
// (kernels.memory_budget_mb) rather than grow until the machine swaps.
struct MemoryEstimate {
  uint64_t parameters = 0;
  uint64_t training_bytes = 0;   // weights, gradients, optimiser state, tape and batch
  uint64_t inference_bytes = 0;  // weights and one batch's working buffers
};

// "1.23 GB" (decimal units), for messages.
NEMESYST_EXPORT std::string FormatBytes(uint64_t bytes);

class NEMESYST_EXPORT Model {
 public:
  // The memory estimate for this spec at this batch size and window length (`steps` 0 = the
  // spec's) with the given optimiser ("adam" | "sgd"). Invalid specs: as Create.
  static Result<MemoryEstimate> EstimateMemory(std::string_view spec_json, int batch_size,
                                               int steps = 0, std::string_view optimizer = "adam");
  // Builds a model from a JSON spec with weights initialised deterministically from `seed`.
  // Invalid specs: InvalidArgument naming the key path ("spec.recurrent.hidden[0]: ...");
  // more than 2^28 parameters: ResourceExhausted.
  static Result<std::unique_ptr<Model>> Create(std::string_view spec_json, uint64_t seed,
                                               const ModelOptions& options = {});
  // Rebuilds a model from model-file bytes; caller metadata goes to `metadata` when non-null.
  // Damaged, truncated or mismatched bytes: Corruption / InvalidArgument / Unimplemented.
  static Result<std::unique_ptr<Model>> Deserialize(std::string_view bytes,
                                                    const ModelOptions& options = {},
                                                    ModelFileMetadata* metadata = nullptr);
  static Result<std::unique_ptr<Model>> Load(const std::string& path,
                                             const ModelOptions& options = {},
                                             ModelFileMetadata* metadata = nullptr);
  // Reads only the metadata (checksum verified, nothing built). Includes the reserved keys
  // "nemesyst.spec", "nemesyst.kind".
  static Result<ModelFileMetadata> ReadMetadata(std::string_view bytes);

  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // Model-file bytes with the spec, the weights and `metadata`. Deterministic: the same model
  // and metadata always give the same bytes.
  Result<std::string> Serialize(const ModelFileMetadata& metadata = {}) const;
  // Writes atomically (temporary file + rename).
  Status Save(const std::string& path, const ModelFileMetadata& metadata = {}) const;

  std::string_view kind() const;  // "regressor" | "gan"
  // What the registry records as the model's kind: a regressor's recurrent cell ("lstm" | "rnn")
  // or "gan". From the parsed spec.
  std::string_view family() const;
  std::string spec_json() const;  // canonical: every field, defaults filled in
  // Window shape the model expects: steps (0 = any, regressors only) and features per step.
  int steps() const;
  int features() const;
  // Regressor: the label width a Batch must carry (width, or steps × width when per_step).
  // GAN: the condition width (0 when unconditional).
  int label_width() const;
  // Regressor: outputs per window (label_width) or per streaming step (output.width).
  int output_width() const;
  size_t parameter_count() const;
  // The backend running the recurrent layers (kRef etc., never kAuto).
  Backend backend() const;
  // All weights, concatenated in model-file tensor order (for tests and checksums).
  std::vector<float> Parameters() const;

  // Regressor: predictions [batch][label_width] for batch.x. GAN: discriminator logits
  // [batch][1] (condition from batch.y). Labels in `batch` are ignored for regressors.
  Status Predict(const Batch& batch, std::vector<float>* out);
  // Regressor: mean loss (the spec's loss) over a labelled batch.
  Result<double> Evaluate(const Batch& batch);
  // GAN only: `count` windows [count][steps][features] from noise seeded by `seed`;
  // `condition` is [count][condition] (empty when unconditional).
  Status Generate(int count, uint64_t seed, const std::vector<float>& condition,
                  std::vector<float>* windows);

  // Regressor only: a stateful per-device predictor with a snapshot of the current weights.
  Result<std::unique_ptr<StreamingPredictor>> NewStreamingPredictor() const;

  struct Impl;  // private (kernels/model_impl.h)

 private:
  friend struct ModelInternals;  // kernels/model_impl.h: the trainer and kernel tests reach Impl
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Keeps the recurrent state (h, c of every layer) of many devices and advances them by one new
// reading each, batched across devices: a reading costs one recurrent step, not a window.
// After k readings from a reset, a device's output equals Model::Predict on the window of those
// k readings (many-to-one; for per-step models, its last step).
class NEMESYST_EXPORT StreamingPredictor {
 public:
  virtual ~StreamingPredictor() = default;
  // The slot of `device_id`, registering it (zero state) when new. Slots are 0, 1, 2... in
  // order of registration and never change.
  virtual int Slot(std::string_view device_id) = 0;
  // Advances each listed device by one reading. readings [n][features] → out [n][output_width].
  // A device may appear at most once per call. On error no state changes.
  virtual Status Advance(const std::vector<std::string>& devices, const float* readings,
                         float* out) = 0;
  virtual Status AdvanceSlots(const std::vector<int>& slots, const float* readings, float* out) = 0;
  // Back to the zero state (e.g. after a gap in the data).
  virtual Status Reset(std::string_view device_id) = 0;
  virtual void ResetAll() = 0;
  virtual int device_count() const = 0;
  virtual int features() const = 0;
  virtual int output_width() const = 0;
};

// ---- Training
// -------------------------------------------------------------------------------------

struct TrainProgress {
  int epoch = 0;              // 1-based
  int64_t step = 0;           // optimiser steps so far (GAN: generator steps)
  int64_t samples = 0;        // windows seen in this epoch
  double loss = 0;            // mean training loss of this epoch so far (GAN: discriminator loss)
  double generator_loss = 0;  // GAN only
  double samples_per_second = 0;
  double validation_loss = 0;  // NaN unless epoch_end and a validation set was given
  bool epoch_end = false;
};

// Per-epoch metrics, kept for the model registry.
struct TrainEpochMetrics {
  int epoch = 0;
  double loss = 0;                         // regressor: training loss; GAN: discriminator loss
  double validation_loss = 0;              // NaN without a validation set
  double generator_loss = 0;               // GAN only
  double discriminator_real_accuracy = 0;  // GAN only
  double discriminator_fake_accuracy = 0;  // GAN only
  double gradient_norm = 0;                // mean global gradient norm before clipping
  int64_t samples = 0;
  double seconds = 0;
  double samples_per_second = 0;
};

struct TrainReport {
  std::vector<TrainEpochMetrics> epochs;
  int best_epoch = 0;  // by validation loss (or training loss without validation)
  double best_loss = 0;
  bool stopped_early = false;
  int64_t steps = 0;
  // {"epochs":[{...}], "best_epoch":..., ...}: what the model registry stores.
  std::string ToJson() const;
};

struct TrainerOptions {
  int epochs = 10;
  int batch_size = 32;
  std::string optimizer = "adam";  // "adam" | "sgd"
  double learning_rate = 1e-3;
  double momentum = 0.9;              // sgd
  double beta1 = 0.9, beta2 = 0.999;  // adam (GANs often use beta1 = 0.5)
  double weight_decay = 0.0;
  double clip_norm = 0.0;  // global-norm clipping; 0 = off
  uint64_t seed = 0;       // dropout masks, GAN noise
  // Early stopping (regressors, needs a validation provider): stop after `patience` epochs
  // without the validation loss improving by more than `min_delta`; the best weights are
  // restored. 0 = off.
  int patience = 0;
  double min_delta = 0.0;
  // GAN: discriminator updates per generator update.
  int discriminator_steps = 1;
  // Also report every N optimiser steps (0: only at the end of each epoch).
  int progress_every_steps = 0;
  // Called on the training thread (keep it short: it sits between optimiser steps).
  std::function<void(const TrainProgress&)> on_progress;
  // Checked between steps; returning true stops training (the report so far is returned).
  std::function<bool()> should_stop;
  Logger* logger = nullptr;  // NullLogger() when null
};

class NEMESYST_EXPORT Trainer {
 public:
  explicit Trainer(TrainerOptions options) : options_(std::move(options)) {}
  // Trains `model` on `train` (rewound before every epoch). `validation` may be null. On error
  // the model keeps the weights of the last completed step.
  Result<TrainReport> Train(Model& model, BatchProvider& train,
                            BatchProvider* validation = nullptr);

 private:
  TrainerOptions options_;
};

}  // namespace nemesyst

#endif  // NEMESYST_MODEL_H_
