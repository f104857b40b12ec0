#include "kernels/model_spec.h"

#include <nlohmann/json.hpp>
#include <set>

namespace nemesyst::kernels {
namespace {

using nlohmann::json;

constexpr int kMaxWidth = 1 << 16;  // layer widths, features, noise
constexpr int kMaxSteps = 1 << 20;  // window length
constexpr size_t kMaxLayers = 64;

// Reads the members of one JSON object, tracking which keys were consumed so unknown ones are
// refused, and naming the full key path in every error.
class ObjectReader {
 public:
  ObjectReader(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  Status CheckObject() const {
    if (!object_.is_object()) return Error(path_, "must be an object");
    return Status::OK();
  }

  bool Has(const std::string& key) {
    seen_.insert(key);
    return object_.contains(key);
  }
  const json& Get(const std::string& key) const { return object_.at(key); }
  std::string PathOf(const std::string& key) const { return path_ + "." + key; }

  Status Int(const std::string& key, int min, int max, bool required, int* out) {
    if (!Has(key)) {
      return required ? Error(PathOf(key), "is required") : Status::OK();
    }
    const json& v = Get(key);
    if (!v.is_number_integer()) return Error(PathOf(key), "must be an integer");
    const int64_t value = v.get<int64_t>();
    if (value < min || value > max) {
      return Error(PathOf(key), "must be in [" + std::to_string(min) + ", " + std::to_string(max) +
                                    "] (got " + std::to_string(value) + ")");
    }
    *out = static_cast<int>(value);
    return Status::OK();
  }

  Status Double(const std::string& key, double min, double max_exclusive, double* out) {
    if (!Has(key)) return Status::OK();
    const json& v = Get(key);
    if (!v.is_number()) return Error(PathOf(key), "must be a number");
    const double value = v.get<double>();
    if (!(value >= min && value < max_exclusive)) {
      return Error(PathOf(key), "must be in [" + std::to_string(min) + ", " +
                                    std::to_string(max_exclusive) + ")");
    }
    *out = value;
    return Status::OK();
  }

  Status Bool(const std::string& key, bool* out) {
    if (!Has(key)) return Status::OK();
    if (!Get(key).is_boolean()) return Error(PathOf(key), "must be true or false");
    *out = Get(key).get<bool>();
    return Status::OK();
  }

  Status String(const std::string& key, bool required, std::string* out) {
    if (!Has(key)) return required ? Error(PathOf(key), "is required") : Status::OK();
    if (!Get(key).is_string()) return Error(PathOf(key), "must be a string");
    *out = Get(key).get<std::string>();
    return Status::OK();
  }

  // A list of layer widths, each in [1, kMaxWidth].
  Status Widths(const std::string& key, bool required, bool allow_empty, std::vector<int>* out) {
    if (!Has(key)) return required ? Error(PathOf(key), "is required") : Status::OK();
    const json& v = Get(key);
    if (!v.is_array()) return Error(PathOf(key), "must be an array of layer widths");
    if (v.empty() && !allow_empty) return Error(PathOf(key), "needs at least one layer");
    if (v.size() > kMaxLayers) return Error(PathOf(key), "has too many layers (max 64)");
    out->clear();
    for (size_t k = 0; k < v.size(); ++k) {
      const std::string item = PathOf(key) + "[" + std::to_string(k) + "]";
      if (!v[k].is_number_integer()) return Error(item, "must be an integer");
      const int64_t w = v[k].get<int64_t>();
      if (w < 1 || w > kMaxWidth) {
        return Error(item, "must be in [1, " + std::to_string(kMaxWidth) + "] (got " +
                               std::to_string(w) + ")");
      }
      out->push_back(static_cast<int>(w));
    }
    return Status::OK();
  }

  template <typename T, typename Parser>
  Status Enum(const std::string& key, Parser parse, T* out) {
    std::string name;
    NEMESYST_RETURN_IF_ERROR(String(key, false, &name));
    if (name.empty() && !object_.contains(key)) return Status::OK();
    auto parsed = parse(name);
    if (!parsed.ok()) return Error(PathOf(key), parsed.status().message());
    *out = *parsed;
    return Status::OK();
  }

  Status Object(const std::string& key, bool required, const json** out) {
    if (!Has(key)) return required ? Error(PathOf(key), "is required") : Status::OK();
    if (!Get(key).is_object()) return Error(PathOf(key), "must be an object");
    *out = &Get(key);
    return Status::OK();
  }

  Status RefuseUnknown() const {
    for (const auto& [key, value] : object_.items()) {
      if (!seen_.count(key)) return Error(PathOf(key), "unknown key");
    }
    return Status::OK();
  }

  static Status Error(const std::string& path, std::string_view reason) {
    return Status::InvalidArgument("model spec: " + path + ": " + std::string(reason));
  }

 private:
  const json& object_;
  std::string path_;
  std::set<std::string> seen_;
};

Result<CellKind> ParseCell(std::string_view name) {
  if (name == "lstm") return CellKind::kLstm;
  if (name == "rnn") return CellKind::kRnnTanh;
  if (name == "gru") return CellKind::kGru;
  if (name == "gru_classic") return CellKind::kGruClassic;
  return Status::InvalidArgument("unknown cell '" + std::string(name) +
                                 "' (expected lstm, rnn, gru or gru_classic)");
}

Result<BlockType> ParseBlockType(std::string_view name) {
  for (BlockType t : {BlockType::kLstm, BlockType::kRnn, BlockType::kDense}) {
    if (name == BlockTypeName(t)) return t;
  }
  return Status::InvalidArgument("unknown type '" + std::string(name) +
                                 "' (expected lstm, rnn or dense)");
}

Status ParseRegressor(ObjectReader& root, RegressorSpec* spec) {
  const json* input = nullptr;
  NEMESYST_RETURN_IF_ERROR(root.Object("input", true, &input));
  ObjectReader in(*input, root.PathOf("input"));
  NEMESYST_RETURN_IF_ERROR(in.Int("features", 1, kMaxWidth, true, &spec->features));
  NEMESYST_RETURN_IF_ERROR(in.Int("steps", 0, kMaxSteps, false, &spec->steps));
  NEMESYST_RETURN_IF_ERROR(in.RefuseUnknown());

  const json* recurrent = nullptr;
  NEMESYST_RETURN_IF_ERROR(root.Object("recurrent", true, &recurrent));
  ObjectReader rec(*recurrent, root.PathOf("recurrent"));
  NEMESYST_RETURN_IF_ERROR(rec.Enum("cell", ParseCell, &spec->cell));
  NEMESYST_RETURN_IF_ERROR(rec.Widths("hidden", true, false, &spec->hidden));
  NEMESYST_RETURN_IF_ERROR(rec.Double("dropout", 0.0, 1.0, &spec->dropout));
  NEMESYST_RETURN_IF_ERROR(rec.RefuseUnknown());

  const json* head = nullptr;
  NEMESYST_RETURN_IF_ERROR(root.Object("head", false, &head));
  if (head) {
    ObjectReader h(*head, root.PathOf("head"));
    NEMESYST_RETURN_IF_ERROR(h.Widths("hidden", false, true, &spec->head_hidden));
    NEMESYST_RETURN_IF_ERROR(h.Enum("activation", ParseActivation, &spec->head_activation));
    NEMESYST_RETURN_IF_ERROR(
        h.Enum("output_activation", ParseActivation, &spec->output_activation));
    NEMESYST_RETURN_IF_ERROR(h.RefuseUnknown());
  }

  const json* output = nullptr;
  NEMESYST_RETURN_IF_ERROR(root.Object("output", false, &output));
  if (output) {
    ObjectReader o(*output, root.PathOf("output"));
    NEMESYST_RETURN_IF_ERROR(o.Int("width", 1, kMaxWidth, false, &spec->output_width));
    NEMESYST_RETURN_IF_ERROR(o.Bool("per_step", &spec->per_step));
    NEMESYST_RETURN_IF_ERROR(o.RefuseUnknown());
  }
  if (spec->per_step && spec->steps == 0) {
    return ObjectReader::Error(root.PathOf("output.per_step"),
                               "needs a fixed input.steps (the label width is steps × width)");
  }
  NEMESYST_RETURN_IF_ERROR(root.Enum("loss", ParseLoss, &spec->loss));
  // The pinball loss's quantile: required with it (no default risk is safe for every use), refused
  // without it (a quantile on an MSE model would be silently meaningless).
  const bool pinball = spec->loss == Loss::kPinball;
  if (!root.Has("quantile")) {
    if (pinball) return ObjectReader::Error(root.PathOf("quantile"), "required with loss pinball");
    return Status::OK();
  }
  if (!pinball) {
    return ObjectReader::Error(root.PathOf("quantile"), "only applies to loss \"pinball\"");
  }
  const json& q = root.Get("quantile");
  if (!q.is_number() || !(q.get<double>() > 0.0 && q.get<double>() < 1.0)) {
    return ObjectReader::Error(root.PathOf("quantile"),
                               "must be a number in (0, 1) (e.g. 0.05: the 5 % lower quantile)");
  }
  spec->quantile = q.get<double>();
  return Status::OK();
}

Status ParseGanBlock(ObjectReader& root, const std::string& key, bool generator,
                     GanBlockSpec* block) {
  const json* object = nullptr;
  NEMESYST_RETURN_IF_ERROR(root.Object(key, true, &object));
  ObjectReader r(*object, root.PathOf(key));
  NEMESYST_RETURN_IF_ERROR(r.Enum("type", ParseBlockType, &block->type));
  NEMESYST_RETURN_IF_ERROR(
      r.Widths("hidden", block->type != BlockType::kDense, true, &block->hidden));
  if (block->type != BlockType::kDense && block->hidden.empty()) {
    return ObjectReader::Error(r.PathOf("hidden"), "needs at least one recurrent layer");
  }
  NEMESYST_RETURN_IF_ERROR(r.Widths("head", false, true, &block->head));
  if (block->type == BlockType::kDense && !block->head.empty()) {
    return ObjectReader::Error(r.PathOf("head"), "only for lstm/rnn types (use hidden)");
  }
  NEMESYST_RETURN_IF_ERROR(r.Enum("activation", ParseActivation, &block->activation));
  if (generator) {
    NEMESYST_RETURN_IF_ERROR(
        r.Enum("output_activation", ParseActivation, &block->output_activation));
  } else {
    NEMESYST_RETURN_IF_ERROR(r.Double("dropout", 0.0, 1.0, &block->dropout));
    if (block->type == BlockType::kDense && block->dropout > 0.0) {
      return ObjectReader::Error(r.PathOf("dropout"), "only for lstm/rnn types");
    }
  }
  return r.RefuseUnknown();
}

Status ParseGan(ObjectReader& root, GanSpec* spec) {
  const json* window = nullptr;
  NEMESYST_RETURN_IF_ERROR(root.Object("window", true, &window));
  ObjectReader w(*window, root.PathOf("window"));
  NEMESYST_RETURN_IF_ERROR(w.Int("steps", 1, kMaxSteps, true, &spec->steps));
  NEMESYST_RETURN_IF_ERROR(w.Int("features", 1, kMaxWidth, true, &spec->features));
  NEMESYST_RETURN_IF_ERROR(w.RefuseUnknown());
  NEMESYST_RETURN_IF_ERROR(root.Int("noise", 1, kMaxWidth, false, &spec->noise));
  NEMESYST_RETURN_IF_ERROR(root.Int("condition", 0, kMaxWidth, false, &spec->condition));
  spec->discriminator.activation = Activation::kLeakyRelu;
  NEMESYST_RETURN_IF_ERROR(ParseGanBlock(root, "generator", true, &spec->generator));
  return ParseGanBlock(root, "discriminator", false, &spec->discriminator);
}

json Widths(const std::vector<int>& w) { return json(w); }

}  // namespace

std::string_view ModelKindName(ModelKind kind) {
  return kind == ModelKind::kGan ? "gan" : "regressor";
}

std::string_view BlockTypeName(BlockType type) {
  switch (type) {
    case BlockType::kLstm:
      return "lstm";
    case BlockType::kRnn:
      return "rnn";
    case BlockType::kDense:
      return "dense";
  }
  return "lstm";
}

Result<ModelSpec> ParseModelSpec(std::string_view text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("model spec: not valid JSON: ") + e.what());
  }
  ObjectReader root(doc, "spec");
  NEMESYST_RETURN_IF_ERROR(root.CheckObject());
  ModelSpec spec;
  std::string kind;
  NEMESYST_RETURN_IF_ERROR(root.String("kind", true, &kind));
  if (kind == "regressor") {
    spec.kind = ModelKind::kRegressor;
    NEMESYST_RETURN_IF_ERROR(ParseRegressor(root, &spec.regressor));
  } else if (kind == "gan") {
    spec.kind = ModelKind::kGan;
    NEMESYST_RETURN_IF_ERROR(ParseGan(root, &spec.gan));
  } else {
    return ObjectReader::Error("spec.kind",
                               "must be \"regressor\" or \"gan\" (got \"" + kind + "\")");
  }
  NEMESYST_RETURN_IF_ERROR(root.RefuseUnknown());
  return spec;
}

