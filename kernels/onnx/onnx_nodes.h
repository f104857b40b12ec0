// One ONNX node at a time: its attributes read and checked, and the recurrent and Gemm nodes
// mapped onto our layers (kernels/recurrent_kernel.h, kernels/dense_kernel.h). Shared by the
// model import (onnx_import.cc) and the golden node tests, so both refuse the same things with the
// same words. Everything a node asks that our layer would not compute exactly is refused, naming
// the node, its op type and the reason; nothing is approximated.
#ifndef NEMESYST_KERNELS_ONNX_ONNX_NODES_H_
#define NEMESYST_KERNELS_ONNX_ONNX_NODES_H_

#include <onnx/onnx_pb.h>

#include <optional>
#include <string>
#include <vector>

#include "kernels/onnx/onnx_tensor.h"
#include "kernels/onnx/onnx_weights.h"
#include "kernels/recurrent_kernel.h"
#include "nemesyst/status.h"

namespace nemesyst::kernels::onnx {

// A node and where it sits, for error messages: "<source>: node 3 'lstm0' (LSTM): <reason>".
class NodeRef {
 public:
  NodeRef(const ::onnx::NodeProto& node, int index, std::string source)
      : node_(node), index_(index), source_(std::move(source)) {}

  const ::onnx::NodeProto& node() const { return node_; }
  const std::string& op() const { return node_.op_type(); }
  std::string Where() const;
  Status Invalid(const std::string& reason) const;      // InvalidArgument
  Status Unsupported(const std::string& reason) const;  // Unimplemented

  // The attribute `name` of the given type, or nullopt when absent; a present attribute of
  // another type is an error.
  Result<std::optional<int64_t>> Int(const std::string& name) const;
  Result<std::optional<float>> Float(const std::string& name) const;
  Result<std::optional<std::string>> String(const std::string& name) const;
  Result<std::optional<std::vector<int64_t>>> Ints(const std::string& name) const;
  Result<std::optional<std::vector<std::string>>> Strings(const std::string& name) const;
  const ::onnx::AttributeProto* Find(const std::string& name) const;
  // Refuses any attribute not in `known` (a typo or a newer attribute never passes silently).
  Status OnlyAttributes(const std::vector<std::string>& known) const;
  // Input `i`'s name, or "" when absent or empty (an omitted optional input).
  std::string Input(int i) const;

 private:
  const ::onnx::NodeProto& node_;
  int index_;
  std::string source_;
};

struct RecurrentNodeMapping {
  CellKind cell = CellKind::kLstm;
  int input = 0;
  int hidden = 0;
  bool batch_major = false;  // layout = 1: X [B][T][I], Y [B][T][1][H], Y_h [B][1][H]
  OurRecurrentWeights weights;
};

// Maps an LSTM, GRU or RNN node with its W, R and (optional) B. Checks the attributes (forward
// direction, default activations, no clip, no input_forget, hidden_size consistent with W) and
// the weight shapes. The node's optional inputs beyond B (sequence_lens, initial states,
// peepholes) are the caller's: MapRecurrentNode refuses peepholes (P) only.
Result<RecurrentNodeMapping> MapRecurrentNode(const NodeRef& node, const Tensor& w, const Tensor& r,
                                              const Tensor* b);

struct DenseNodeMapping {
  int input = 0;
  int output = 0;
  bool transpose_input = false;  // transA: the node reads Aᵀ
  std::vector<float> w;          // [output][input], alpha folded in
  std::vector<float> b;          // [output], beta folded in; zeros without C
};

// Maps a Gemm node with its B (weights) and optional C (bias, broadcast along rows: scalar, [1],
// [N] or [1, N]; a per-row [M, N] bias has no dense-layer equivalent and is refused).
Result<DenseNodeMapping> MapGemmNode(const NodeRef& node, const Tensor& b, const Tensor* c);

}  // namespace nemesyst::kernels::onnx

#endif  // NEMESYST_KERNELS_ONNX_ONNX_NODES_H_
