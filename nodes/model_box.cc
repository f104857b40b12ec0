#include "nodes/model_box.h"

#include <cmath>

#include "nemesyst/model.h"

namespace nemesyst::nodes {

StreamBox::StreamBox(std::unique_ptr<StreamingPredictor> impl) : impl_(std::move(impl)) {}
StreamBox::~StreamBox() = default;

Status StreamBox::Advance(const std::vector<std::string>& devices, const std::vector<float>& rows,
                          std::vector<float>* out) {
  if (rows.size() != devices.size() * static_cast<size_t>(impl_->features())) {
    return Status::InvalidArgument("streaming predictor: " + std::to_string(rows.size()) +
                                   " values for " + std::to_string(devices.size()) +
                                   " devices of " + std::to_string(impl_->features()) +
                                   " features");
  }
  out->resize(devices.size() * static_cast<size_t>(impl_->output_width()));
  for (const std::string& d : devices) impl_->Slot(d);  // registers new devices (zero state)
  return impl_->Advance(devices, rows.data(), out->data());
}

Status StreamBox::Reset(std::string_view device) {
  impl_->Slot(device);
  return impl_->Reset(device);
}
int StreamBox::output_width() const { return impl_->output_width(); }

ModelBox::ModelBox(std::unique_ptr<Model> model) : model_(std::move(model)) {}
ModelBox::~ModelBox() = default;

Result<std::unique_ptr<ModelBox>> ModelBox::Create(std::string_view spec_json, uint64_t seed) {
  ModelOptions options;
  options.kernel.threads = 1;  // bit-reproducible; parallelism comes from learners
  NEMESYST_ASSIGN_OR_RETURN(auto model, Model::Create(spec_json, seed, options));
  return std::unique_ptr<ModelBox>(new ModelBox(std::move(model)));
}

Result<std::unique_ptr<ModelBox>> ModelBox::Deserialize(std::string_view bytes,
                                                        TextMetadata* metadata) {
  ModelOptions options;
  options.kernel.threads = 1;
  nemesyst::ModelFileMetadata meta;
  NEMESYST_ASSIGN_OR_RETURN(auto model, Model::Deserialize(bytes, options, &meta));
  if (metadata != nullptr) *metadata = std::move(meta);
  return std::unique_ptr<ModelBox>(new ModelBox(std::move(model)));
}

Result<std::string> ModelBox::Serialize(const TextMetadata& metadata) const {
  return model_->Serialize(metadata);
}
std::string ModelBox::kind() const { return std::string(model_->kind()); }
std::string ModelBox::spec_json() const { return model_->spec_json(); }
int ModelBox::steps() const { return model_->steps(); }
int ModelBox::features() const { return model_->features(); }
int ModelBox::label_width() const { return model_->label_width(); }
size_t ModelBox::parameter_count() const { return model_->parameter_count(); }
std::string ModelBox::backend() const { return std::string(BackendName(model_->backend())); }

Result<LearnerOutcome> ModelBox::Train(const LearnerOptions& o, BatchProvider& train,
                                       BatchProvider* validation) {
  TrainerOptions t;
  t.epochs = o.epochs;
  t.batch_size = o.batch_size;
  t.learning_rate = o.learning_rate;
  t.beta1 = o.beta1;
  t.clip_norm = o.clip_norm;
  t.seed = o.seed;
  t.patience = o.patience;
  t.discriminator_steps = o.discriminator_steps;
  t.progress_every_steps = o.progress_every_steps;
  t.should_stop = o.should_stop;
  t.logger = o.logger;
  if (o.on_progress) {
    const int epochs = o.epochs;
    auto sink = o.on_progress;
    t.on_progress = [sink, epochs](const TrainProgress& p) {
      LearnerProgress lp;
      lp.epoch = p.epoch;
      lp.epochs = epochs;
      lp.step = p.step;
      lp.samples = p.samples;
      lp.loss = p.loss;
      lp.samples_per_second = p.samples_per_second;
      lp.epoch_end = p.epoch_end;
      lp.validation_loss = p.validation_loss;
      sink(lp);
    };
  }
  NEMESYST_ASSIGN_OR_RETURN(TrainReport report, Trainer(t).Train(*model_, train, validation));
  LearnerOutcome out;
  for (const auto& e : report.epochs) {
    out.epochs.push_back(
        {e.epoch, e.loss, e.validation_loss, e.generator_loss, e.samples, e.seconds});
  }
  out.best_epoch = report.best_epoch;
  out.best_loss = report.best_loss;
  out.steps = report.steps;
  out.stopped = static_cast<int>(report.epochs.size()) < o.epochs && !report.stopped_early;
  return out;
}

Status ModelBox::Predict(const Batch& batch, std::vector<float>* out) {
  return model_->Predict(batch, out);
}

Status ModelBox::Generate(int count, uint64_t seed, const std::vector<float>& condition,
                          std::vector<float>* windows) {
  return model_->Generate(count, seed, condition, windows);
}

Result<std::unique_ptr<StreamBox>> ModelBox::NewStreaming() const {
  NEMESYST_ASSIGN_OR_RETURN(auto predictor, model_->NewStreamingPredictor());
  return std::make_unique<StreamBox>(std::move(predictor));
}

}  // namespace nemesyst::nodes