namespace {

uint64_t RecurrentCount(CellKind cell, uint64_t input, const std::vector<int>& hidden) {
  uint64_t n = 0;
  for (int h : hidden) {
    const uint64_t gh = static_cast<uint64_t>(GateCount(cell)) * h;
    n += gh * (input + h) + static_cast<uint64_t>(BiasRows(cell)) * h;
    input = h;
  }
  return n;
}

uint64_t DenseCount(uint64_t input, const std::vector<int>& hidden, uint64_t output) {
  uint64_t n = 0;
  for (int h : hidden) {
    n += (input + 1) * h;
    input = h;
  }
  return n + (input + 1) * output;
}

uint64_t GanBlockCount(const GanBlockSpec& b, uint64_t input, uint64_t dense_input, uint64_t output,
                       uint64_t dense_output) {
  if (b.type == BlockType::kDense) return DenseCount(dense_input, b.hidden, dense_output);
  return RecurrentCount(CellOf(b.type), input, b.hidden) +
         DenseCount(b.hidden.back(), b.head, output);
}

}  // namespace

uint64_t ParameterCount(const ModelSpec& spec) {
  if (spec.kind == ModelKind::kRegressor) {
    const RegressorSpec& r = spec.regressor;
    return RecurrentCount(r.cell, r.features, r.hidden) +
           DenseCount(r.hidden.back(), r.head_hidden, r.output_width);
  }
  const GanSpec& g = spec.gan;
  const uint64_t window = static_cast<uint64_t>(g.steps) * g.features;
  return GanBlockCount(g.generator, g.noise + g.condition, g.noise + g.condition, g.features,
                       window) +
         GanBlockCount(g.discriminator, g.features + g.condition, window + g.condition, 1, 1);
}

