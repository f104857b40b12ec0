// ExportOnnx (include/nemesyst/onnx.h): the file's documented shape (opset, IR version, input,
// output, metadata), determinism, the GAN refusal, and the end-to-end check against ONNX Runtime:
// every cell (lstm, rnn, gru, gru_classic) × stack depth × head × per-step × fixed/any steps,
// exported and run by onnxruntime-node (tests/kernels/onnx/ort_run.mjs), gives Model::Predict's
// outputs within 1e-4 relative (max norm).
//
// The ORT tests need node and onnxruntime-node (tools/peers-setup.sh installs it into
// <build>/peers/node); they skip, naming what is missing, without them. The directory is
// $NEMESYST_ORT_NODE_DIR, else the first peers/node above the test executable, else
// <source>/build/peers/node.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nemesyst/model.h"
#include "nemesyst/onnx.h"
#include "tests/testing/run_command.h"
#include "tests/testing/temp_dir.h"

namespace nemesyst {
namespace {

namespace fs = std::filesystem;

constexpr double kTolerance = 1e-4;

struct Config {
  std::string cell = "lstm";
  int features = 3;
  int steps = 6;  // 0: any
  std::vector<int> hidden = {8};
  std::vector<int> head_hidden;
  std::string head_activation = "relu";
  std::string output_activation = "linear";
  int width = 1;
  bool per_step = false;

