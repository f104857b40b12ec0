// The ONNX project's own golden node tests (Debian package libonnx-testdata, installed by
// tools/setup.sh) for the ops we import: every LSTM, GRU, RNN and Gemm case under
// /usr/share/libonnx-testdata/data/node, mapped with MapRecurrentNode / MapGemmNode (the same
// mapping the model import uses) and run on every backend (ref, avx2, avx512, onednn).
//
// Each case directory holds model.onnx (one node whose inputs are all graph inputs) and
// test_data_set_0/input_<k>.pb, output_<k>.pb (onnx::TensorProto, in the order of the graph's
// inputs and outputs). The harness only moves data between ONNX's layouts and ours (X and Y
// batch-major for layout = 1, Aᵀ fed as the input rows for Gemm's transA); every number of the
// result comes from the mapped weights and the backend's kernel.
//
// Metric (see RelativeError): max-norm relative error, max|got - want| / max|want|, per output
// tensor; bound 1e-5 for every backend (the bound of the backend-vs-ref tests: all backends
// compute in fp32, and these cases are a few steps of a handful of units).
//
// Expected refusals are listed with the reason the mapping must give; any other refusal, or a
// mapping of a case that must be refused, fails. A backend that answers Unimplemented for a
// cell (not on this CPU, not in this build, or not written yet) is skipped with its message.
//
// The directory is $NEMESYST_ONNX_TESTDATA_DIR when set, else the Debian one; without it the
// case-set test skips naming the package and no golden case is generated.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "kernels/dense_kernel.h"
#include "kernels/onnx/onnx_nodes.h"
#include "kernels/onnx/onnx_tensor.h"
#include "kernels/recurrent_kernel.h"
#include "nemesyst/kernels.h"
#include "nemesyst/status.h"
#include "tests/kernels/backends/backend_test_util.h"

