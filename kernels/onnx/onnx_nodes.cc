#include "kernels/onnx/onnx_nodes.h"

#include <algorithm>

namespace nemesyst::kernels::onnx {

std::string NodeRef::Where() const {
  std::string where = source_.empty() ? "" : source_ + ": ";
  where += "node " + std::to_string(index_);
  if (!node_.name().empty()) where += " '" + node_.name() + "'";
  return where + " (" + node_.op_type() + ")";
}

Status NodeRef::Invalid(const std::string& reason) const {
  return Status::InvalidArgument(Where() + ": " + reason);
}

Status NodeRef::Unsupported(const std::string& reason) const {
  return Status::Unimplemented(Where() + ": " + reason);
}

const ::onnx::AttributeProto* NodeRef::Find(const std::string& name) const {
  for (const auto& a : node_.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

Status NodeRef::OnlyAttributes(const std::vector<std::string>& known) const {
  for (const auto& a : node_.attribute()) {
    if (std::find(known.begin(), known.end(), a.name()) == known.end()) {
      return Unsupported("attribute '" + a.name() + "' is not supported");
    }
  }
  return Status::OK();
}

std::string NodeRef::Input(int i) const {
  return i < node_.input_size() ? node_.input(i) : std::string();
}

namespace {

Status WrongType(const NodeRef& node, const std::string& name, const char* want) {
  return node.Invalid("attribute '" + name + "' must be " + want);
}

}  // namespace

Result<std::optional<int64_t>> NodeRef::Int(const std::string& name) const {
  const auto* a = Find(name);
  if (!a) return std::optional<int64_t>();
  if (a->type() != ::onnx::AttributeProto::INT) return WrongType(*this, name, "an int");
  return std::optional<int64_t>(a->i());
}

Result<std::optional<float>> NodeRef::Float(const std::string& name) const {
  const auto* a = Find(name);
  if (!a) return std::optional<float>();
  if (a->type() != ::onnx::AttributeProto::FLOAT) return WrongType(*this, name, "a float");
  return std::optional<float>(a->f());
}

Result<std::optional<std::string>> NodeRef::String(const std::string& name) const {
  const auto* a = Find(name);
  if (!a) return std::optional<std::string>();
  if (a->type() != ::onnx::AttributeProto::STRING) return WrongType(*this, name, "a string");
  return std::optional<std::string>(a->s());
}

Result<std::optional<std::vector<int64_t>>> NodeRef::Ints(const std::string& name) const {
  const auto* a = Find(name);
  if (!a) return std::optional<std::vector<int64_t>>();
  if (a->type() != ::onnx::AttributeProto::INTS) return WrongType(*this, name, "a list of ints");
  return std::optional<std::vector<int64_t>>(
      std::vector<int64_t>(a->ints().begin(), a->ints().end()));
}

Result<std::optional<std::vector<std::string>>> NodeRef::Strings(const std::string& name) const {
  const auto* a = Find(name);
  if (!a) return std::optional<std::vector<std::string>>();
  if (a->type() != ::onnx::AttributeProto::STRINGS) {
    return WrongType(*this, name, "a list of strings");
  }
  return std::optional<std::vector<std::string>>(
      std::vector<std::string>(a->strings().begin(), a->strings().end()));
}

namespace {

// Our cells compute exactly ONNX's default activations; any other list is refused.
std::vector<std::string> DefaultActivations(const std::string& op) {
  if (op == "LSTM") return {"Sigmoid", "Tanh", "Tanh"};
  if (op == "GRU") return {"Sigmoid", "Tanh"};
  return {"Tanh"};
}

int OpGates(const std::string& op) {
  if (op == "LSTM") return 4;
  if (op == "GRU") return 3;
  return 1;
}

Status CheckDims(const NodeRef& node, const char* input, const Tensor& t,
                 const std::vector<int64_t>& want) {
  if (!t.is_float) return node.Invalid("input " + std::string(input) + " must be float");
  if (t.dims != want) {
    Tensor w;
    w.dims = want;
    return node.Invalid("input " + std::string(input) + " has shape " + t.DimsText() +
                        ", expected " + w.DimsText());
  }
  return Status::OK();
}

}  // namespace

Result<RecurrentNodeMapping> MapRecurrentNode(const NodeRef& node, const Tensor& w, const Tensor& r,
                                              const Tensor* b) {
  const std::string& op = node.op();
  if (op != "LSTM" && op != "GRU" && op != "RNN") {
    return node.Invalid("not a recurrent op (LSTM, GRU or RNN)");
  }
  std::vector<std::string> known = {"activation_alpha", "activation_beta", "activations", "clip",
                                    "direction",        "hidden_size",     "layout"};
  if (op == "LSTM") known.push_back("input_forget");
  if (op == "GRU") known.push_back("linear_before_reset");
  NEMESYST_RETURN_IF_ERROR(node.OnlyAttributes(known));

  NEMESYST_ASSIGN_OR_RETURN(auto direction, node.String("direction"));
  if (direction && *direction != "forward") {
    return node.Unsupported("direction '" + *direction +
                            "' is not supported (our cells run forward only)");
  }
  NEMESYST_ASSIGN_OR_RETURN(auto activations, node.Strings("activations"));
  if (activations && *activations != DefaultActivations(op)) {
    std::string got;
    for (const auto& a : *activations) got += (got.empty() ? "" : ", ") + a;
    return node.Unsupported("activations [" + got + "] are not supported (only the defaults)");
  }
  if (node.Find("activation_alpha") || node.Find("activation_beta")) {
    return node.Unsupported("activation_alpha/beta are not supported (default activations only)");
  }
  if (node.Find("clip")) return node.Unsupported("clip (cell clipping) is not supported");
  NEMESYST_ASSIGN_OR_RETURN(auto input_forget, node.Int("input_forget"));
  if (input_forget && *input_forget != 0) {
    return node.Unsupported("input_forget = 1 (coupled gates) is not supported");
  }
  NEMESYST_ASSIGN_OR_RETURN(auto layout, node.Int("layout"));
  if (layout && *layout != 0 && *layout != 1) return node.Invalid("layout must be 0 or 1");
  if (op == "LSTM" && !node.Input(7).empty()) {
    return node.Unsupported("peepholes (input P) are not supported");
  }

  RecurrentNodeMapping m;
  m.batch_major = layout && *layout == 1;
  if (op == "LSTM") {
    m.cell = CellKind::kLstm;
  } else if (op == "RNN") {
    m.cell = CellKind::kRnnTanh;
  } else {
    NEMESYST_ASSIGN_OR_RETURN(auto lbr, node.Int("linear_before_reset"));
    if (lbr && *lbr != 0 && *lbr != 1) return node.Invalid("linear_before_reset must be 0 or 1");
    m.cell = lbr && *lbr == 1 ? CellKind::kGru : CellKind::kGruClassic;
  }
  const int64_t gates = OpGates(op);
  if (!w.is_float || w.dims.size() != 3 || w.dims[0] != 1 || w.dims[1] % gates != 0 ||
      w.dims[1] == 0 || w.dims[2] < 1) {
    return node.Invalid("input W has shape " + w.DimsText() + ", expected float [1, " +
                        std::to_string(gates) + "·hidden, input]");
  }
  const int64_t hidden = w.dims[1] / gates, input = w.dims[2];
  NEMESYST_ASSIGN_OR_RETURN(auto hidden_size, node.Int("hidden_size"));
  if (hidden_size && *hidden_size != hidden) {
    return node.Invalid("hidden_size " + std::to_string(*hidden_size) + " disagrees with W " +
                        w.DimsText());
  }
  if (hidden > (1 << 20) || input > (1 << 20)) return node.Invalid("hidden or input too large");
  NEMESYST_RETURN_IF_ERROR(CheckDims(node, "R", r, {1, gates * hidden, hidden}));
  if (b) NEMESYST_RETURN_IF_ERROR(CheckDims(node, "B", *b, {1, 2 * gates * hidden}));
  m.input = static_cast<int>(input);
  m.hidden = static_cast<int>(hidden);
  m.weights = FromOnnxRecurrent(m.cell, m.input, m.hidden, w.floats.data(), r.floats.data(),
                                b ? b->floats.data() : nullptr);
  return m;
}

Result<DenseNodeMapping> MapGemmNode(const NodeRef& node, const Tensor& b, const Tensor* c) {
  NEMESYST_RETURN_IF_ERROR(node.OnlyAttributes({"alpha", "beta", "transA", "transB"}));
  NEMESYST_ASSIGN_OR_RETURN(auto alpha, node.Float("alpha"));
  NEMESYST_ASSIGN_OR_RETURN(auto beta, node.Float("beta"));
  NEMESYST_ASSIGN_OR_RETURN(auto trans_a, node.Int("transA"));
  NEMESYST_ASSIGN_OR_RETURN(auto trans_b, node.Int("transB"));
  if (!b.is_float || b.dims.size() != 2 || b.dims[0] < 1 || b.dims[1] < 1) {
    return node.Invalid("input B has shape " + b.DimsText() + ", expected a float matrix");
  }
  const bool tb = trans_b && *trans_b != 0;
  DenseNodeMapping m;
  m.transpose_input = trans_a && *trans_a != 0;
  m.output = static_cast<int>(tb ? b.dims[0] : b.dims[1]);
  m.input = static_cast<int>(tb ? b.dims[1] : b.dims[0]);
  const float a = alpha.value_or(1.0f), be = beta.value_or(1.0f);
  const size_t in = static_cast<size_t>(m.input), out = static_cast<size_t>(m.output);
  m.w.resize(in * out);
  for (size_t o = 0; o < out; ++o) {
    for (size_t i = 0; i < in; ++i) {
      const float v = tb ? b.floats[o * in + i] : b.floats[i * out + o];
      m.w[o * in + i] = a == 1.0f ? v : a * v;
    }
  }
  m.b.assign(out, 0.0f);
  if (c) {
    if (!c->is_float) return node.Invalid("input C must be float");
    const bool row =
        c->dims.empty() || (c->dims.size() == 1 && (c->dims[0] == 1 || c->dims[0] == m.output)) ||
        (c->dims.size() == 2 && c->dims[0] == 1 && (c->dims[1] == 1 || c->dims[1] == m.output));
    if (!row) {
      return node.Unsupported("input C has shape " + c->DimsText() +
                              ": only a bias broadcast along rows (scalar, [N] or [1, N]) maps "
                              "to a dense layer");
    }
    for (size_t o = 0; o < out; ++o) {
      const float v = c->floats.size() == 1 ? c->floats[0] : c->floats[o];
      m.b[o] = be == 1.0f ? v : be * v;
    }
  }
  return m;
}

}  // namespace nemesyst::kernels::onnx
