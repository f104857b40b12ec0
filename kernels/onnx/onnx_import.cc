// ImportOnnx: walks the graph once, in its (required) topological order, keeping what each
// named value is:
//   - a constant (initializer, Constant node),
//   - a value computed only from shapes and constants (Shape → Gather → Concat ...: exporters
//     build initial states this way; its numbers do not matter to us),
//   - zeros of some shape (ConstantOfShape with 0, Expand of a zero constant, and slices of them:
//     an initial state of zeros, which is what our layers start from),
//   - or the data: the model input as it flows through the chain, with the role of each axis
//     (batch, time, direction, features) and whether time has been reduced to the last step.
// A node that reads the data must read the newest data value (the chain has no branches or
// skips); each recurrent node adds a layer, each Gemm / MatMul(+Add) a dense layer, each
// activation finishes a dense layer. Whatever does not fit is refused with the node's name.
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kernels/activation.h"
#include "kernels/model_file.h"
#include "kernels/onnx/onnx_guard.h"
#include "kernels/onnx/onnx_nodes.h"
#include "kernels/onnx/onnx_tensor.h"
#include "kernels/onnx/onnx_wire_scan.h"
#include "nemesyst/onnx.h"

namespace nemesyst {
namespace {

using kernels::Activation;
using kernels::CellKind;
using kernels::onnx::NodeRef;
using kernels::onnx::Tensor;

// Axis roles of the data.
enum class Axis { kBatch, kTime, kDirection, kFeature };

struct Value {
  enum class Kind { kConstant, kShapeDerived, kZeros, kData, kUnusable } kind = Kind::kConstant;
  Tensor constant;           // kConstant
  std::vector<Axis> axes;    // kData
  bool last_step = false;    // kData: time reduced to its last step (axis kTime has size 1, or
                             // gone)
  int width = 0;             // kData: size of the kFeature axis
  int producer = -1;         // kData: index of the node that made it (-1: the graph input)
  std::string why_unusable;  // kUnusable
};

struct DenseLayer {
  int input = 0, output = 0;
  std::vector<float> w, b;
  std::optional<Activation> activation;
  std::string last_activation_op;  // the op that set `activation` (for error messages)
};

struct RecurrentLayer {
  int input = 0, hidden = 0;
  kernels::onnx::OurRecurrentWeights weights;
};

class GraphImporter {
 public:
  GraphImporter(const ::onnx::GraphProto& graph, const OnnxImportOptions& options)
      : graph_(graph), options_(options) {}

  Status Run();

  std::optional<CellKind> cell_;
  int features_ = 0;
  int steps_ = 0;
  std::vector<RecurrentLayer> recurrent_;
  std::vector<DenseLayer> dense_;
  std::vector<std::string> summary_;

 private:
  std::string Source() const { return options_.source; }
  Status GraphError(const std::string& reason) const {
    return Status::InvalidArgument((Source().empty() ? "" : Source() + ": ") + reason);
  }
  Status BindInput();
  Status Visit(const NodeRef& node, int index);
  // The value named by input `i` of `node`; an error names the node when it is undefined.
  Result<const Value*> In(const NodeRef& node, int i) const;
  Result<const Tensor*> Constant(const NodeRef& node, int i, const char* what) const;
  Result<std::vector<int64_t>> ConstInts(const NodeRef& node, int i, const char* what) const;
  Status CheckTip(const NodeRef& node, const Value& data) const;
  void SetData(const NodeRef& node, int output, Value v, int index);
  void Set(const NodeRef& node, int output, Value v);
  bool IsZeros(const Value& v) const;

  Status VisitRecurrent(const NodeRef& node, int index);
  Status VisitDense(const NodeRef& node, int index);
  Status VisitActivation(const NodeRef& node, int index, Activation activation);
  Status VisitDataReshape(const NodeRef& node, int index, const Value& data);
  Status VisitNonData(const NodeRef& node);

