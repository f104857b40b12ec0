// ExportOnnx (include/nemesyst/onnx.h): a regressor as an ONNX graph, opset kOnnxExportOpset.
//
//   x [batch, steps, F] ─Transpose(1,0,2)→ [T, B, F]
//     ─LSTM/RNN/GRU (layer 0)→ Y [T, 1, B, H0] ─Squeeze(axes 1)→ [T, B, H0] ─ … layer L-1 …
//   many-to-one:  last layer's Y_h [1, B, H] ─Squeeze(axes 0)→ [B, H]
//                 ─Gemm(transB=1)→ activation … ─Gemm→ output activation → y [batch, width]
//   per-step:     last layer's Y ─Squeeze(axes 1)→ [T, B, H] ─Transpose(1,0,2)→ [B, T, H]
//                 ─MatMul/Add→ activation … → [B, T, width] ─Reshape→ y [batch, steps × width]
//
// Recurrent weights go through ToOnnxRecurrent (kernels/onnx/onnx_weights.h: gate orders, bias
// split); dense weights are the model file's as they are (Gemm with transB=1 reads W [out][in]),
// transposed to [in][out] for the per-step MatMul.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <exception>
#include <initializer_list>
#include <limits>
#include <new>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kernels/activation.h"
#include "kernels/model_file.h"
#include "kernels/model_spec.h"
#include "kernels/onnx/onnx_guard.h"
#include "kernels/onnx/onnx_tensor.h"
#include "kernels/onnx/onnx_weights.h"
#include "kernels/recurrent_kernel.h"
#include "nemesyst/onnx.h"
#include "nemesyst/version.h"

namespace nemesyst {
namespace {

using kernels::Activation;
using kernels::CellKind;

// The ONNX op of a recurrent cell.
const char* OpOf(CellKind cell) {
  switch (cell) {
    case CellKind::kLstm:
      return "LSTM";
    case CellKind::kRnnTanh:
      return "RNN";
    case CellKind::kGru:
    case CellKind::kGruClassic:
      return "GRU";
  }
  return "RNN";
}

// Builds the graph: one helper per node kind, names kept readable ("encoder.0.lstm").
class GraphBuilder {
 public:
  explicit GraphBuilder(::onnx::GraphProto* graph) : graph_(graph) {}

  ::onnx::NodeProto* Node(const std::string& name, const char* op,
                          const std::vector<std::string>& inputs,
                          const std::vector<std::string>& outputs) {
    ::onnx::NodeProto* node = graph_->add_node();
    node->set_name(name);
    node->set_op_type(op);
    for (const std::string& in : inputs) node->add_input(in);
    for (const std::string& out : outputs) node->add_output(out);
    return node;
  }

  static void IntAttr(::onnx::NodeProto* node, const char* name, int64_t value) {
    ::onnx::AttributeProto* a = node->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::INT);
    a->set_i(value);
  }
  static void FloatAttr(::onnx::NodeProto* node, const char* name, float value) {
    ::onnx::AttributeProto* a = node->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::FLOAT);
    a->set_f(value);
  }
  static void IntsAttr(::onnx::NodeProto* node, const char* name,
                       std::initializer_list<int64_t> values) {
    ::onnx::AttributeProto* a = node->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::INTS);
    for (int64_t v : values) a->add_ints(v);
  }

  void FloatInit(const std::string& name, const std::vector<int64_t>& dims, const float* values) {
    kernels::onnx::WriteFloatTensor(name, dims, values, graph_->add_initializer());
  }
  // One int64 initializer per distinct value list ("axes.0", "shape.…"), shared by the nodes.
  const std::string& Int64Init(const std::string& name, std::vector<int64_t> values) {
    auto [it, inserted] = int_inits_.try_emplace(name, name);
    if (inserted) {
      const std::vector<int64_t> dims = {static_cast<int64_t>(values.size())};
      kernels::onnx::WriteInt64Tensor(name, dims, values, graph_->add_initializer());
    }
    return it->second;
  }

  // Transpose(perm 1, 0, 2) of a rank-3 tensor.
  std::string Transpose102(const std::string& name, const std::string& in) {
    const std::string out = name + ".out";
    IntsAttr(Node(name, "Transpose", {in}, {out}), "perm", {1, 0, 2});
    return out;
  }
  std::string Squeeze(const std::string& name, const std::string& in, int64_t axis) {
    const std::string out = name + ".out";
    const std::string& axes = Int64Init("axes." + std::to_string(axis), {axis});
    Node(name, "Squeeze", {in, axes}, {out});
    return out;
  }
  // The activation node after a dense layer (none for linear).
  std::string Activate(const std::string& prefix, Activation activation, const std::string& in,
                       const std::string& out_name) {
    const char* op = nullptr;
    switch (activation) {
      case Activation::kLinear:
        return in;
      case Activation::kSigmoid:
        op = "Sigmoid";
        break;
      case Activation::kTanh:
        op = "Tanh";
        break;
      case Activation::kRelu:
        op = "Relu";
        break;
      case Activation::kLeakyRelu:
        op = "LeakyRelu";
        break;
    }
    const std::string name = prefix + "." + std::string(kernels::ActivationName(activation));
    const std::string out = out_name.empty() ? name + ".out" : out_name;
    ::onnx::NodeProto* node = Node(name, op, {in}, {out});
    if (activation == Activation::kLeakyRelu) FloatAttr(node, "alpha", kernels::kLeakyReluSlope);
    return out;
  }

 private:
  ::onnx::GraphProto* graph_;
  std::unordered_map<std::string, std::string> int_inits_;
};

