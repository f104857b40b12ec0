// The declarative model spec (JSON), parsed and validated into plain structs. Every error names
// the key path ("spec.recurrent.hidden[1]") and the reason; unknown keys are refused so a typo
// never silently falls back to a default. ToJson() writes the canonical form (every field,
// defaults filled in) that model files store.
//
// Regressor (a recurrent stack with a dense head):
//   {"kind": "regressor",
//    "input":     {"features": 4, "steps": 24},            steps 0 (default) = any length
//    "recurrent": {"cell": "lstm", "hidden": [32, 32], "dropout": 0.0},
//                 cell: lstm | rnn | gru | gru_classic (kernels/recurrent_kernel.h has the
//                 equations)
//    "head":      {"hidden": [], "activation": "relu", "output_activation": "linear"},
//    "output":    {"width": 1, "per_step": false},          per_step: many-to-many
//    "loss": "mse"}                                          mse | mae | bce_with_logits |
//                                                            pinball (then "quantile": τ in (0, 1),
//                                                            e.g. 0.05; kernels/loss.h)
// GAN (generator noise [+ condition] → window; discriminator window [+ condition] → logit):
//   {"kind": "gan",
//    "window": {"steps": 32, "features": 1},
//    "noise": 8, "condition": 0,
//    "generator":     {"type": "lstm", "hidden": [32], "head": [], "activation": "relu",
//                      "output_activation": "linear"},
//    "discriminator": {"type": "lstm", "hidden": [32], "head": [], "activation": "leaky_relu",
//                      "dropout": 0.0}}
//   type: lstm | rnn (a recurrent stack, per-step dense head) or dense (an MLP over the whole
//   window). A recurrent generator gets [noise, condition] as its input at every step.
#ifndef NEMESYST_KERNELS_MODEL_SPEC_H_
#define NEMESYST_KERNELS_MODEL_SPEC_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/activation.h"
#include "kernels/loss.h"
#include "kernels/recurrent_kernel.h"
#include "nemesyst/status.h"

namespace nemesyst::kernels {

enum class ModelKind { kRegressor, kGan };
enum class BlockType { kLstm, kRnn, kDense };

std::string_view ModelKindName(ModelKind kind);  // "regressor" | "gan"
std::string_view BlockTypeName(BlockType type);  // "lstm" | "rnn" | "dense"
inline CellKind CellOf(BlockType type) {
  return type == BlockType::kRnn ? CellKind::kRnnTanh : CellKind::kLstm;
}

struct RegressorSpec {
  int features = 0;
  int steps = 0;  // 0: any window length
  CellKind cell = CellKind::kLstm;
  std::vector<int> hidden;
  double dropout = 0.0;
  std::vector<int> head_hidden;
  Activation head_activation = Activation::kRelu;
  Activation output_activation = Activation::kLinear;
  int output_width = 1;
  bool per_step = false;
  Loss loss = Loss::kMse;
  double quantile = 0.5;  // τ of Loss::kPinball (spec key "quantile", only with that loss)
};

struct GanBlockSpec {
  BlockType type = BlockType::kLstm;
  std::vector<int> hidden;
  std::vector<int> head;  // dense hidden layers after a recurrent stack
  Activation activation = Activation::kRelu;
  Activation output_activation = Activation::kLinear;  // generator only
  double dropout = 0.0;                                // discriminator only
};

struct GanSpec {
  int steps = 0;
  int features = 0;
  int noise = 8;
  int condition = 0;
  GanBlockSpec generator;
  GanBlockSpec discriminator;
};

struct ModelSpec {
  ModelKind kind = ModelKind::kRegressor;
  RegressorSpec regressor;  // when kind == kRegressor
  GanSpec gan;              // when kind == kGan

  std::string ToJson() const;
};

// Parses and validates; errors are InvalidArgument naming the key path.
Result<ModelSpec> ParseModelSpec(std::string_view json);

// Number of trainable floats the spec defines (computed without allocating, so a hostile spec
// or model file cannot make the library try to allocate terabytes).
uint64_t ParameterCount(const ModelSpec& spec);
// Models larger than this are refused with ResourceExhausted (1 GiB of float32 weights).
inline constexpr uint64_t kMaxModelParameters = uint64_t{1} << 28;

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_MODEL_SPEC_H_