  const ::onnx::GraphProto& graph_;
  const OnnxImportOptions& options_;
  std::map<std::string, Value> values_;
  int tip_ = -1;  // producer of the newest data value
};

Result<const Value*> GraphImporter::In(const NodeRef& node, int i) const {
  const std::string name = node.Input(i);
  if (name.empty()) return node.Invalid("input " + std::to_string(i) + " is missing");
  auto it = values_.find(name);
  if (it == values_.end()) {
    return node.Invalid("input '" + name +
                        "' is not defined before this node (a missing initializer, a cycle, or "
                        "a graph not in topological order)");
  }
  if (it->second.kind == Value::Kind::kUnusable) {
    return node.Unsupported("input '" + name + "': " + it->second.why_unusable);
  }
  return &it->second;
}

Result<const Tensor*> GraphImporter::Constant(const NodeRef& node, int i, const char* what) const {
  NEMESYST_ASSIGN_OR_RETURN(const Value* v, In(node, i));
  if (v->kind != Value::Kind::kConstant) {
    return node.Unsupported(std::string(what) + " '" + node.Input(i) +
                            "' must be a constant (an initializer or Constant)");
  }
  return &v->constant;
}

Result<std::vector<int64_t>> GraphImporter::ConstInts(const NodeRef& node, int i,
                                                      const char* what) const {
  NEMESYST_ASSIGN_OR_RETURN(const Tensor* t, Constant(node, i, what));
  if (t->is_float) return node.Invalid(std::string(what) + " must be integers");
  return t->ints;
}

bool GraphImporter::IsZeros(const Value& v) const {
  if (v.kind == Value::Kind::kZeros) return true;
  if (v.kind != Value::Kind::kConstant || !v.constant.is_float) return false;
  return std::all_of(v.constant.floats.begin(), v.constant.floats.end(),
                     [](float f) { return f == 0.0f; });
}

Status GraphImporter::CheckTip(const NodeRef& node, const Value& data) const {
  if (data.producer != tip_) {
    return node.Unsupported(
        "reads an earlier value of the model's chain (branches, skips and residual "
        "connections are not supported)");
  }
  return Status::OK();
}

void GraphImporter::Set(const NodeRef& node, int output, Value v) {
  if (output < node.node().output_size() && !node.node().output(output).empty()) {
    values_[node.node().output(output)] = std::move(v);
  }
}

void GraphImporter::SetData(const NodeRef& node, int output, Value v, int index) {
  v.kind = Value::Kind::kData;
  v.producer = index;
  tip_ = index;
  Set(node, output, std::move(v));
}

Status GraphImporter::BindInput() {
  std::vector<const ::onnx::ValueInfoProto*> inputs;
  for (const auto& in : graph_.input()) {
    if (!values_.count(in.name())) inputs.push_back(&in);  // not an initializer listed as input
  }
  if (inputs.size() != 1) {
    return GraphError("the graph has " + std::to_string(inputs.size()) +
                      " data inputs; a Nemesyst model has exactly one (the window)");
  }
  const auto& in = *inputs[0];
  if (!in.type().has_tensor_type() ||
      in.type().tensor_type().elem_type() != ::onnx::TensorProto::FLOAT ||
      !in.type().tensor_type().has_shape() || in.type().tensor_type().shape().dim_size() != 3) {
    return GraphError("graph input '" + in.name() +
                      "' must be a float tensor [batch, steps, features] (a window, batch-first)");
  }
  const auto& shape = in.type().tensor_type().shape();
  if (!shape.dim(2).has_dim_value() || shape.dim(2).dim_value() < 1 ||
      shape.dim(2).dim_value() > (1 << 20)) {
    return GraphError("graph input '" + in.name() + "': the features dimension must be fixed");
  }
  features_ = static_cast<int>(shape.dim(2).dim_value());
  if (shape.dim(1).has_dim_value()) {
    if (shape.dim(1).dim_value() < 1 || shape.dim(1).dim_value() > 100000) {
      return GraphError("graph input '" + in.name() + "': steps must be in [1, 100000]");
    }
    steps_ = static_cast<int>(shape.dim(1).dim_value());
    if (options_.steps > 0 && options_.steps != steps_) {
      return GraphError("--steps " + std::to_string(options_.steps) + " differs from the " +
                        std::to_string(steps_) + " steps the graph input '" + in.name() +
                        "' fixes");
    }
  } else {
    steps_ = options_.steps;
  }
  Value v;
  v.kind = Value::Kind::kData;
  v.axes = {Axis::kBatch, Axis::kTime, Axis::kFeature};
  v.width = features_;
  v.producer = -1;
  values_[in.name()] = std::move(v);
  return Status::OK();
}

Status GraphImporter::Run() {
  for (int i = 0; i < graph_.initializer_size(); ++i) {
    const auto& init = graph_.initializer(i);
    if (init.name().empty()) return GraphError("initializer " + std::to_string(i) + " has no name");
    if (values_.count(init.name())) {
      return GraphError("initializer '" + init.name() + "' is defined twice");
    }
    const std::string what =
        (Source().empty() ? "" : Source() + ": ") + "initializer '" + init.name() + "'";
    NEMESYST_ASSIGN_OR_RETURN(values_[init.name()].constant, kernels::onnx::ReadTensor(init, what));
  }
  if (graph_.sparse_initializer_size() > 0) return GraphError("sparse initializers are refused");
  NEMESYST_RETURN_IF_ERROR(BindInput());
  for (int i = 0; i < graph_.node_size(); ++i) {
    NodeRef node(graph_.node(i), i, Source());
    const std::string& domain = graph_.node(i).domain();
    if (!domain.empty() && domain != "ai.onnx") {
      return node.Unsupported("domain '" + domain + "' is not supported (only ai.onnx)");
    }
    for (const auto& out : graph_.node(i).output()) {
      if (!out.empty() && values_.count(out)) {
        return node.Invalid("output '" + out +
                            "' is already defined (a graph is single-assignment)");
      }
    }
    NEMESYST_RETURN_IF_ERROR(Visit(node, i));
  }
  if (graph_.output_size() != 1) {
    return GraphError("the graph has " + std::to_string(graph_.output_size()) +
                      " outputs; a Nemesyst regressor has exactly one");
  }
  auto it = values_.find(graph_.output(0).name());
  if (it == values_.end() || it->second.kind != Value::Kind::kData || it->second.producer != tip_) {
    return GraphError("graph output '" + graph_.output(0).name() +
                      "' is not the end of the model's chain");
  }
  const Value& out = it->second;
  if (recurrent_.empty()) return GraphError("no recurrent layer (LSTM, GRU or RNN) found");
  if (dense_.empty() || out.axes != std::vector<Axis>{Axis::kBatch, Axis::kFeature}) {
    return GraphError("graph output '" + graph_.output(0).name() +
                      "' must be a dense layer's [batch, outputs] after the recurrent layers");
  }
  return Status::OK();
}

Status GraphImporter::Visit(const NodeRef& node, int index) {
  const std::string& op = node.op();
  if (op == "Shape") {  // reads only the data's shape (exporters size initial states with it)
    NEMESYST_RETURN_IF_ERROR(In(node, 0).status());
    Value v;
    v.kind = Value::Kind::kShapeDerived;
    Set(node, 0, std::move(v));
    return Status::OK();
  }
  // Which inputs carry the data decides how the node is read.
  const Value* data = nullptr;
  int data_input = -1;
  for (int i = 0; i < node.node().input_size(); ++i) {
    if (node.Input(i).empty()) continue;
    NEMESYST_ASSIGN_OR_RETURN(const Value* v, In(node, i));
    if (v->kind == Value::Kind::kData) {
      if (data) {
        return node.Unsupported("reads the model's data twice (input '" + node.Input(i) +
                                "' as well)");
      }
      NEMESYST_RETURN_IF_ERROR(CheckTip(node, *v));
      data = v;
      data_input = i;
    }
  }
  if (!data) return VisitNonData(node);
  // Every op below reads the data as its first input (Add: either; it is commutative).
  if (data_input != 0 && op != "Add") {
    return node.Unsupported("reads the model's data as input " + std::to_string(data_input) +
                            "; only input 0 is mapped");
  }
  if (op == "LSTM" || op == "GRU" || op == "RNN") return VisitRecurrent(node, index);
  if (op == "Gemm" || op == "MatMul") return VisitDense(node, index);
  if (op == "Add") {
    // A bias after MatMul: the data plus a constant broadcast along the features.
    if (dense_.empty() || data->producer < 0 || dense_.back().activation ||
        data->axes != std::vector<Axis>{Axis::kBatch, Axis::kFeature}) {
      return node.Unsupported("Add is supported only as the bias of a MatMul dense layer");
    }
    const int k = data_input == 0 ? 1 : 0;
    NEMESYST_ASSIGN_OR_RETURN(const Tensor* bias, Constant(node, k, "the bias"));
    DenseLayer& d = dense_.back();
    const bool row = bias->is_float && (bias->size() == 1 || bias->size() == d.output) &&
                     (bias->dims.size() <= 1 || (bias->dims.size() == 2 && bias->dims[0] == 1));
    if (!row) return node.Unsupported("the bias " + bias->DimsText() + " is not per output");
    for (int o = 0; o < d.output; ++o) d.b[o] += bias->floats[bias->size() == 1 ? 0 : o];
    summary_.back() += "+Add";
    SetData(node, 0, *data, index);
    return Status::OK();
  }
  if (op == "Relu") return VisitActivation(node, index, Activation::kRelu);
  if (op == "Tanh") return VisitActivation(node, index, Activation::kTanh);
  if (op == "Sigmoid") return VisitActivation(node, index, Activation::kSigmoid);
  if (op == "LeakyRelu") {
    NEMESYST_RETURN_IF_ERROR(node.OnlyAttributes({"alpha"}));
    NEMESYST_ASSIGN_OR_RETURN(auto alpha, node.Float("alpha"));
    if (alpha.value_or(0.01f) != kernels::kLeakyReluSlope) {
      return node.Unsupported("LeakyRelu alpha " + std::to_string(*alpha) + " is not ours (0.01)");
    }
    return VisitActivation(node, index, Activation::kLeakyRelu);
  }
  if (op == "Identity" || op == "Dropout") {
    NEMESYST_RETURN_IF_ERROR(node.OnlyAttributes({"seed"}));  // Dropout's seed: unused here
    if (op == "Dropout" && !node.Input(2).empty()) {
      NEMESYST_ASSIGN_OR_RETURN(const Value* training, In(node, 2));
      const bool off = training->kind == Value::Kind::kConstant && training->constant.size() == 1 &&
                       (training->constant.is_float ? training->constant.floats[0] == 0.0f
                                                    : training->constant.ints[0] == 0);
      if (!off) return node.Unsupported("Dropout with training_mode not a constant false");
    }
    if (op == "Dropout" && node.node().output_size() > 1 && !node.node().output(1).empty()) {
      Value mask;
      mask.kind = Value::Kind::kUnusable;
      mask.why_unusable = "a Dropout mask has no meaning at inference";
      Set(node, 1, std::move(mask));
    }
    SetData(node, 0, *data, index);
    return Status::OK();
  }
  if (op == "Cast") {
    NEMESYST_RETURN_IF_ERROR(node.OnlyAttributes({"to"}));
    NEMESYST_ASSIGN_OR_RETURN(auto to, node.Int("to"));
    if (!to || *to != ::onnx::TensorProto::FLOAT) {
      return node.Unsupported("casts the data to a type other than float");
    }
    SetData(node, 0, *data, index);
    return Status::OK();
  }
  return VisitDataReshape(node, index, *data);
}

// Transpose / Squeeze / Gather / Slice / Flatten of the data: only rearrangements that keep the
// chain a window → sequence → last step → vector.
Status GraphImporter::VisitDataReshape(const NodeRef& node, int index, const Value& data) {
  const std::string& op = node.op();
  Value v = data;
  const int rank = static_cast<int>(data.axes.size());
  auto axis_of = [&](int64_t a) -> Result<int> {
    if (a < -rank || a >= rank) {
      return node.Invalid("axis " + std::to_string(a) + " is out of range for rank " +
                          std::to_string(rank));
    }
    return static_cast<int>(a < 0 ? a + rank : a);
  };
  if (op == "Transpose") {
    NEMESYST_RETURN_IF_ERROR(node.OnlyAttributes({"perm"}));
    NEMESYST_ASSIGN_OR_RETURN(auto perm, node.Ints("perm"));
    std::vector<int64_t> p = perm.value_or(std::vector<int64_t>());
    if (!perm) {
      for (int i = rank - 1; i >= 0; --i) p.push_back(i);
    }
    if (static_cast<int>(p.size()) != rank) return node.Invalid("perm has the wrong length");
    std::vector<bool> seen(rank, false);
    for (size_t i = 0; i < p.size(); ++i) {
      NEMESYST_ASSIGN_OR_RETURN(int a, axis_of(p[i]));
      if (seen[a]) return node.Invalid("perm repeats an axis");
      seen[a] = true;
      v.axes[i] = data.axes[a];
    }
    summary_.push_back("Transpose");
    SetData(node, 0, std::move(v), index);
    return Status::OK();
  }
  if (op == "Squeeze") {
    NEMESYST_RETURN_IF_ERROR(node.OnlyAttributes({"axes"}));
    std::vector<int64_t> axes;
    if (node.node().input_size() > 1 && !node.Input(1).empty()) {
      NEMESYST_ASSIGN_OR_RETURN(axes, ConstInts(node, 1, "the axes"));
    } else {
      NEMESYST_ASSIGN_OR_RETURN(auto attr, node.Ints("axes"));
      if (!attr) return node.Unsupported("Squeeze without axes (shape-dependent) is refused");
      axes = *attr;
    }
    if (axes.empty()) {
      return node.Unsupported(
          "Squeeze with empty axes (every size-1 axis: shape-dependent) is "
          "refused");
    }
    std::vector<int> remove;
    for (int64_t a : axes) {
      NEMESYST_ASSIGN_OR_RETURN(int ax, axis_of(a));
      if (std::find(remove.begin(), remove.end(), ax) != remove.end()) {
        return node.Invalid("axes repeat axis " + std::to_string(ax));
      }
      const Axis role = data.axes[ax];
      if (role != Axis::kDirection && !(role == Axis::kTime && data.last_step)) {
        return node.Unsupported(
            "squeezes an axis that is not of size 1 (the batch, the whole "
            "time axis or the features)");
      }
      remove.push_back(ax);
    }
    std::sort(remove.rbegin(), remove.rend());
    for (int ax : remove) v.axes.erase(v.axes.begin() + ax);
    SetData(node, 0, std::move(v), index);
    return Status::OK();
  }
  if (op == "Gather") {
    NEMESYST_RETURN_IF_ERROR(node.OnlyAttributes({"axis"}));
    NEMESYST_ASSIGN_OR_RETURN(auto axis_attr, node.Int("axis"));
    NEMESYST_ASSIGN_OR_RETURN(int ax, axis_of(axis_attr.value_or(0)));
    NEMESYST_ASSIGN_OR_RETURN(const Tensor* idx, Constant(node, 1, "the indices"));
    if (idx->is_float || idx->size() != 1 || !idx->dims.empty()) {
      return node.Unsupported("Gather of the data must pick one index (a scalar)");
    }
    const int64_t i = idx->ints[0];
    const Axis role = data.axes[ax];
    const bool last = i == -1 || (steps_ > 0 && i == steps_ - 1) || (data.last_step && i == 0);
    if (role == Axis::kTime && last) {
      v.last_step = true;
    } else if (!(role == Axis::kDirection && (i == 0 || i == -1))) {
      return node.Unsupported("Gather of index " + std::to_string(i) +
                              " on this axis: only the last time step (index -1) is supported");
    }
    v.axes.erase(v.axes.begin() + ax);
    summary_.push_back(role == Axis::kTime ? "Gather(last step)" : "Gather(direction)");
    SetData(node, 0, std::move(v), index);
    return Status::OK();
  }
  if (op == "Slice") {
    if (node.Find("starts") || node.Find("ends")) {
      return node.Unsupported(
          "Slice with starts/ends attributes (opset < 10) is not read; "
          "export with opset 10 or later");
    }
    NEMESYST_RETURN_IF_ERROR(node.OnlyAttributes({}));
    NEMESYST_ASSIGN_OR_RETURN(auto starts, ConstInts(node, 1, "starts"));
    NEMESYST_ASSIGN_OR_RETURN(auto ends, ConstInts(node, 2, "ends"));
    std::vector<int64_t> axes;
    if (!node.Input(3).empty()) {
      NEMESYST_ASSIGN_OR_RETURN(axes, ConstInts(node, 3, "axes"));
    } else {
      for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    }
    if (!node.Input(4).empty()) {
      NEMESYST_ASSIGN_OR_RETURN(auto steps, ConstInts(node, 4, "steps"));
      for (int64_t s : steps) {
        if (s != 1) return node.Unsupported("Slice with steps other than 1");
      }
    }
    if (starts.size() != ends.size() || starts.size() != axes.size()) {
      return node.Invalid("starts, ends and axes differ in length");
    }
    for (size_t k = 0; k < axes.size(); ++k) {
      NEMESYST_ASSIGN_OR_RETURN(int ax, axis_of(axes[k]));
      const Axis role = data.axes[ax];
      const bool to_end =
          ends[k] >= std::numeric_limits<int32_t>::max() || (steps_ > 0 && ends[k] >= steps_);
      if (role == Axis::kTime && to_end &&
          (starts[k] == -1 || (steps_ > 0 && starts[k] == steps_ - 1))) {
        v.last_step = true;
      } else if (!(role == Axis::kDirection && starts[k] == 0)) {
        return node.Unsupported("Slice of the data other than the last time step");
      }
    }
    summary_.push_back(v.last_step && !data.last_step ? "Slice(last step)" : "Slice");
    SetData(node, 0, std::move(v), index);
    return Status::OK();
  }
  if (op == "Flatten" || op == "Reshape") {
    // [batch, features] → [batch, features]: nothing to do; anything else would mix axes.
    if (data.axes != std::vector<Axis>{Axis::kBatch, Axis::kFeature}) {
      return node.Unsupported(op + " of the data is supported only on [batch, features]");
    }
    if (op == "Flatten") {
      NEMESYST_RETURN_IF_ERROR(node.OnlyAttributes({"axis"}));
      NEMESYST_ASSIGN_OR_RETURN(auto axis, node.Int("axis"));
      if (axis && *axis != 1 && *axis != -1) {
        return node.Unsupported("Flatten of the data with axis " + std::to_string(*axis) +
                                " (only 1) is refused");
      }
    }
    if (op == "Reshape") {
      NEMESYST_RETURN_IF_ERROR(node.OnlyAttributes({"allowzero"}));
      NEMESYST_ASSIGN_OR_RETURN(auto allowzero, node.Int("allowzero"));
      if (allowzero && *allowzero != 0) return node.Unsupported("Reshape with allowzero = 1");
      NEMESYST_ASSIGN_OR_RETURN(auto shape, ConstInts(node, 1, "the shape"));
      const bool same = shape.size() == 2 && (shape[0] == -1 || shape[0] == 0) &&
                        (shape[1] == data.width || shape[1] == -1);
      if (!same) return node.Unsupported("Reshape to anything but [batch, features]");
    }
    SetData(node, 0, std::move(v), index);
    return Status::OK();
  }
  return node.Unsupported("op type " + node.op() +
                          " has no mapping (supported on the data: LSTM, GRU, RNN, Gemm, MatMul, "
                          "Add, Relu, Tanh, Sigmoid, LeakyRelu, Transpose, Squeeze, Gather, "
                          "Slice, Flatten, Reshape, Identity, Dropout, Cast)");
}

Status GraphImporter::VisitRecurrent(const NodeRef& node, int index) {
  NEMESYST_ASSIGN_OR_RETURN(const Value* x, In(node, 0));
  if (x->kind != Value::Kind::kData) return node.Unsupported("X must be the model's data");
  NEMESYST_ASSIGN_OR_RETURN(const Tensor* w, Constant(node, 1, "W"));
  NEMESYST_ASSIGN_OR_RETURN(const Tensor* r, Constant(node, 2, "R"));
  const Tensor* b = nullptr;
  if (!node.Input(3).empty()) {
    NEMESYST_ASSIGN_OR_RETURN(b, Constant(node, 3, "B"));
  }
  NEMESYST_ASSIGN_OR_RETURN(auto m, kernels::onnx::MapRecurrentNode(node, *w, *r, b));
  if (!node.Input(4).empty()) {
    return node.Unsupported("sequence_lens is not supported (every window has the same length)");
  }
  for (int i : {5, 6}) {
    if (node.Input(i).empty()) continue;
    NEMESYST_ASSIGN_OR_RETURN(const Value* state, In(node, i));
    if (!IsZeros(*state)) {
      return node.Unsupported(std::string(i == 5 ? "initial_h" : "initial_c (input 6)") +
                              " is not zeros (our layers start every window from zeros)");
    }
  }
  const std::vector<Axis> want = m.batch_major
                                     ? std::vector<Axis>{Axis::kBatch, Axis::kTime, Axis::kFeature}
                                     : std::vector<Axis>{Axis::kTime, Axis::kBatch, Axis::kFeature};
  if (x->axes != want || x->last_step) {
    return node.Unsupported(
        std::string("X is not the whole sequence in the node's layout (") +
        (m.batch_major ? "batch-major" : "time-major") +
        "): the graph input is [batch, steps, features] (export with batch_first and keep "
        "the Transpose before a layout-0 node)");
  }
  if (x->width != m.input) {
    return node.Invalid("W reads " + std::to_string(m.input) + " features but X has " +
                        std::to_string(x->width));
  }
  if (cell_ && *cell_ != m.cell) {
    return node.Unsupported(std::string("mixes ") + kernels::CellName(*cell_) + " and " +
                            kernels::CellName(m.cell) +
                            " layers (a Nemesyst stack has one cell kind)");
  }
  if (!dense_.empty()) return node.Unsupported("a recurrent layer after a dense layer");
  cell_ = m.cell;
  recurrent_.push_back({m.input, m.hidden, std::move(m.weights)});
  summary_.push_back(node.op());
  Value y;
  y.width = m.hidden;
  y.axes = m.batch_major
               ? std::vector<Axis>{Axis::kBatch, Axis::kTime, Axis::kDirection, Axis::kFeature}
               : std::vector<Axis>{Axis::kTime, Axis::kDirection, Axis::kBatch, Axis::kFeature};
  Value y_h = y;
  y_h.last_step = true;
  y_h.axes = m.batch_major ? std::vector<Axis>{Axis::kBatch, Axis::kDirection, Axis::kFeature}
                           : std::vector<Axis>{Axis::kDirection, Axis::kBatch, Axis::kFeature};
  SetData(node, 0, std::move(y), index);
  SetData(node, 1, std::move(y_h), index);
  if (node.op() == "LSTM") {
    Value y_c;
    y_c.kind = Value::Kind::kUnusable;
    y_c.why_unusable = "the LSTM cell state output Y_c has no place in a Nemesyst regressor";
    Set(node, 2, std::move(y_c));
  }
  return Status::OK();
}

Status GraphImporter::VisitDense(const NodeRef& node, int index) {
  NEMESYST_ASSIGN_OR_RETURN(const Value* a, In(node, 0));
  if (a->kind != Value::Kind::kData) {
    return node.Unsupported("the data must be input A (weights as input B)");
  }
  if (recurrent_.empty()) return node.Unsupported("a dense layer before any recurrent layer");
  if (a->axes != std::vector<Axis>{Axis::kBatch, Axis::kFeature} || !a->last_step) {
    return node.Unsupported(
        "a dense layer on a whole sequence (a per-step output) is not imported; reduce to the "
        "last step first");
  }
  if (!dense_.empty() && !dense_.back().activation) dense_.back().activation = Activation::kLinear;
  NEMESYST_ASSIGN_OR_RETURN(const Tensor* b, Constant(node, 1, "the weights B"));
  DenseLayer d;
  if (node.op() == "Gemm") {
    const Tensor* c = nullptr;
    if (!node.Input(2).empty()) {
      NEMESYST_ASSIGN_OR_RETURN(c, Constant(node, 2, "the bias C"));
    }
    NEMESYST_ASSIGN_OR_RETURN(auto m, kernels::onnx::MapGemmNode(node, *b, c));
    if (m.transpose_input) return node.Unsupported("transA on the data is not supported");
    d = {m.input, m.output, std::move(m.w), std::move(m.b), std::nullopt};
  } else {
    NEMESYST_RETURN_IF_ERROR(node.OnlyAttributes({}));
    if (!b->is_float || b->dims.size() != 2 || b->dims[0] < 1 || b->dims[1] < 1) {
      return node.Invalid("the weights B " + b->DimsText() + " must be a float matrix");
    }
    d.input = static_cast<int>(b->dims[0]);
    d.output = static_cast<int>(b->dims[1]);
    d.w.resize(b->floats.size());
    for (int o = 0; o < d.output; ++o) {
      for (int i = 0; i < d.input; ++i) d.w[o * d.input + i] = b->floats[i * d.output + o];
    }
    d.b.assign(d.output, 0.0f);
  }
  if (d.input != a->width) {
    return node.Invalid("the weights read " + std::to_string(d.input) + " features but A has " +
                        std::to_string(a->width));
  }
  summary_.push_back(node.op());
  Value v;
  v.axes = {Axis::kBatch, Axis::kFeature};
  v.last_step = true;
  v.width = d.output;
  dense_.push_back(std::move(d));
  SetData(node, 0, std::move(v), index);
  return Status::OK();
}

Status GraphImporter::VisitActivation(const NodeRef& node, int index, Activation activation) {
  NEMESYST_ASSIGN_OR_RETURN(const Value* x, In(node, 0));
  if (!dense_.empty() && dense_.back().activation && x->producer >= 0 &&
      graph_.node(x->producer).op_type() == dense_.back().last_activation_op) {
    return node.Unsupported("a second activation on the same dense layer");
  }
  if (dense_.empty() || x->producer < 0 || dense_.back().activation ||
      graph_.node(x->producer).op_type() == "LSTM" || graph_.node(x->producer).op_type() == "GRU" ||
      graph_.node(x->producer).op_type() == "RNN") {
    return node.Unsupported(node.op() +
                            " is supported only right after a dense layer (Gemm, MatMul[+Add])");
  }
  if (node.op() != "LeakyRelu") NEMESYST_RETURN_IF_ERROR(node.OnlyAttributes({}));
  dense_.back().activation = activation;
  dense_.back().last_activation_op = node.op();
  summary_.push_back(node.op());
  SetData(node, 0, *x, index);
  return Status::OK();
}

// Nodes that do not touch the data: constants, and the shape arithmetic exporters use to build
// initial states. Their values are tracked only as far as we need them.
Status GraphImporter::VisitNonData(const NodeRef& node) {
  const std::string& op = node.op();
  if (op == "Constant") {
    const auto& attrs = node.node().attribute();
    if (attrs.size() != 1) return node.Invalid("a Constant needs exactly one attribute");
    const auto& a = attrs[0];
    Value v;
    if (a.name() == "value" && a.type() == ::onnx::AttributeProto::TENSOR) {
      NEMESYST_ASSIGN_OR_RETURN(v.constant, kernels::onnx::ReadTensor(a.t(), node.Where()));
    } else if (a.name() == "value_float" && a.type() == ::onnx::AttributeProto::FLOAT) {
      v.constant.is_float = true;
      v.constant.floats = {a.f()};
    } else if (a.name() == "value_floats" && a.type() == ::onnx::AttributeProto::FLOATS) {
      v.constant.is_float = true;
      v.constant.floats.assign(a.floats().begin(), a.floats().end());
      v.constant.dims = {static_cast<int64_t>(a.floats_size())};
    } else if (a.name() == "value_int" && a.type() == ::onnx::AttributeProto::INT) {
      v.constant.ints = {a.i()};
    } else if (a.name() == "value_ints" && a.type() == ::onnx::AttributeProto::INTS) {
      v.constant.ints.assign(a.ints().begin(), a.ints().end());
      v.constant.dims = {static_cast<int64_t>(a.ints_size())};
    } else {
      return node.Unsupported("Constant attribute '" + a.name() +
                              "' (of that type) is not supported");
    }
    Set(node, 0, std::move(v));
    return Status::OK();
  }
  // Every input is a constant, shape-derived or zeros here.
  bool any_zeros = false, all_zero_or_const = true;
  for (int i = 0; i < node.node().input_size(); ++i) {
    if (node.Input(i).empty()) continue;
    NEMESYST_ASSIGN_OR_RETURN(const Value* v, In(node, i));
    if (v->kind == Value::Kind::kZeros) any_zeros = true;
    if (v->kind == Value::Kind::kShapeDerived) all_zero_or_const = false;
  }
  Value out;
  if (op == "ConstantOfShape") {
    const auto* value = node.Find("value");
    bool zero = value == nullptr;
    if (value && value->type() == ::onnx::AttributeProto::TENSOR) {
      auto t = kernels::onnx::ReadTensor(value->t(), node.Where());
      zero = t.ok() && ((t->is_float && t->floats.size() == 1 && t->floats[0] == 0.0f) ||
                        (!t->is_float && t->ints.size() == 1 && t->ints[0] == 0));
    }
    out.kind = zero ? Value::Kind::kZeros : Value::Kind::kShapeDerived;
  } else if (op == "Expand") {
    NEMESYST_ASSIGN_OR_RETURN(const Value* x, In(node, 0));
    out.kind = IsZeros(*x) ? Value::Kind::kZeros : Value::Kind::kShapeDerived;
  } else if (op == "Identity" && !node.Input(0).empty() &&
             values_.at(node.Input(0)).kind == Value::Kind::kConstant) {
    out = values_.at(node.Input(0));  // exporters put Identity on shared initializers
  } else if (any_zeros &&
             (op == "Slice" || op == "Squeeze" || op == "Unsqueeze" || op == "Reshape" ||
              op == "Transpose" || op == "Gather" || op == "Identity" || op == "Cast")) {
    NEMESYST_ASSIGN_OR_RETURN(const Value* x, In(node, 0));
    out.kind = x->kind == Value::Kind::kZeros ? Value::Kind::kZeros : Value::Kind::kShapeDerived;
  } else if (any_zeros && op == "Concat" && all_zero_or_const) {
    bool zeros = true;
    for (int i = 0; i < node.node().input_size(); ++i) {
      if (node.Input(i).empty()) continue;
      zeros = zeros && IsZeros(values_.at(node.Input(i)));  // defined: checked above
    }
    out.kind = zeros ? Value::Kind::kZeros : Value::Kind::kShapeDerived;
  } else {
    // Shape, Gather, Unsqueeze, Concat, Slice, Cast, ... on shapes and constants: the numbers
    // are not needed (a later node that needs a constant refuses a shape-derived value).
    out.kind = Value::Kind::kShapeDerived;
  }
  for (int i = 0; i < node.node().output_size(); ++i) Set(node, i, out);
  return Status::OK();
}

std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : sep) + p;
  return s;
}

