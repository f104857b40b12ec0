// nemesyst::Model: creation from a spec, prediction, generation and (de)serialisation.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <unordered_map>

#include <unistd.h>

#include "common/read_file.h"
#include "kernels/dispatch.h"
#include "kernels/memory_estimate.h"
#include "kernels/model_file.h"
#include "kernels/model_impl.h"
#include "kernels/random.h"

namespace nemesyst {
namespace {

constexpr std::string_view kReservedPrefix = "nemesyst.";
constexpr const char* kSpecKey = "nemesyst.spec";
constexpr const char* kKindKey = "nemesyst.kind";

bool IsReserved(const std::string& key) { return key.rfind(kReservedPrefix, 0) == 0; }

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t k = 0; k < shape.size(); ++k) s += (k ? "," : "") + std::to_string(shape[k]);
  return s + "]";
}

}  // namespace

namespace kernels {

Result<std::unique_ptr<Model::Impl>> BuildModelImpl(const ModelSpec& spec,
                                                    const ModelOptions& options) {
  const uint64_t count = ParameterCount(spec);
  if (count > kMaxModelParameters) {
    return Status::ResourceExhausted("model spec defines " + std::to_string(count) +
                                     " parameters; the limit is " +
                                     std::to_string(kMaxModelParameters));
  }
  // Running it needs at least its inference estimate at batch 1: refuse before allocating.
  const MemoryEstimate estimate = EstimateMemory(spec, 1, 0, true);
  const uint64_t budget = MemoryBudgetBytes(options);
  if (estimate.inference_bytes > budget) {
    return Status::ResourceExhausted(
        "the model needs about " + FormatBytes(estimate.inference_bytes) + " to run (" +
        std::to_string(estimate.parameters) + " parameters) but the memory budget is " +
        FormatBytes(budget) + " (kernels.memory_budget_mb)");
  }
  auto impl = std::make_unique<Model::Impl>();
  impl->spec = spec;
  impl->options = options;
  if (spec.kind == ModelKind::kRegressor) {
    NEMESYST_ASSIGN_OR_RETURN(
        impl->regressor, RegressorNet::Create(spec.regressor, options.backend, options.kernel));
    impl->resolved_backend = impl->regressor->stack().backend();
  } else {
    NEMESYST_ASSIGN_OR_RETURN(impl->gan, GanNet::Create(spec.gan, options.backend, options.kernel));
    NEMESYST_ASSIGN_OR_RETURN(auto probe, CreateRecurrentKernel({CellKind::kLstm, 1, 1},
                                                                options.backend, options.kernel));
    impl->resolved_backend = probe->backend();
  }
  return impl;
}

}  // namespace kernels

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

uint64_t MemoryBudgetBytes(const ModelOptions& options) {
  if (options.memory_budget_bytes > 0) return options.memory_budget_bytes;
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return uint64_t{4} << 30;  // unknown: assume a small machine
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) / 4;
}

std::string FormatBytes(uint64_t bytes) {
  char text[32];
  if (bytes >= 1'000'000'000) {
    std::snprintf(text, sizeof text, "%.2f GB", bytes / 1e9);
  } else if (bytes >= 1'000'000) {
    std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
  } else {
    std::snprintf(text, sizeof text, "%.1f kB", bytes / 1e3);
  }
  return text;
}

Result<MemoryEstimate> Model::EstimateMemory(std::string_view spec_json, int batch_size, int steps,
                                             std::string_view optimizer) {
  NEMESYST_ASSIGN_OR_RETURN(kernels::ModelSpec spec, kernels::ParseModelSpec(spec_json));
  return kernels::EstimateMemory(spec, batch_size, steps, optimizer != "sgd");
}

Result<std::unique_ptr<Model>> Model::Create(std::string_view spec_json, uint64_t seed,
                                             const ModelOptions& options) {
  NEMESYST_ASSIGN_OR_RETURN(kernels::ModelSpec spec, kernels::ParseModelSpec(spec_json));
  NEMESYST_ASSIGN_OR_RETURN(auto impl, kernels::BuildModelImpl(spec, options));
  if (impl->regressor) {
    NEMESYST_RETURN_IF_ERROR(impl->regressor->Initialize(seed));
  } else {
    NEMESYST_RETURN_IF_ERROR(impl->gan->Initialize(seed));
  }
  return std::unique_ptr<Model>(new Model(std::move(impl)));
}

