// What a nemesyst::Model holds (private to kernels/): the parsed spec and either a regressor or
// a GAN network, with the options their kernels were created with.
#ifndef NEMESYST_KERNELS_MODEL_IMPL_H_
#define NEMESYST_KERNELS_MODEL_IMPL_H_

#include <memory>
#include <vector>

#include "kernels/gan_net.h"
#include "kernels/model_spec.h"
#include "kernels/regressor_net.h"
#include "nemesyst/model.h"

namespace nemesyst {

struct Model::Impl {
  kernels::ModelSpec spec;
  ModelOptions options;
  Backend resolved_backend = Backend::kRef;
  std::unique_ptr<kernels::RegressorNet> regressor;  // kind == kRegressor
  std::unique_ptr<kernels::GanNet> gan;              // kind == kGan

  // Every ParameterSet in model-file order (regressor: one; GAN: generator, discriminator).
  std::vector<kernels::ParameterSet*> ParameterSets() const {
    if (regressor) return {&regressor->params()};
    return {&gan->generator_params(), &gan->discriminator_params()};
  }
  Status SyncWeights() { return regressor ? regressor->SyncWeights() : gan->SyncWeights(); }
};

// The kernels module's way into a Model (the trainer drives its networks directly).
struct ModelInternals {
  static Model::Impl* Of(Model& model) { return model.impl_.get(); }
};

namespace kernels {
// Builds the networks of `spec` (weights zero until initialised or loaded).
Result<std::unique_ptr<Model::Impl>> BuildModelImpl(const ModelSpec& spec,
                                                    const ModelOptions& options);
// A StreamingPredictor over a copy of `net`'s weights.
Result<std::unique_ptr<StreamingPredictor>> NewRegressorStreamingPredictor(
    const RegressorNet& net, const ModelOptions& options);
}  // namespace kernels

}  // namespace nemesyst

#endif  // NEMESYST_KERNELS_MODEL_IMPL_H_
