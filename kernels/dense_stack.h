// A multi-layer perceptron: dense layers with an activation after each hidden layer and a
// separate output activation (usually linear). Used as the regression head, the GAN output
// projection and the discriminator head. Kernels come from the dispatcher.
//
// Parameters in a caller-owned ParameterSet: "<prefix>.<k>.w" [O][I] and "<prefix>.<k>.b" [O].
// Call SyncWeights() after they change. Not thread-safe.
#ifndef NEMESYST_KERNELS_DENSE_STACK_H_
#define NEMESYST_KERNELS_DENSE_STACK_H_

#include <memory>
#include <string>
#include <vector>

#include "kernels/activation.h"
#include "kernels/dense_kernel.h"
#include "kernels/parameter_set.h"
#include "kernels/random.h"

namespace nemesyst::kernels {

struct DenseStackConfig {
  int input = 0;
  std::vector<int> hidden;  // hidden layer widths (may be empty: one linear layer)
  Activation activation = Activation::kRelu;
  int output = 1;
  Activation output_activation = Activation::kLinear;
};

class DenseStack {
 public:
  static Result<std::unique_ptr<DenseStack>> Create(const DenseStackConfig& config,
                                                    const std::string& prefix, ParameterSet* params,
                                                    Backend backend, const KernelOptions& options);

  // Glorot-uniform weights, zero biases.
  void Initialize(Rng& rng);
  Status SyncWeights();

  // x [B][I] → y [B][O].
  Status Forward(int batch, const float* x, float* y);
  // As Forward, recording what Backward needs.
  Status ForwardTrain(int batch, const float* x, float* y);
  // dy [B][O] → dx [B][I] (when non-null); gradients accumulate into the ParameterSet.
  Status Backward(const float* dy, float* dx);

  const DenseStackConfig& config() const { return config_; }

 private:
  DenseStack(DenseStackConfig config, ParameterSet* params)
      : config_(std::move(config)), params_(params) {}
  size_t layers() const { return kernels_.size(); }
  int Width(size_t k) const;  // output width of layer k
  Activation ActivationOf(size_t k) const {
    return k + 1 == layers() ? config_.output_activation : config_.activation;
  }
  Status Run(int batch, const float* x, float* y, bool train);

  DenseStackConfig config_;
  ParameterSet* params_;
  std::vector<size_t> w_, b_;
  std::vector<std::unique_ptr<DenseKernel>> kernels_;
  int batch_ = 0;
  std::vector<std::vector<float>> inputs_;  // inputs_[k] [B][I_k]
  std::vector<std::vector<float>> pre_;     // pre-activations [B][O_k]
  std::vector<std::vector<float>> post_;    // activations [B][O_k]
  std::vector<float> grad_a_, grad_b_;
};

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_DENSE_STACK_H_