Result<std::string> Model::Serialize(const ModelFileMetadata& metadata) const {
  std::map<std::string, std::string> all;
  for (const auto& [key, value] : metadata) {
    if (IsReserved(key)) {
      return Status::InvalidArgument("metadata key '" + key +
                                     "' uses the reserved prefix nemesyst.");
    }
    all.emplace(key, value);
  }
  all[kSpecKey] = impl_->spec.ToJson();
  all[kKindKey] = std::string(kind());
  std::vector<kernels::TensorView> tensors;
  for (const kernels::ParameterSet* set : impl_->ParameterSets()) {
    for (const kernels::TensorInfo& t : set->tensors()) {
      tensors.push_back({t.name, t.shape, set->value(t.offset)});
    }
  }
  return kernels::EncodeModelFile(all, tensors);
}

Result<ModelFileMetadata> Model::ReadMetadata(std::string_view bytes) {
  return kernels::DecodeModelFileMetadata(bytes);
}

Result<std::unique_ptr<Model>> Model::Deserialize(std::string_view bytes,
                                                  const ModelOptions& options,
                                                  ModelFileMetadata* metadata) {
  NEMESYST_ASSIGN_OR_RETURN(kernels::ModelFileContents contents, kernels::DecodeModelFile(bytes));
  auto spec_it = contents.metadata.find(kSpecKey);
  if (spec_it == contents.metadata.end()) {
    return Status::Corruption("model file has no nemesyst.spec entry");
  }
  auto spec = kernels::ParseModelSpec(spec_it->second);
  if (!spec.ok()) {
    return Status::Corruption("model file spec is invalid: " +
                              std::string(spec.status().message()));
  }
  // Cheap consistency check before allocating anything the spec asks for.
  uint64_t stored = 0;
  for (const kernels::StoredTensor& t : contents.tensors) stored += t.values.size();
  if (kernels::ParameterCount(*spec) != stored) {
    return Status::Corruption("model file holds " + std::to_string(stored) +
                              " weights but its spec defines " +
                              std::to_string(kernels::ParameterCount(*spec)));
  }
  NEMESYST_ASSIGN_OR_RETURN(auto impl, kernels::BuildModelImpl(*spec, options));
  std::unordered_map<std::string, const kernels::StoredTensor*> by_name;
  for (const kernels::StoredTensor& t : contents.tensors) by_name[t.name] = &t;
  size_t expected = 0;
  for (kernels::ParameterSet* set : impl->ParameterSets()) {
    for (const kernels::TensorInfo& t : set->tensors()) {
      auto it = by_name.find(t.name);
      if (it == by_name.end()) {
        return Status::Corruption("model file lacks tensor '" + t.name + "' that its spec needs");
      }
      if (it->second->shape != t.shape) {
        return Status::Corruption("model file tensor '" + t.name + "' has shape " +
                                  ShapeText(it->second->shape) + " but its spec needs " +
                                  ShapeText(t.shape));
      }
      std::copy(it->second->values.begin(), it->second->values.end(), set->value(t.offset));
      ++expected;
    }
  }
  if (expected != contents.tensors.size()) {
    return Status::Corruption("model file has " + std::to_string(contents.tensors.size()) +
                              " tensors but its spec defines " + std::to_string(expected));
  }
  NEMESYST_RETURN_IF_ERROR(impl->SyncWeights());
  if (metadata) {
    metadata->clear();
    for (auto& [key, value] : contents.metadata) {
      if (!IsReserved(key)) metadata->emplace(key, value);
    }
  }
  return std::unique_ptr<Model>(new Model(std::move(impl)));
}

Result<std::unique_ptr<Model>> Model::Load(const std::string& path, const ModelOptions& options,
                                           ModelFileMetadata* metadata) {
  NEMESYST_ASSIGN_OR_RETURN(const std::string bytes, ReadWholeFile(path, "model file"));
  auto model = Deserialize(bytes, options, metadata);
  if (!model.ok()) return model.status().WithContext(path);
  return model;
}

Status Model::Save(const std::string& path, const ModelFileMetadata& metadata) const {
  NEMESYST_ASSIGN_OR_RETURN(std::string bytes, Serialize(metadata));
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::IOError("cannot create " + tmp);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return Status::IOError("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::IOError("cannot rename " + tmp + " to " + path);
  }
  return Status::OK();
}

std::string_view Model::kind() const { return kernels::ModelKindName(impl_->spec.kind); }
std::string_view Model::family() const {
  if (impl_->spec.kind == kernels::ModelKind::kGan) return "gan";
  return kernels::CellName(impl_->spec.regressor.cell);
}
std::string Model::spec_json() const { return impl_->spec.ToJson(); }