namespace nemesyst::kernels::onnx {
namespace {

namespace fs = std::filesystem;
using ::nemesyst::kernels::testing::CreateDense;
using ::nemesyst::kernels::testing::CreateRecurrent;
using ::nemesyst::kernels::testing::RelativeError;

constexpr double kTolerance = 1e-5;
// No model or tensor file of these cases comes near this; a larger file is an error, not a read.
constexpr uintmax_t kMaxFileBytes = uintmax_t{16} << 20;
constexpr char kDebianDir[] = "/usr/share/libonnx-testdata/data/node";
constexpr char kPackage[] = "libonnx-testdata";

// The case-name prefixes of the ops we map, and how many cases each must have at least.
struct Family {
  const char* prefix;
  const char* what;
  int at_least;
};
constexpr Family kFamilies[] = {{"test_lstm_", "LSTM", 4},
                                {"test_gru_", "GRU", 4},
                                {"test_rnn_", "RNN", 0},  // counted with simple_rnn below
                                {"test_simple_rnn_", "RNN", 0},
                                {"test_gemm_", "Gemm", 11}};
constexpr int kRnnAtLeast = 4;

// Cases the mapping must refuse, with a substring of the reason it must give.
const std::map<std::string, std::string>& ExpectedRefusals() {
  static const auto* refusals = new std::map<std::string, std::string>{
      {"test_lstm_with_peepholes", "peepholes"},
      {"test_gemm_default_matrix_bias", "broadcast along rows"},
  };
  return *refusals;
}

fs::path NodeDir() {
  const char* env = std::getenv("NEMESYST_ONNX_TESTDATA_DIR");
  return env && *env ? fs::path(env) : fs::path(kDebianDir);
}

const char* FamilyOf(const std::string& name) {
  for (const Family& f : kFamilies) {
    if (name.rfind(f.prefix, 0) == 0) return f.what;
  }
  return nullptr;
}

// The case directories present, sorted by name (empty when the directory is absent).
std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  std::error_code ec;
  if (!fs::is_directory(NodeDir(), ec)) return names;
  for (const auto& entry : fs::directory_iterator(NodeDir(), ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory(ec) && FamilyOf(name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::string> ReadBounded(const fs::path& path) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) return Status::IOError(path.string() + ": " + ec.message());
  if (size > kMaxFileBytes) {
    return Status::ResourceExhausted(path.string() + ": " + std::to_string(size) +
                                     " bytes, more than the " + std::to_string(kMaxFileBytes) +
                                     " this test reads");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path.string() + ": cannot open");
  std::string bytes(static_cast<size_t>(size), '\0');
  if (size > 0 && !in.read(bytes.data(), static_cast<std::streamsize>(size))) {
    return Status::IOError(path.string() + ": short read");
  }
  return bytes;
}

Result<::onnx::ModelProto> ReadModel(const fs::path& path) {
  NEMESYST_ASSIGN_OR_RETURN(const std::string bytes, ReadBounded(path));
  ::onnx::ModelProto model;
  if (!model.ParseFromString(bytes)) {
    return Status::Corruption(path.string() + ": not an onnx::ModelProto");
  }
  return model;
}

Result<Tensor> ReadTensorFile(const fs::path& path) {
  NEMESYST_ASSIGN_OR_RETURN(const std::string bytes, ReadBounded(path));
  ::onnx::TensorProto proto;
  if (!proto.ParseFromString(bytes)) {
    return Status::Corruption(path.string() + ": not an onnx::TensorProto");
  }
  return ReadTensor(proto, path.string());
}

// One golden case: the node, its inputs by name and its expected outputs by name.
struct GoldenCase {
  fs::path dir;
  ::onnx::ModelProto model;
  std::map<std::string, Tensor> inputs;
  std::map<std::string, Tensor> outputs;

  const ::onnx::NodeProto& node() const { return model.graph().node(0); }
};

Result<GoldenCase> LoadCase(const fs::path& dir) {
  GoldenCase c;
  c.dir = dir;
  NEMESYST_ASSIGN_OR_RETURN(c.model, ReadModel(dir / "model.onnx"));
  const ::onnx::GraphProto& graph = c.model.graph();
  if (graph.node_size() != 1) {
    return Status::InvalidArgument((dir / "model.onnx").string() + ": " +
                                   std::to_string(graph.node_size()) + " nodes, expected one");
  }
  const fs::path data = dir / "test_data_set_0";
  for (int k = 0; k < graph.input_size(); ++k) {
    const fs::path path = data / ("input_" + std::to_string(k) + ".pb");
    NEMESYST_ASSIGN_OR_RETURN(c.inputs[graph.input(k).name()], ReadTensorFile(path));
  }
  for (const auto& init : graph.initializer()) {  // none in these cases, but allowed
    NEMESYST_ASSIGN_OR_RETURN(c.inputs[init.name()],
                              ReadTensor(init, "initializer '" + init.name() + "'"));
  }
  for (int k = 0; k < graph.output_size(); ++k) {
    const fs::path path = data / ("output_" + std::to_string(k) + ".pb");
    NEMESYST_ASSIGN_OR_RETURN(c.outputs[graph.output(k).name()], ReadTensorFile(path));
  }
  return c;
}

struct Param {
  Backend backend;
  std::string name;  // the case directory's name
};

void PrintTo(const Param& param, std::ostream* os) {
  *os << BackendName(param.backend) << " " << param.name;
}

std::string ParamName(const ::testing::TestParamInfo<Param>& info) {
  return std::string(BackendName(info.param.backend)) + "_" + info.param.name;
}

std::vector<Param> Params() {
  std::vector<Param> params;
  for (const std::string& name : CaseNames()) {
    for (Backend backend : {Backend::kRef, Backend::kAvx2, Backend::kAvx512, Backend::kOnednn}) {
      params.push_back({backend, name});
    }
  }
  return params;
}

std::string Dims(const std::vector<int64_t>& dims) {
  Tensor t;
  t.dims = dims;
  return t.DimsText();
}

class OnnxGoldenNodeTest : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    auto loaded = LoadCase(NodeDir() / GetParam().name);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    case_ = std::move(loaded).value();
    node_.emplace(case_.node(), 0, (case_.dir / "model.onnx").string());
  }

  // The node's input `i`, or null when the node omits it; a named input the case does not
  // provide fails the test.
  const Tensor* Input(int i) {
    const std::string name = node_->Input(i);
    if (name.empty()) return nullptr;
    auto it = case_.inputs.find(name);
    EXPECT_NE(it, case_.inputs.end()) << case_.dir << ": no value for input '" << name << "'";
    return it == case_.inputs.end() ? nullptr : &it->second;
  }

  // Checks a mapping's status against the case's expected refusal. Returns true when the test
  // should go on to compute (mapped, and no refusal expected).
  bool CheckMapping(const Status& status) {
    const auto refusal = ExpectedRefusals().find(GetParam().name);
    if (refusal != ExpectedRefusals().end()) {
      if (!status.ok()) {
        std::cout << "[ golden   ] " << BackendName(GetParam().backend) << " " << GetParam().name
                  << " refused: " << status.ToString() << "\n";
      }
      EXPECT_FALSE(status.ok()) << GetParam().name << " must be refused (" << refusal->second
                                << ") but was mapped";
      EXPECT_EQ(status.code(), StatusCode::kUnimplemented) << status.ToString();
      EXPECT_NE(status.message().find(refusal->second), std::string_view::npos)
          << "refusal reason: " << status.ToString()
          << "\nexpected to contain: " << refusal->second;
      return false;
    }
    EXPECT_TRUE(status.ok()) << "unexpected refusal: " << status.ToString();
    return status.ok();
  }