  std::string Spec() const {
    nlohmann::json spec = {{"kind", "regressor"},
                           {"input", {{"features", features}, {"steps", steps}}},
                           {"recurrent", {{"cell", cell}, {"hidden", hidden}}},
                           {"head",
                            {{"hidden", head_hidden},
                             {"activation", head_activation},
                             {"output_activation", output_activation}}},
                           {"output", {{"width", width}, {"per_step", per_step}}}};
    return spec.dump();
  }
  std::string Name() const {
    std::string name = cell + " hidden";
    for (int h : hidden) name += " " + std::to_string(h);
    name += ", head [";
    for (size_t i = 0; i < head_hidden.size(); ++i) {
      name += (i ? " " : "") + std::to_string(head_hidden[i]);
    }
    name += "] " + head_activation + "/" + output_activation + ", width " + std::to_string(width) +
            (per_step ? ", per step" : "") + ", steps " + std::to_string(steps);
    return name;
  }
};

std::unique_ptr<Model> Create(const Config& config, uint64_t seed) {
  auto model = Model::Create(config.Spec(), seed);
  EXPECT_TRUE(model.ok()) << config.Spec() << ": " << model.status().ToString();
  return model.ok() ? std::move(*model) : nullptr;
}

::onnx::ModelProto Parse(const std::string& bytes) {
  ::onnx::ModelProto proto;
  EXPECT_TRUE(proto.ParseFromString(bytes));
  return proto;
}

std::map<std::string, std::string> Props(const ::onnx::ModelProto& proto) {
  std::map<std::string, std::string> props;
  for (const auto& p : proto.metadata_props()) props[p.key()] = p.value();
  return props;
}

// "batch" / 6 / ... per dimension of a graph input or output.
std::vector<std::string> Dims(const ::onnx::ValueInfoProto& value) {
  std::vector<std::string> dims;
  for (const auto& d : value.type().tensor_type().shape().dim()) {
    dims.push_back(d.has_dim_param() ? d.dim_param() : std::to_string(d.dim_value()));
  }
  return dims;
}

std::vector<std::string> OpTypes(const ::onnx::ModelProto& proto) {
  std::vector<std::string> ops;
  for (const auto& node : proto.graph().node()) ops.push_back(node.op_type());
  return ops;
}

TEST(OnnxExportTest, RefusesGan) {
  auto gan = Model::Create(R"({"kind": "gan", "window": {"steps": 4, "features": 2},
      "noise": 3, "generator": {"type": "lstm", "hidden": [5]},
      "discriminator": {"type": "lstm", "hidden": [6]}})",
                           9);
  ASSERT_TRUE(gan.ok()) << gan.status().ToString();
  auto onnx = ExportOnnx(**gan);
  ASSERT_FALSE(onnx.ok());
  EXPECT_EQ(onnx.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(onnx.status().message().find("gan"), std::string::npos) << onnx.status().ToString();
}

TEST(OnnxExportTest, WritesTheDocumentedModel) {
  Config config;
  config.hidden = {8, 5};
  config.head_hidden = {4};
  config.head_activation = "leaky_relu";
  config.width = 2;
  auto model = Create(config, 3);
  ASSERT_NE(model, nullptr);
  const ModelFileMetadata metadata = {{"pipeline", R"({"p":1})"},
                                      {"input_fields", R"(["a","b","c"])"},
                                      {"stream", "sensors"},
                                      {"other", "not exported"}};
  auto onnx = ExportOnnx(*model, metadata, "demand@3");
  ASSERT_TRUE(onnx.ok()) << onnx.status().ToString();
  const ::onnx::ModelProto proto = Parse(*onnx);
  EXPECT_EQ(proto.ir_version(), 7);
  ASSERT_EQ(proto.opset_import_size(), 1);
  EXPECT_EQ(proto.opset_import(0).domain(), "");
  EXPECT_EQ(proto.opset_import(0).version(), kOnnxExportOpset);
  EXPECT_EQ(proto.producer_name(), "nemesyst");
  EXPECT_FALSE(proto.producer_version().empty());
  EXPECT_NE(proto.doc_string().find("Nemesyst"), std::string::npos) << proto.doc_string();
  EXPECT_NE(proto.doc_string().find("lstm"), std::string::npos) << proto.doc_string();

  const ::onnx::GraphProto& graph = proto.graph();
  ASSERT_EQ(graph.input_size(), 1);
  EXPECT_EQ(graph.input(0).name(), "x");
  EXPECT_EQ(graph.input(0).type().tensor_type().elem_type(), ::onnx::TensorProto::FLOAT);
  EXPECT_EQ(Dims(graph.input(0)), (std::vector<std::string>{"batch", "6", "3"}));
  ASSERT_EQ(graph.output_size(), 1);
  EXPECT_EQ(graph.output(0).name(), "y");
  EXPECT_EQ(graph.output(0).type().tensor_type().elem_type(), ::onnx::TensorProto::FLOAT);
  EXPECT_EQ(Dims(graph.output(0)), (std::vector<std::string>{"batch", "2"}));
  EXPECT_EQ(OpTypes(proto), (std::vector<std::string>{"Transpose", "LSTM", "Squeeze", "LSTM",
                                                      "Squeeze", "Gemm", "LeakyRelu", "Gemm"}));
  for (const auto& node : graph.node()) {
    EXPECT_FALSE(node.name().empty()) << node.op_type();
    if (node.op_type() == "LeakyRelu") {
      ASSERT_EQ(node.attribute_size(), 1);
      EXPECT_FLOAT_EQ(node.attribute(0).f(), 0.01f);
    }
  }

  const auto props = Props(proto);
  EXPECT_EQ(props.size(), 5u);
  EXPECT_EQ(props.at(kOnnxPipelineKey), R"({"p":1})");
  EXPECT_EQ(props.at(kOnnxInputFieldsKey), R"(["a","b","c"])");
  EXPECT_EQ(props.at(kOnnxStreamKey), "sensors");
  EXPECT_EQ(props.at(kOnnxSpecKey), model->spec_json());
  EXPECT_EQ(props.at(kOnnxSourceKey), "demand@3");

  // Without metadata or source: only the spec.
  auto bare = ExportOnnx(*model);
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  const auto bare_props = Props(Parse(*bare));
  ASSERT_EQ(bare_props.size(), 1u);
  EXPECT_EQ(bare_props.begin()->first, kOnnxSpecKey);
}

TEST(OnnxExportTest, AnyLengthAndPerStepShapes) {
  Config any;
  any.cell = "gru";
  any.steps = 0;
  auto model = Create(any, 4);
  ASSERT_NE(model, nullptr);
  auto onnx = ExportOnnx(*model);
  ASSERT_TRUE(onnx.ok()) << onnx.status().ToString();
  ::onnx::ModelProto proto = Parse(*onnx);
  EXPECT_EQ(Dims(proto.graph().input(0)), (std::vector<std::string>{"batch", "steps", "3"}));
  EXPECT_EQ(OpTypes(proto), (std::vector<std::string>{"Transpose", "GRU", "Squeeze", "Gemm"}));
  bool seen = false;
  for (const auto& a : proto.graph().node(1).attribute()) {
    if (a.name() == "linear_before_reset") {
      EXPECT_EQ(a.i(), 1);
      seen = true;
    }
  }
  EXPECT_TRUE(seen);

  Config per_step;
  per_step.cell = "gru_classic";
  per_step.per_step = true;
  per_step.width = 2;
  per_step.output_activation = "sigmoid";
  model = Create(per_step, 5);
  ASSERT_NE(model, nullptr);
  onnx = ExportOnnx(*model);
  ASSERT_TRUE(onnx.ok()) << onnx.status().ToString();
  proto = Parse(*onnx);
  EXPECT_EQ(Dims(proto.graph().output(0)), (std::vector<std::string>{"batch", "12"}));
  EXPECT_EQ(OpTypes(proto), (std::vector<std::string>{"Transpose", "GRU", "Squeeze", "Transpose",
                                                      "MatMul", "Add", "Sigmoid", "Reshape"}));
  for (const auto& a : proto.graph().node(1).attribute()) {
    if (a.name() == "linear_before_reset") {
      EXPECT_EQ(a.i(), 0);
    }
  }
}

TEST(OnnxExportTest, SameModelSameBytes) {
  Config config;
  config.cell = "rnn";
  config.hidden = {6, 4};
  config.head_hidden = {3};
  auto model = Create(config, 11);
  ASSERT_NE(model, nullptr);
  const ModelFileMetadata metadata = {{"pipeline", "{}"}, {"stream", "s"}};
  auto a = ExportOnnx(*model, metadata, "m@1");
  auto b = ExportOnnx(*model, metadata, "m@1");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  // A model rebuilt from its file exports the same bytes too.
  auto file = model->Serialize();
  ASSERT_TRUE(file.ok());
  auto again = Model::Deserialize(*file);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto c = ExportOnnx(**again, metadata, "m@1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*a, *c);
}

// ---- ONNX Runtime
// --------------------------------------------------------------------------------

std::string Which(const std::string& program) {
  auto r = testing::RunCommand({"/bin/sh", "-c", "command -v " + program});
  if (r.exit_code != 0) return "";
  std::string path = r.out;
  while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) path.pop_back();
  return path;
}

bool HasOrt(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / "node_modules" / "onnxruntime-node" / "package.json", ec);
}