void SetDim(::onnx::TensorShapeProto* shape, int64_t fixed, const char* symbolic) {
  ::onnx::TensorShapeProto::Dimension* d = shape->add_dim();
  if (fixed > 0) {
    d->set_dim_value(fixed);
  } else {
    d->set_dim_param(symbolic);
  }
}

// A float graph input/output; a dimension <= 0 is the symbolic name beside it.
void SetFloatValue(::onnx::ValueInfoProto* value, const std::string& name,
                   const std::vector<std::pair<int64_t, const char*>>& dims) {
  value->set_name(name);
  ::onnx::TypeProto::Tensor* type = value->mutable_type()->mutable_tensor_type();
  type->set_elem_type(::onnx::TensorProto::FLOAT);
  for (const auto& [fixed, symbolic] : dims) SetDim(type->mutable_shape(), fixed, symbolic);
}

std::string WidthsText(const std::vector<int>& widths) {
  std::string s;
  for (size_t i = 0; i < widths.size(); ++i) s += (i ? ", " : "") + std::to_string(widths[i]);
  return s;
}

Result<std::string> Export(const Model& model, const ModelFileMetadata& metadata,
                           std::string_view source) {
  const std::string spec_json = model.spec_json();
  NEMESYST_ASSIGN_OR_RETURN(const kernels::ModelSpec spec, kernels::ParseModelSpec(spec_json));
  if (spec.kind != kernels::ModelKind::kRegressor) {
    return Status::Unimplemented(
        "ONNX export: only regressors (recurrent stack + dense head) can be exported; this model "
        "is a " +
        std::string(kernels::ModelKindName(spec.kind)) +
        " (its generator and discriminator have no ONNX form here)");
  }
  const kernels::RegressorSpec& r = spec.regressor;
  if (r.hidden.empty() || r.features < 1 || r.output_width < 1) {
    return Status::Internal("ONNX export: the model's spec has no recurrent layer or no width");
  }
  if (r.per_step && r.steps < 1) {  // ParseModelSpec refuses this; kept as a guard
    return Status::InvalidArgument("ONNX export: a per-step model needs a fixed input.steps");
  }
  NEMESYST_ASSIGN_OR_RETURN(const std::string file, model.Serialize());
  NEMESYST_ASSIGN_OR_RETURN(const kernels::ModelFileContents contents,
                            kernels::DecodeModelFile(file));
  std::unordered_map<std::string, const kernels::StoredTensor*> tensors;
  for (const kernels::StoredTensor& t : contents.tensors) tensors[t.name] = &t;
  // The tensor `name`, checked to hold `count` floats.
  auto tensor = [&](const std::string& name, size_t count) -> Result<const float*> {
    auto it = tensors.find(name);
    if (it == tensors.end() || it->second->values.size() != count) {
      return Status::Internal("ONNX export: the model has no tensor '" + name + "' of " +
                              std::to_string(count) + " floats");
    }
    return it->second->values.data();
  };

  ::onnx::ModelProto proto;
  proto.set_ir_version(7);
  proto.set_producer_name("nemesyst");
  proto.set_producer_version(NEMESYST_VERSION_STRING);
  proto.set_model_version(1);
  ::onnx::OperatorSetIdProto* opset = proto.add_opset_import();
  opset->set_domain("");  // ai.onnx
  opset->set_version(kOnnxExportOpset);

  const CellKind cell = r.cell;
  const std::string cell_name = kernels::CellName(cell);
  std::string summary = std::to_string(r.hidden.size()) + " × " + OpOf(cell) + " (" + cell_name +
                        ", hidden " + WidthsText(r.hidden) + ")";
  if (!r.head_hidden.empty()) {
    summary += " → dense " + WidthsText(r.head_hidden) + " (" +
               std::string(kernels::ActivationName(r.head_activation)) + ")";
  }
  summary += " → dense " + std::to_string(r.output_width) + " (" +
             std::string(kernels::ActivationName(r.output_activation)) + ")" +
             (r.per_step ? ", per step" : ", last step");
  proto.set_doc_string("Exported by Nemesyst " NEMESYST_VERSION_STRING ": regressor, " + summary);

  ::onnx::GraphProto* graph = proto.mutable_graph();
  graph->set_name("nemesyst_regressor");
  graph->set_doc_string(summary);
  SetFloatValue(graph->add_input(), "x",
                {{0, "batch"}, {r.steps, "steps"}, {r.features, "features"}});
  if (r.per_step) {
    SetFloatValue(graph->add_output(), "y",
                  {{0, "batch"}, {int64_t{r.steps} * r.output_width, "outputs"}});
  } else {
    SetFloatValue(graph->add_output(), "y", {{0, "batch"}, {r.output_width, "outputs"}});
  }

  GraphBuilder g(graph);
  std::string current = g.Transpose102("input.transpose", "x");  // [T, B, F]
  const int64_t gates = kernels::GateCount(cell);
  const size_t layers = r.hidden.size();
  int input = r.features;
  for (size_t l = 0; l < layers; ++l) {
    const int h = r.hidden[l];
    const std::string prefix = "encoder." + std::to_string(l);
    const size_t gh = static_cast<size_t>(gates) * h;
    NEMESYST_ASSIGN_OR_RETURN(const float* w_ih, tensor(prefix + ".w_ih", gh * input));
    NEMESYST_ASSIGN_OR_RETURN(const float* w_hh, tensor(prefix + ".w_hh", gh * h));
    NEMESYST_ASSIGN_OR_RETURN(
        const float* bias,
        tensor(prefix + ".bias", static_cast<size_t>(kernels::BiasRows(cell)) * h));
    const kernels::onnx::OnnxRecurrentWeights onnx =
        kernels::onnx::ToOnnxRecurrent(cell, input, h, {w_ih, w_hh, bias});
    g.FloatInit(prefix + ".W", {1, gates * h, input}, onnx.w.data());
    g.FloatInit(prefix + ".R", {1, gates * h, h}, onnx.r.data());
    g.FloatInit(prefix + ".B", {1, 2 * gates * h}, onnx.b.data());

    const bool last = l + 1 == layers;
    const bool want_y = !last || r.per_step;
    // Outputs Y [T, 1, B, H] for the next layer or the per-step head, else only Y_h [1, B, H]
    // (Y left out as "").
    const std::string y = want_y ? prefix + ".Y" : "";
    const std::string y_h = prefix + ".Y_h";
    ::onnx::NodeProto* node =
        g.Node(prefix + "." + cell_name, OpOf(cell),
               {current, prefix + ".W", prefix + ".R", prefix + ".B"},
               want_y ? std::vector<std::string>{y} : std::vector<std::string>{"", y_h});
    GraphBuilder::IntAttr(node, "hidden_size", h);
    if (IsGru(cell)) {
      GraphBuilder::IntAttr(node, "linear_before_reset", cell == CellKind::kGru ? 1 : 0);
    }
    current = want_y ? g.Squeeze(prefix + ".squeeze", y, 1)     // [T, B, H]
                     : g.Squeeze(prefix + ".squeeze", y_h, 0);  // [B, H]
    input = h;
  }

  // Dense head: hidden layers with head_activation, then the output layer.
  if (r.per_step) current = g.Transpose102("encoder.transpose", current);  // [B, T, H]
  const size_t dense = r.head_hidden.size() + 1;
  for (size_t k = 0; k < dense; ++k) {
    const bool last = k + 1 == dense;
    const int out = last ? r.output_width : r.head_hidden[k];
    const std::string prefix = "head." + std::to_string(k);
    const size_t n = static_cast<size_t>(out) * input;
    NEMESYST_ASSIGN_OR_RETURN(const float* w, tensor(prefix + ".w", n));
    NEMESYST_ASSIGN_OR_RETURN(const float* b, tensor(prefix + ".b", static_cast<size_t>(out)));
    std::string pre;
    if (r.per_step) {
      std::vector<float> w_t(n);  // [in][out] for MatMul
      for (int o = 0; o < out; ++o) {
        for (int i = 0; i < input; ++i) {
          w_t[static_cast<size_t>(i) * out + o] = w[static_cast<size_t>(o) * input + i];
        }
      }
      g.FloatInit(prefix + ".W", {input, out}, w_t.data());
      g.Node(prefix + ".matmul", "MatMul", {current, prefix + ".W"}, {prefix + ".matmul.out"});
      pre = prefix + ".add.out";
      g.Node(prefix + ".add", "Add", {prefix + ".matmul.out", prefix + ".B"}, {pre});
    } else {
      g.FloatInit(prefix + ".W", {out, input}, w);
      pre = prefix + ".gemm.out";
      GraphBuilder::IntAttr(
          g.Node(prefix + ".gemm", "Gemm", {current, prefix + ".W", prefix + ".B"}, {pre}),
          "transB", 1);
    }
    g.FloatInit(prefix + ".B", {out}, b);
    const Activation activation = last ? r.output_activation : r.head_activation;
    // The last layer names its output "y" (many-to-one) directly.
    const bool names_y = last && !r.per_step;
    if (names_y && activation == Activation::kLinear) {
      graph->mutable_node(graph->node_size() - 1)->set_output(0, "y");
      current = "y";
    } else {
      current = g.Activate(prefix, activation, pre, names_y ? "y" : "");
    }
    input = out;
  }
  if (r.per_step) {  // [B, T, W] → [B, T·W]
    const std::string& shape = g.Int64Init("output.shape", {0, int64_t{r.steps} * r.output_width});
    g.Node("output.reshape", "Reshape", {current, shape}, {"y"});
  }

  auto add_prop = [&proto](const std::string& key, const std::string& value) {
    ::onnx::StringStringEntryProto* p = proto.add_metadata_props();
    p->set_key(key);
    p->set_value(value);
  };
  for (const auto& [key, onnx_key] :
       {std::pair<const char*, const char*>{"pipeline", kOnnxPipelineKey},
        {"input_fields", kOnnxInputFieldsKey},
        {"stream", kOnnxStreamKey}}) {
    auto it = metadata.find(key);
    if (it != metadata.end()) add_prop(onnx_key, it->second);
  }
  add_prop(kOnnxSpecKey, spec_json);
  if (!source.empty()) add_prop(kOnnxSourceKey, std::string(source));

  const size_t size = proto.ByteSizeLong();
  if (size > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return Status::ResourceExhausted("ONNX export: the model is " + std::to_string(size) +
                                     " bytes as ONNX, over protobuf's 2 GiB message limit");
  }
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!proto.SerializeToCodedStream(&coded)) {
      return Status::Internal("ONNX export: protobuf serialisation failed");
    }
  }
  return bytes;
}

}  // namespace

Result<std::string> ExportOnnx(const Model& model, const ModelFileMetadata& metadata,
                               std::string_view source) {
  return kernels::onnx::GuardOnnx("ONNX export", [&] { return Export(model, metadata, source); });
}

}  // namespace nemesyst