Result<std::string> HeadActivation(const std::vector<DenseLayer>& dense, const std::string& src) {
  std::optional<Activation> shared;
  for (size_t k = 0; k + 1 < dense.size(); ++k) {
    const Activation a = dense[k].activation.value_or(Activation::kLinear);
    if (shared && *shared != a) {
      return Status::Unimplemented(
          src + (src.empty() ? "" : ": ") +
          "the hidden dense layers use different activations (a Nemesyst head has one)");
    }
    shared = a;
  }
  return std::string(kernels::ActivationName(shared.value_or(Activation::kRelu)));
}

Result<OnnxImportResult> ImportUnguarded(std::string_view onnx_bytes,
                                         const OnnxImportOptions& options,
                                         const ModelFileMetadata& metadata) {
  const std::string src = options.source;
  auto fail = [&](const std::string& reason) {
    return Status::InvalidArgument((src.empty() ? "" : src + ": ") + reason);
  };
  if (onnx_bytes.size() > kOnnxMaxFileBytes) {
    return fail("larger than " + std::to_string(kOnnxMaxFileBytes >> 20) + " MiB");
  }
  if (Status counts = kernels::onnx::ScanOnnxCounts(onnx_bytes); !counts.ok()) {
    return counts.WithContext(src.empty() ? "onnx import" : src);
  }
  ::onnx::ModelProto model;
  if (!model.ParseFromArray(onnx_bytes.data(), static_cast<int>(onnx_bytes.size()))) {
    return fail("not an ONNX model (the protobuf does not parse: truncated or not ONNX)");
  }
  if (!model.has_graph()) return fail("the model has no graph");
  OnnxImportResult result;
  for (const auto& o : model.opset_import()) {
    if (o.domain().empty() || o.domain() == "ai.onnx") result.opset = o.version();
  }
  if (result.opset < kOnnxImportMinOpset || result.opset > kOnnxImportMaxOpset) {
    return Status::Unimplemented((src.empty() ? "" : src + ": ") + "opset " +
                                 std::to_string(result.opset) + " is not read (" +
                                 std::to_string(kOnnxImportMinOpset) + " to " +
                                 std::to_string(kOnnxImportMaxOpset) + " are)");
  }
  result.producer = model.producer_name();
  if (!model.producer_version().empty()) result.producer += " " + model.producer_version();

  GraphImporter g(model.graph(), options);
  NEMESYST_RETURN_IF_ERROR(g.Run());
  for (const auto& [key, value] : metadata) {
    if (key.rfind("nemesyst.", 0) == 0) {
      return Status::InvalidArgument("metadata key '" + key + "' uses the reserved prefix");
    }
  }

  std::vector<int> hidden, head_hidden;
  for (const auto& r : g.recurrent_) hidden.push_back(r.hidden);
  for (size_t k = 0; k + 1 < g.dense_.size(); ++k) head_hidden.push_back(g.dense_[k].output);
  NEMESYST_ASSIGN_OR_RETURN(const std::string head_activation, HeadActivation(g.dense_, src));
  nlohmann::json spec = {
      {"kind", "regressor"},
      {"input", {{"features", g.features_}, {"steps", g.steps_}}},
      {"recurrent", {{"cell", kernels::CellName(*g.cell_)}, {"hidden", hidden}}},
      {"head",
       {{"hidden", head_hidden},
        {"activation", head_activation},
        {"output_activation", std::string(kernels::ActivationName(
                                  g.dense_.back().activation.value_or(Activation::kLinear)))}}},
      {"output", {{"width", g.dense_.back().output}}}};

  std::map<std::string, std::string> file_meta(metadata.begin(), metadata.end());
  std::map<std::string, std::string> carried;
  for (const auto& p : model.metadata_props()) carried[p.key()] = p.value();
  if (!file_meta.count("pipeline") && carried.count(kOnnxPipelineKey) &&
      carried.count(kOnnxInputFieldsKey)) {
    file_meta["pipeline"] = carried[kOnnxPipelineKey];
    file_meta["input_fields"] = carried[kOnnxInputFieldsKey];
    if (carried.count(kOnnxStreamKey)) file_meta["stream"] = carried[kOnnxStreamKey];
    result.carried_pipeline = true;
  }
  file_meta["nemesyst.spec"] = spec.dump();
  file_meta["nemesyst.kind"] = "regressor";
  std::vector<kernels::TensorView> tensors;
  for (size_t l = 0; l < g.recurrent_.size(); ++l) {
    const auto& r = g.recurrent_[l];
    const int64_t gh = int64_t{kernels::GateCount(*g.cell_)} * r.hidden;
    const std::string name = "encoder." + std::to_string(l);
    tensors.push_back({name + ".w_ih", {gh, r.input}, r.weights.w_ih.data()});
    tensors.push_back({name + ".w_hh", {gh, r.hidden}, r.weights.w_hh.data()});
    tensors.push_back(
        {name + ".bias", {int64_t{kernels::BiasRows(*g.cell_)} * r.hidden}, r.weights.bias.data()});
  }
  for (size_t k = 0; k < g.dense_.size(); ++k) {
    const auto& d = g.dense_[k];
    const std::string name = "head." + std::to_string(k);
    tensors.push_back({name + ".w", {d.output, d.input}, d.w.data()});
    tensors.push_back({name + ".b", {d.output}, d.b.data()});
  }
  NEMESYST_ASSIGN_OR_RETURN(result.model_file, kernels::EncodeModelFile(file_meta, tensors));
  // The model file is checked the way every reader checks it (spec, tensor names and shapes).
  ModelOptions check;
  check.backend = Backend::kRef;
  auto built = Model::Deserialize(result.model_file, check);
  if (!built.ok()) return built.status().WithContext(src.empty() ? "onnx import" : src);
  result.spec_json = (*built)->spec_json();
  result.graph_summary = Join(g.summary_, " → ");
  return result;
}

}  // namespace

Result<OnnxImportResult> ImportOnnx(std::string_view onnx_bytes, const OnnxImportOptions& options,
                                    const ModelFileMetadata& metadata) {
  return kernels::onnx::GuardOnnx("onnx import",
                                  [&] { return ImportUnguarded(onnx_bytes, options, metadata); });
}

}  // namespace nemesyst