std::string OrtNodeDir() {
  if (const char* env = std::getenv("NEMESYST_ORT_NODE_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path();
         dir = dir.parent_path()) {
      if (HasOrt(dir / "peers" / "node")) return (dir / "peers" / "node").string();
    }
  }
  return (fs::path(NEMESYST_SOURCE_DIR) / "build" / "peers" / "node").string();
}

std::string FloatBytes(const std::vector<float>& values) {
  std::string bytes(values.size() * sizeof(float), '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

class OnnxRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = Which("node");
    if (node_.empty()) GTEST_SKIP() << "node is not installed (tools/peers-setup.sh needs it)";
    timeout_ = Which("timeout");
    if (timeout_.empty()) GTEST_SKIP() << "coreutils' timeout is not on PATH";
    ort_dir_ = OrtNodeDir();
    if (!HasOrt(ort_dir_)) {
      GTEST_SKIP() << "onnxruntime-node is not installed in " << ort_dir_
                   << " (run tools/peers-setup.sh [build-dir], or set NEMESYST_ORT_NODE_DIR)";
    }
  }

  // Exports `model`, runs it with onnxruntime-node on `x` [batch][steps][features] and compares
  // with Model::Predict. Returns the max-norm relative error.
  double Compare(Model& model, int batch, int steps, const std::vector<float>& x) {
    Batch input;
    input.Resize(batch, steps, model.features(), 0);
    input.x = x;
    std::vector<float> ours;
    Status predicted = model.Predict(input, &ours);
    EXPECT_TRUE(predicted.ok()) << predicted.ToString();
    auto onnx = ExportOnnx(model);
    EXPECT_TRUE(onnx.ok()) << onnx.status().ToString();
    if (!predicted.ok() || !onnx.ok()) return INFINITY;

    testing::TempDir dir;
    testing::WriteFile(dir.Sub("model.onnx"), *onnx);
    testing::WriteFile(dir.Sub("x.bin"), FloatBytes(x));
    auto run = testing::RunCommand(
        {timeout_, "60", node_,
         std::string(NEMESYST_SOURCE_DIR) + "/tests/kernels/onnx/ort_run.mjs", ort_dir_,
         dir.Sub("model.onnx"), dir.Sub("x.bin"), std::to_string(batch), std::to_string(steps),
         std::to_string(model.features()), dir.Sub("y.bin")});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    if (run.exit_code != 0) return INFINITY;
    const auto dims = nlohmann::json::parse(run.out, nullptr, false);
    EXPECT_EQ(dims, (nlohmann::json{{"dims", {batch, model.label_width()}}})) << run.out;
    const std::string y = testing::ReadFile(dir.Sub("y.bin"));
    EXPECT_EQ(y.size(), ours.size() * sizeof(float));
    if (y.size() != ours.size() * sizeof(float)) return INFINITY;
    std::vector<float> theirs(ours.size());
    std::memcpy(theirs.data(), y.data(), y.size());
    double diff = 0, scale = 0;
    for (size_t i = 0; i < ours.size(); ++i) {
      if (!std::isfinite(theirs[i])) return INFINITY;
      diff = std::max(diff, std::abs(double{theirs[i]} - ours[i]));
      scale = std::max(scale, std::abs(double{ours[i]}));
    }
    return diff / std::max(scale, 1e-6);
  }

  // Every configuration of the issue for one cell; prints the largest error.
  void CheckCell(const std::string& cell) {
    std::vector<Config> configs;
    for (int steps : {6, 0}) {
      for (std::vector<int> hidden : {std::vector<int>{7}, std::vector<int>{8, 5}}) {
        for (bool head : {false, true}) {
          Config c;
          c.cell = cell;
          c.steps = steps;
          c.hidden = hidden;
          if (head) {
            c.head_hidden = {6};
            c.head_activation = hidden.size() == 1 ? "tanh" : "leaky_relu";
            c.width = 2;
          }
          configs.push_back(c);
        }
      }
    }
    for (const char* activation : {"relu", "sigmoid"}) {  // per-step (needs fixed steps)
      Config c;
      c.cell = cell;
      c.hidden = {6, 4};
      c.head_hidden = {5};
      c.head_activation = activation;
      c.output_activation = activation == std::string("relu") ? "linear" : "sigmoid";
      c.width = 2;
      c.per_step = true;
      configs.push_back(c);
    }

    double worst = 0;
    uint64_t seed = 100;
    for (const Config& config : configs) {
      SCOPED_TRACE(config.Name());
      auto model = Create(config, ++seed);
      ASSERT_NE(model, nullptr);
      std::mt19937 rng(static_cast<uint32_t>(seed));
      std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
      const int batch = 5;
      // Any-length models run on two window lengths through the same file.
      for (int steps : config.steps > 0 ? std::vector<int>{config.steps} : std::vector<int>{9, 2}) {
        std::vector<float> x(static_cast<size_t>(batch) * steps * config.features);
        for (float& v : x) v = uniform(rng);
        const double error = Compare(*model, batch, steps, x);
        EXPECT_LE(error, kTolerance) << "window of " << steps << " steps";
        worst = std::max(worst, error);
      }
    }
    std::cout << "[ ORT      ] " << cell << ": " << configs.size() << " models, max relative error "
              << worst << "\n";
    RecordProperty("max_relative_error", std::to_string(worst));
  }

  std::string node_, timeout_, ort_dir_;
};

TEST_F(OnnxRuntimeTest, Lstm) { CheckCell("lstm"); }
TEST_F(OnnxRuntimeTest, Rnn) { CheckCell("rnn"); }
TEST_F(OnnxRuntimeTest, Gru) { CheckCell("gru"); }
TEST_F(OnnxRuntimeTest, GruClassic) { CheckCell("gru_classic"); }

}  // namespace
}  // namespace nemesyst