  // Compares `got` (in ONNX's layout, `dims`) with the expected output named `name`.
  void Compare(const std::string& name, const std::vector<int64_t>& dims,
               const std::vector<float>& got) {
    auto it = case_.outputs.find(name);
    ASSERT_NE(it, case_.outputs.end()) << case_.dir << ": the node's output '" << name
                                       << "' is not a graph output with expected values";
    const Tensor& want = it->second;
    ASSERT_TRUE(want.is_float) << name;
    ASSERT_EQ(want.dims, dims) << name << ": expected " << want.DimsText() << ", we produce "
                               << Dims(dims);
    const double error = RelativeError(got, want.floats);
    std::cout << "[ golden   ] " << BackendName(GetParam().backend) << " " << GetParam().name << " "
              << name << ": relative error " << error << " (bound " << kTolerance << ")\n";
    EXPECT_LE(error, kTolerance) << name;
    ++compared_;
  }

  void ExpectAllOutputsCompared() {
    EXPECT_EQ(compared_, case_.model.graph().output_size())
        << "every graph output must be one of the node's outputs and compared";
  }

  void RunRecurrent();
  void RunGemm();

  GoldenCase case_;
  std::optional<NodeRef> node_;
  int compared_ = 0;
};

void OnnxGoldenNodeTest::RunRecurrent() {
  // Inputs: X, W, R, B, sequence_lens, initial_h, initial_c, P.
  const Tensor* x = Input(0);
  const Tensor* w = Input(1);
  const Tensor* r = Input(2);
  ASSERT_TRUE(x && w && r) << case_.dir << ": X, W and R are required";
  const Tensor* b = Input(3);
  auto mapped = MapRecurrentNode(*node_, *w, *r, b);
  if (!CheckMapping(mapped.status())) return;
  const RecurrentNodeMapping& m = mapped.value();

  ASSERT_TRUE(x->is_float && x->dims.size() == 3) << "X " << x->DimsText();
  const int seq = static_cast<int>(m.batch_major ? x->dims[1] : x->dims[0]);
  const int batch = static_cast<int>(m.batch_major ? x->dims[0] : x->dims[1]);
  ASSERT_EQ(x->dims[2], m.input) << "X " << x->DimsText();
  const size_t in = size_t(m.input), hid = size_t(m.hidden);
  const size_t state = size_t(batch) * hid;

  // sequence_lens: our kernels run every sequence to T; a shorter length is not something this
  // harness feeds, so it fails rather than compare the wrong thing.
  if (const Tensor* lens = Input(4)) {
    ASSERT_EQ(lens->dims, std::vector<int64_t>{batch}) << "sequence_lens " << lens->DimsText();
    for (int64_t len : lens->ints) {
      ASSERT_EQ(len, seq) << "sequence_lens shorter than T is not fed by this harness";
    }
  }
  // initial_h / initial_c: [1, B, H] (layout 0) or [B, 1, H] (layout 1), both [B][H] in memory.
  const std::vector<int64_t> state_dims = m.batch_major ? std::vector<int64_t>{batch, 1, m.hidden}
                                                        : std::vector<int64_t>{1, batch, m.hidden};
  const Tensor* h0 = Input(5);
  const Tensor* c0 = m.cell == CellKind::kLstm ? Input(6) : nullptr;
  for (const Tensor* s : {h0, c0}) {
    if (s) {
      ASSERT_EQ(s->dims, state_dims) << "initial state " << s->DimsText();
    }
  }

  NEMESYST_CREATE_OR_SKIP(kernel,
                          CreateRecurrent(GetParam().backend, {m.cell, m.input, m.hidden}, {}));
  ASSERT_TRUE(kernel->SetWeights(m.weights.view()).ok());

  // X to time-major [T][B][I].
  std::vector<float> xt(size_t(seq) * batch * in);
  for (int t = 0; t < seq; ++t) {
    for (int bi = 0; bi < batch; ++bi) {
      const size_t src =
          m.batch_major ? (size_t(bi) * seq + t) * in : (size_t(t) * batch + bi) * in;
      std::copy_n(x->floats.data() + src, in, xt.data() + (size_t(t) * batch + bi) * in);
    }
  }
  std::vector<float> y(size_t(seq) * state), hn(state), cn(state);
  const Status run = kernel->Forward(seq, batch, xt.data(), h0 ? h0->floats.data() : nullptr,
                                     c0 ? c0->floats.data() : nullptr, y.data(), hn.data(),
                                     m.cell == CellKind::kLstm ? cn.data() : nullptr);
  ASSERT_TRUE(run.ok()) << run.ToString();

  // Outputs: Y [T, 1, B, H] (layout 0) or [B, T, 1, H] (layout 1); Y_h, Y_c as the states.
  const std::string y_name = case_.node().output_size() > 0 ? case_.node().output(0) : "";
  if (!y_name.empty()) {
    std::vector<float> y_onnx(y.size());
    for (int t = 0; t < seq; ++t) {
      for (int bi = 0; bi < batch; ++bi) {
        const size_t dst =
            m.batch_major ? (size_t(bi) * seq + t) * hid : (size_t(t) * batch + bi) * hid;
        std::copy_n(y.data() + (size_t(t) * batch + bi) * hid, hid, y_onnx.data() + dst);
      }
    }
    Compare(y_name,
            m.batch_major ? std::vector<int64_t>{batch, seq, 1, m.hidden}
                          : std::vector<int64_t>{seq, 1, batch, m.hidden},
            y_onnx);
  }
  if (case_.node().output_size() > 1 && !case_.node().output(1).empty()) {
    Compare(case_.node().output(1), state_dims, hn);
  }
  if (case_.node().output_size() > 2 && !case_.node().output(2).empty()) {
    ASSERT_EQ(m.cell, CellKind::kLstm) << "Y_c of a " << node_->op() << " node";
    Compare(case_.node().output(2), state_dims, cn);
  }
  ExpectAllOutputsCompared();
}

void OnnxGoldenNodeTest::RunGemm() {
  // Inputs: A (the data), B (the weights), C (the bias).
  const Tensor* a = Input(0);
  const Tensor* b = Input(1);
  ASSERT_TRUE(a && b) << case_.dir << ": A and B are required";
  auto mapped = MapGemmNode(*node_, *b, Input(2));
  if (!CheckMapping(mapped.status())) return;
  const DenseNodeMapping& m = mapped.value();

  ASSERT_TRUE(a->is_float && a->dims.size() == 2) << "A " << a->DimsText();
  const int rows = static_cast<int>(m.transpose_input ? a->dims[1] : a->dims[0]);
  ASSERT_EQ(m.transpose_input ? a->dims[0] : a->dims[1], m.input) << "A " << a->DimsText();
  const size_t in = size_t(m.input);
  // transA: the node's rows are the columns of A; feed Aᵀ as the dense layer's input rows.
  std::vector<float> x(size_t(rows) * in);
  for (size_t row = 0; row < size_t(rows); ++row) {
    for (size_t i = 0; i < in; ++i) {
      x[row * in + i] =
          m.transpose_input ? a->floats[i * size_t(rows) + row] : a->floats[row * in + i];
    }
  }

  NEMESYST_CREATE_OR_SKIP(kernel, CreateDense(GetParam().backend, {m.input, m.output}, {}));
  ASSERT_TRUE(kernel->SetWeights(m.w.data(), m.b.data()).ok());
  std::vector<float> y(size_t(rows) * m.output);
  const Status run = kernel->Forward(rows, x.data(), y.data());
  ASSERT_TRUE(run.ok()) << run.ToString();
  Compare(case_.node().output(0), {rows, m.output}, y);
  ExpectAllOutputsCompared();
}

TEST_P(OnnxGoldenNodeTest, MatchesExpectedOutputs) {
  const std::string& op = case_.node().op_type();
  if (op == "Gemm") {
    RunGemm();
  } else if (op == "LSTM" || op == "GRU" || op == "RNN") {
    RunRecurrent();
  } else {
    FAIL() << case_.dir << ": op " << op << " is not one this test maps";
  }
}

INSTANTIATE_TEST_SUITE_P(Golden, OnnxGoldenNodeTest, ::testing::ValuesIn(Params()), ParamName);
// Without the package there are no cases; OnnxGoldenCaseSet says why.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(OnnxGoldenNodeTest);

// The directory is there and holds at least the cases this test is meant to cover, including
// the expected refusals (a package that lost cases would otherwise pass by running fewer).
TEST(OnnxGoldenCaseSet, HasTheExpectedCases) {
  std::error_code ec;
  if (!fs::is_directory(NodeDir(), ec)) {
    GTEST_SKIP() << NodeDir() << " is absent: install the Debian package " << kPackage
                 << " (tools/setup.sh installs it) to run the ONNX golden node tests";
  }
  const std::vector<std::string> names = CaseNames();
  ASSERT_FALSE(names.empty()) << NodeDir() << " holds no LSTM, GRU, RNN or Gemm case";
  std::map<std::string, int> count;
  for (const std::string& name : names) ++count[FamilyOf(name)];
  for (const Family& f : kFamilies) {
    if (f.at_least > 0) {
      EXPECT_GE(count[f.what], f.at_least) << f.what << " cases";
    }
  }
  EXPECT_GE(count["RNN"], kRnnAtLeast) << "RNN cases (test_rnn_* and test_simple_rnn_*)";
  for (const auto& [name, reason] : ExpectedRefusals()) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end())
        << "expected-refusal case " << name << " is missing";
  }
}

}  // namespace
}  // namespace nemesyst::kernels::onnx