std::string ModelSpec::ToJson() const {
  json doc;
  doc["kind"] = std::string(ModelKindName(kind));
  if (kind == ModelKind::kRegressor) {
    const RegressorSpec& r = regressor;
    doc["input"] = {{"features", r.features}, {"steps", r.steps}};
    doc["recurrent"] = {
        {"cell", CellName(r.cell)}, {"hidden", Widths(r.hidden)}, {"dropout", r.dropout}};
    doc["head"] = {{"hidden", Widths(r.head_hidden)},
                   {"activation", std::string(ActivationName(r.head_activation))},
                   {"output_activation", std::string(ActivationName(r.output_activation))}};
    doc["output"] = {{"width", r.output_width}, {"per_step", r.per_step}};
    doc["loss"] = std::string(LossName(r.loss));
    if (r.loss == Loss::kPinball) doc["quantile"] = r.quantile;  // absent otherwise: old bytes
  } else {
    const GanSpec& g = gan;
    doc["window"] = {{"steps", g.steps}, {"features", g.features}};
    doc["noise"] = g.noise;
    doc["condition"] = g.condition;
    auto block = [](const GanBlockSpec& b, bool generator) {
      json j = {{"type", std::string(BlockTypeName(b.type))},
                {"hidden", Widths(b.hidden)},
                {"head", Widths(b.head)},
                {"activation", std::string(ActivationName(b.activation))}};
      if (generator) {
        j["output_activation"] = std::string(ActivationName(b.output_activation));
      } else {
        j["dropout"] = b.dropout;
      }
      return j;
    };
    doc["generator"] = block(g.generator, true);
    doc["discriminator"] = block(g.discriminator, false);
  }
  return doc.dump();
}

}  // namespace nemesyst::kernels
