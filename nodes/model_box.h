// The job layer's handle on a model (include/nemesyst/model.h), behind a header that does not
// include model.h.
//
// Why a wrapper: the jobs need only a few model operations (train from providers, predict,
// stream, serialise); this header gives them those without pulling the kernels' API into every
// job file. Only model_box.cc includes model.h.
//
// Thread-safety: like Model — one thread at a time per ModelBox / StreamBox.
#ifndef NEMESYST_NODES_MODEL_BOX_H_
#define NEMESYST_NODES_MODEL_BOX_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/batch.h"
#include "nemesyst/logger.h"
#include "nemesyst/status.h"

namespace nemesyst {
class Model;
class StreamingPredictor;
}  // namespace nemesyst

namespace nemesyst::nodes {

using TextMetadata = std::map<std::string, std::string>;

struct LearnerProgress {
  int epoch = 0;
  int epochs = 0;
  int64_t step = 0;
  int64_t samples = 0;  // windows seen in this epoch
  double loss = 0;
  double samples_per_second = 0;
  bool epoch_end = false;
  double validation_loss = 0;  // NaN unless epoch_end with validation
};

struct LearnerOptions {
  int epochs = 5;
  int batch_size = 64;
  double learning_rate = 1e-3;
  double beta1 = 0.9;
  double clip_norm = 1.0;
  uint64_t seed = 1;
  int patience = 0;
  int discriminator_steps = 1;
  int progress_every_steps = 20;
  std::function<void(const LearnerProgress&)> on_progress;
  std::function<bool()> should_stop;
  Logger* logger = nullptr;
};

struct EpochLog {
  int epoch = 0;
  double loss = 0;
  double validation_loss = 0;  // NaN without validation
  double generator_loss = 0;   // GAN only
  int64_t samples = 0;
  double seconds = 0;
};

struct LearnerOutcome {
  std::vector<EpochLog> epochs;
  int best_epoch = 0;
  double best_loss = 0;
  int64_t steps = 0;
  bool stopped = false;  // should_stop ended training early
};

class StreamBox {
 public:
  explicit StreamBox(std::unique_ptr<StreamingPredictor> impl);
  ~StreamBox();
  // Advances each device (at most once per call) by one feature row; out [n][output_width].
  Status Advance(const std::vector<std::string>& devices, const std::vector<float>& rows,
                 std::vector<float>* out);
  Status Reset(std::string_view device);
  int output_width() const;

 private:
  std::unique_ptr<StreamingPredictor> impl_;
};

class ModelBox {
 public:
  static Result<std::unique_ptr<ModelBox>> Create(std::string_view spec_json, uint64_t seed);
  static Result<std::unique_ptr<ModelBox>> Deserialize(std::string_view bytes,
                                                       TextMetadata* metadata);
  ~ModelBox();

  Result<std::string> Serialize(const TextMetadata& metadata) const;
  std::string kind() const;  // "regressor" | "gan"
  std::string spec_json() const;
  int steps() const;
  int features() const;
  int label_width() const;
  size_t parameter_count() const;
  std::string backend() const;

  Result<LearnerOutcome> Train(const LearnerOptions& options, BatchProvider& train,
                               BatchProvider* validation);
  // Regressor: [batch][label_width].
  Status Predict(const Batch& batch, std::vector<float>* out);
  // GAN: windows [count][steps][features] for conditions [count][label_width].
  Status Generate(int count, uint64_t seed, const std::vector<float>& condition,
                  std::vector<float>* windows);
  Result<std::unique_ptr<StreamBox>> NewStreaming() const;

 private:
  explicit ModelBox(std::unique_ptr<Model> model);
  std::unique_ptr<Model> model_;
};

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_MODEL_BOX_H_
