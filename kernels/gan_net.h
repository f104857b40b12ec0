// The GAN: a generator (noise z ~ N(0, 1) [+ condition] → window [T][F]) and a discriminator
// (window [+ condition] → logit), each with its own ParameterSet so each gets its own optimiser.
// Training is alternating (see the Trainer): DiscriminatorStep sees a batch of real windows and
// as many generated ones (labels 1 and 0, BCE with logits); GeneratorStep uses the
// non-saturating loss −log σ(D(G(z))), i.e. BCE against label 1, backpropagated through the
// (frozen) discriminator into the generator. Windows are batch-major [B][T][F].
// Not thread-safe.
#ifndef NEMESYST_KERNELS_GAN_NET_H_
#define NEMESYST_KERNELS_GAN_NET_H_

#include <memory>
#include <vector>

#include "kernels/dense_stack.h"
#include "kernels/model_spec.h"
#include "kernels/parameter_set.h"
#include "kernels/random.h"
#include "kernels/recurrent_stack.h"

namespace nemesyst::kernels {

class GeneratorNet;
class DiscriminatorNet;

class GanNet {
 public:
  static Result<std::unique_ptr<GanNet>> Create(const GanSpec& spec, Backend backend,
                                                const KernelOptions& options);
  ~GanNet();

  Status Initialize(uint64_t seed);
  Status SyncWeights();

  // `batch` windows [B][T][F] from noise drawn from `rng`; condition [B][C] (null when C = 0).
  Status Generate(int batch, Rng& rng, const float* condition, float* windows);
  // Discriminator logits [B] for windows [B][T][F].
  Status Discriminate(int batch, const float* windows, const float* condition, float* logits);

  struct DiscriminatorStepResult {
    double loss = 0;           // mean BCE over real and generated
    double real_accuracy = 0;  // fraction of real windows with logit > 0
    double fake_accuracy = 0;  // fraction of generated windows with logit < 0
  };
  // Accumulates discriminator gradients for `batch` real windows and `batch` generated ones.
  Result<DiscriminatorStepResult> DiscriminatorStep(int batch, const float* real,
                                                    const float* condition, Rng& rng);
  // Accumulates generator gradients (the discriminator's gradients are also touched: zero them
  // before the next DiscriminatorStep). Returns the non-saturating generator loss.
  Result<double> GeneratorStep(int batch, const float* condition, Rng& rng);

  const GanSpec& spec() const { return spec_; }
  ParameterSet& generator_params();
  ParameterSet& discriminator_params();
  const ParameterSet& generator_params() const;
  const ParameterSet& discriminator_params() const;

 private:
  explicit GanNet(const GanSpec& spec);
  void SampleNoise(int batch, Rng& rng);

  GanSpec spec_;
  std::unique_ptr<GeneratorNet> generator_;
  std::unique_ptr<DiscriminatorNet> discriminator_;
  std::vector<float> noise_, fake_, both_, both_condition_, logits_, targets_, grad_logits_,
      grad_windows_;
};

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_GAN_NET_H_