int Model::steps() const {
  return impl_->regressor ? impl_->spec.regressor.steps : impl_->spec.gan.steps;
}
int Model::features() const {
  return impl_->regressor ? impl_->spec.regressor.features : impl_->spec.gan.features;
}
int Model::label_width() const {
  if (!impl_->regressor) return impl_->spec.gan.condition;
  const auto& r = impl_->spec.regressor;
  return r.per_step ? r.steps * r.output_width : r.output_width;
}
int Model::output_width() const {
  return impl_->regressor ? impl_->spec.regressor.output_width : 1;
}

size_t Model::parameter_count() const {
  size_t n = 0;
  for (const kernels::ParameterSet* set : impl_->ParameterSets()) n += set->size();
  return n;
}

Backend Model::backend() const { return impl_->resolved_backend; }

std::vector<float> Model::Parameters() const {
  std::vector<float> all;
  for (const kernels::ParameterSet* set : impl_->ParameterSets()) {
    all.insert(all.end(), set->values().begin(), set->values().end());
  }
  return all;
}

namespace {

Status CheckWindows(const Batch& batch, int steps, int features) {
  if (batch.batch < 1 || batch.steps < 1) {
    return Status::InvalidArgument("batch needs >= 1 window of >= 1 step");
  }
  if (batch.features != features) {
    return Status::InvalidArgument("batch has " + std::to_string(batch.features) +
                                   " features per step but the model takes " +
                                   std::to_string(features));
  }
  if (steps != 0 && batch.steps != steps) {
    return Status::InvalidArgument("batch windows have " + std::to_string(batch.steps) +
                                   " steps but the model takes " + std::to_string(steps));
  }
  if (batch.x.size() != static_cast<size_t>(batch.batch) * batch.steps * batch.features) {
    return Status::InvalidArgument("batch.x size does not match batch × steps × features");
  }
  return Status::OK();
}

Status CheckLabels(const Batch& batch, int width) {
  if (batch.label_width != width ||
      batch.y.size() != static_cast<size_t>(batch.batch) * batch.label_width) {
    return Status::InvalidArgument("batch has label width " + std::to_string(batch.label_width) +
                                   " (" + std::to_string(batch.y.size()) +
                                   " values) but the model needs " + std::to_string(width));
  }
  return Status::OK();
}

}  // namespace

Status Model::Predict(const Batch& batch, std::vector<float>* out) {
  NEMESYST_RETURN_IF_ERROR(CheckWindows(batch, steps(), features()));
  if (impl_->regressor) {
    out->resize(static_cast<size_t>(batch.batch) * impl_->regressor->label_width(batch.steps));
    return impl_->regressor->Predict(batch.batch, batch.steps, batch.x.data(), out->data());
  }
  const int c = impl_->spec.gan.condition;
  if (c > 0) NEMESYST_RETURN_IF_ERROR(CheckLabels(batch, c));
  out->resize(batch.batch);
  return impl_->gan->Discriminate(batch.batch, batch.x.data(), c > 0 ? batch.y.data() : nullptr,
                                  out->data());
}

Result<double> Model::Evaluate(const Batch& batch) {
  if (!impl_->regressor) return Status::InvalidArgument("Evaluate is for regressors");
  NEMESYST_RETURN_IF_ERROR(CheckWindows(batch, steps(), features()));
  NEMESYST_RETURN_IF_ERROR(CheckLabels(batch, impl_->regressor->label_width(batch.steps)));
  return impl_->regressor->Evaluate(batch.batch, batch.steps, batch.x.data(), batch.y.data());
}

Status Model::Generate(int count, uint64_t seed, const std::vector<float>& condition,
                       std::vector<float>* windows) {
  if (!impl_->gan) return Status::InvalidArgument("Generate is for GAN models");
  if (count < 1) return Status::InvalidArgument("Generate needs count >= 1");
  const auto& g = impl_->spec.gan;
  if (condition.size() != static_cast<size_t>(count) * g.condition) {
    return Status::InvalidArgument("condition must hold count × " + std::to_string(g.condition) +
                                   " values (got " + std::to_string(condition.size()) + ")");
  }
  windows->resize(static_cast<size_t>(count) * g.steps * g.features);
  kernels::Rng rng(seed);
  return impl_->gan->Generate(count, rng, g.condition > 0 ? condition.data() : nullptr,
                              windows->data());
}

Result<std::unique_ptr<StreamingPredictor>> Model::NewStreamingPredictor() const {
  if (!impl_->regressor) return Status::InvalidArgument("streaming prediction is for regressors");
  return kernels::NewRegressorStreamingPredictor(*impl_->regressor, impl_->options);
}

}  // namespace nemesyst
