// The model file format: hand-checked layout, bit-exact round trips, and refusal of truncated,
// corrupted, mismatched and newer-version files.
#include <gtest/gtest.h>

#include <cstring>

#include "common/crc32c.h"
#include "kernels/model_file.h"
#include "nemesyst/model.h"
#include "tests/testing/temp_dir.h"

namespace nemesyst {
namespace {

constexpr const char* kSpec = R"({"kind": "regressor", "input": {"features": 3, "steps": 5},
  "recurrent": {"cell": "lstm", "hidden": [7, 4]}, "head": {"hidden": [3]},
  "output": {"width": 2}})";

uint32_t U32At(const std::string& s, size_t at) {
  uint32_t v;
  std::memcpy(&v, s.data() + at, 4);
  return v;
}
uint64_t U64At(const std::string& s, size_t at) {
  uint64_t v;
  std::memcpy(&v, s.data() + at, 8);
  return v;
}

TEST(ModelFileTest, Crc32cKnownAnswer) {
  // The standard check value of CRC-32C (Castagnoli) for "123456789".
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(ModelFileTest, HandCheckedLayout) {
  const float a[3] = {1.0f, -2.0f, 0.5f};
  auto bytes = kernels::EncodeModelFile({{"k", "vv"}}, {{"t", {3}, a}});
  ASSERT_TRUE(bytes.ok());
  const std::string& s = *bytes;
  EXPECT_EQ(s.substr(0, 8), "NMSYMODL");
  EXPECT_EQ(U32At(s, 8), 1u);         // version
  EXPECT_EQ(U32At(s, 12), 0u);        // flags
  EXPECT_EQ(U64At(s, 16), s.size());  // file size
  EXPECT_EQ(U32At(s, 24), 1u);        // metadata entries
  EXPECT_EQ(U32At(s, 28), 1u);        // tensors
  EXPECT_EQ(U32At(s, 32), 1u);        // key length
  EXPECT_EQ(s.substr(36, 1), "k");
  EXPECT_EQ(U32At(s, 37), 2u);  // value length
  EXPECT_EQ(s.substr(41, 2), "vv");
  // Tensor table at 43: u16 name length, name, dtype, rank, dims, offset, length.
  EXPECT_EQ(static_cast<uint8_t>(s[43]), 1);
  EXPECT_EQ(s[45], 't');
  EXPECT_EQ(static_cast<uint8_t>(s[46]), kernels::kDtypeFloat32);
  EXPECT_EQ(static_cast<uint8_t>(s[47]), 1);  // rank
  EXPECT_EQ(U64At(s, 48), 3u);                // dim
  const uint64_t offset = U64At(s, 56);
  EXPECT_EQ(offset, 128u);       // table ends at 72: the next 64-byte boundary
  EXPECT_EQ(U64At(s, 64), 12u);  // 3 floats
  float back[3];
  std::memcpy(back, s.data() + offset, 12);
  EXPECT_EQ(std::memcmp(back, a, 12), 0);
  EXPECT_EQ(s.size(), 128u + 12u + 8u);
  EXPECT_EQ(U32At(s, s.size() - 8), Crc32c(std::string_view(s).substr(0, s.size() - 8)));
  EXPECT_EQ(s.substr(s.size() - 4), "MEND");
}

TEST(ModelFileTest, RoundTripIsBitExact) {
  auto model = Model::Create(kSpec, 3);
  ASSERT_TRUE(model.ok());
  const ModelFileMetadata metadata = {
      {"pipeline", R"({"normalise": {"mean": [1.5], "std": [0.25]}})"},
      {"binary", std::string("a\0b", 3)}};
  auto bytes = (*model)->Serialize(metadata);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  ModelFileMetadata read_back;
  auto loaded = Model::Deserialize(*bytes, {}, &read_back);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(read_back, metadata);
  const auto p1 = (*model)->Parameters(), p2 = (*loaded)->Parameters();
  ASSERT_EQ(p1.size(), p2.size());
  EXPECT_EQ(std::memcmp(p1.data(), p2.data(), p1.size() * sizeof(float)), 0);
  EXPECT_EQ((*loaded)->spec_json(), (*model)->spec_json());
  auto again = (*loaded)->Serialize(read_back);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *bytes);
  // Predictions agree exactly.
  Batch batch;
  batch.Resize(2, 5, 3, 2);
  for (size_t k = 0; k < batch.x.size(); ++k) batch.x[k] = 0.1f * static_cast<float>(k % 7);
  std::vector<float> y1, y2;
  ASSERT_TRUE((*model)->Predict(batch, &y1).ok());
  ASSERT_TRUE((*loaded)->Predict(batch, &y2).ok());
  EXPECT_EQ(y1, y2);
  // Metadata alone.
  auto meta = Model::ReadMetadata(*bytes);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->at("nemesyst.kind"), "regressor");
  EXPECT_EQ(meta->at("pipeline"), metadata.at("pipeline"));
}

TEST(ModelFileTest, SaveAndLoadFiles) {
  testing::TempDir dir;
  auto gan = Model::Create(R"({"kind": "gan", "window": {"steps": 4, "features": 2},
      "noise": 3, "condition": 1, "generator": {"type": "rnn", "hidden": [5]},
      "discriminator": {"type": "lstm", "hidden": [6], "head": [4]}})",
                           9);
  ASSERT_TRUE(gan.ok()) << gan.status().ToString();
  const std::string path = dir.Sub("gan.nmodel");
  ASSERT_TRUE((*gan)->Save(path, {{"note", "x"}}).ok());
  ModelFileMetadata metadata;
  auto loaded = Model::Load(path, {}, &metadata);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(metadata.at("note"), "x");
  EXPECT_EQ((*loaded)->kind(), "gan");
  EXPECT_EQ((*loaded)->Parameters(), (*gan)->Parameters());
  std::vector<float> w1, w2;
  ASSERT_TRUE((*gan)->Generate(3, 5, {0.f, 1.f, 2.f}, &w1).ok());
  ASSERT_TRUE((*loaded)->Generate(3, 5, {0.f, 1.f, 2.f}, &w2).ok());
  EXPECT_EQ(w1, w2);
  EXPECT_EQ(Model::Load(dir.Sub("missing")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Model::Load(dir.path().string()).status().code(), StatusCode::kInvalidArgument);
}

TEST(ModelFileTest, ReservedMetadataKeysRefused) {
  auto model = Model::Create(kSpec, 3);
  ASSERT_TRUE(model.ok());
  EXPECT_TRUE((*model)->Serialize({{"nemesyst.spec", "{}"}}).status().IsInvalidArgument());
}

TEST(ModelFileTest, EveryTruncationIsRefused) {
  auto model = Model::Create(kSpec, 3);
  ASSERT_TRUE(model.ok());
  auto bytes = (*model)->Serialize({{"k", "v"}});
  ASSERT_TRUE(bytes.ok());
  for (size_t len = 0; len < bytes->size(); ++len) {
    auto r = Model::Deserialize(std::string_view(*bytes).substr(0, len));
    ASSERT_FALSE(r.ok()) << "length " << len;
    if (len >= 40) {
      EXPECT_TRUE(r.status().IsCorruption()) << len << ": " << r.status().ToString();
    }
  }
  auto r = Model::Deserialize(std::string_view(*bytes).substr(0, bytes->size() - 1));
  EXPECT_NE(r.status().message().find("truncated"), std::string_view::npos)
      << r.status().ToString();
}

TEST(ModelFileTest, EveryFlippedByteIsRefused) {
  auto model = Model::Create(kSpec, 3);
  ASSERT_TRUE(model.ok());
  auto bytes = (*model)->Serialize({{"k", "v"}});
  ASSERT_TRUE(bytes.ok());
  for (size_t at = 0; at < bytes->size(); ++at) {
    std::string damaged = *bytes;
    damaged[at] ^= 0x20;
    EXPECT_FALSE(Model::Deserialize(damaged).ok()) << "byte " << at;
  }
}

TEST(ModelFileTest, WrongMagicAndNewerVersion) {
  auto model = Model::Create(kSpec, 3);
  auto bytes = (*model)->Serialize();
  ASSERT_TRUE(bytes.ok());
  EXPECT_TRUE(Model::Deserialize("hello, world: not a model at all").status().IsInvalidArgument());
  std::string newer = *bytes;
  newer[8] = 2;
  EXPECT_EQ(Model::Deserialize(newer).status().code(), StatusCode::kUnimplemented);
}

// Files whose envelope is valid (correct CRC) but whose contents do not match their spec.
TEST(ModelFileTest, MismatchedTensorsRefused) {
  auto model = Model::Create(kSpec, 3);
  ASSERT_TRUE(model.ok());
  auto meta = Model::ReadMetadata(*(*model)->Serialize());
  ASSERT_TRUE(meta.ok());
  std::vector<float> zeros(1000, 0.f);
  auto decoded = kernels::DecodeModelFile(*(*model)->Serialize());
  ASSERT_TRUE(decoded.ok());
  std::vector<kernels::TensorView> views;
  for (const auto& t : decoded->tensors) views.push_back({t.name, t.shape, t.values.data()});

  auto wrong_shape = views;
  wrong_shape[0].shape = {wrong_shape[0].shape[1], wrong_shape[0].shape[0]};  // transposed
  auto status = Model::Deserialize(*kernels::EncodeModelFile(*meta, wrong_shape)).status();
  EXPECT_TRUE(status.IsCorruption());
  EXPECT_NE(status.message().find("shape"), std::string_view::npos) << status.ToString();

  auto bigger = views;  // more weights than the spec defines
  bigger[0].shape = {bigger[0].shape[0], bigger[0].shape[1] + 1};
  bigger[0].data = zeros.data();
  EXPECT_TRUE(Model::Deserialize(*kernels::EncodeModelFile(*meta, bigger)).status().IsCorruption());

  auto missing = views;
  missing.pop_back();
  EXPECT_TRUE(
      Model::Deserialize(*kernels::EncodeModelFile(*meta, missing)).status().IsCorruption());

  auto extra = views;
  extra.push_back({"unexpected", {2}, zeros.data()});
  EXPECT_TRUE(Model::Deserialize(*kernels::EncodeModelFile(*meta, extra)).status().IsCorruption());

  auto bad_spec = *meta;
  bad_spec["nemesyst.spec"] = R"({"kind": "regressor"})";
  EXPECT_TRUE(
      Model::Deserialize(*kernels::EncodeModelFile(bad_spec, views)).status().IsCorruption());
  auto no_spec = *meta;
  no_spec.erase("nemesyst.spec");
  EXPECT_TRUE(
      Model::Deserialize(*kernels::EncodeModelFile(no_spec, views)).status().IsCorruption());
}

// Found by tests/fuzz/model_file_fuzzer (its seed corpus, under UBSan): a tensor with a zero dim
// was read with memcpy from a null vector, which is undefined behaviour even for 0 bytes.
TEST(ModelFileTest, ZeroSizedTensorsRoundTrip) {
  const float values[2] = {1.5f, -2};
  auto bytes = kernels::EncodeModelFile(
      {{"k", "v"}}, {{"empty", {0, 4}, nullptr}, {"w", {2}, values}, {"none", {3, 0, 2}, values}});
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto read = kernels::DecodeModelFile(*bytes);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->tensors.size(), 3u);
  EXPECT_EQ(read->tensors[0].shape, (std::vector<int64_t>{0, 4}));
  EXPECT_TRUE(read->tensors[0].values.empty());
  EXPECT_EQ(read->tensors[1].values, (std::vector<float>{1.5f, -2}));
  EXPECT_TRUE(read->tensors[2].values.empty());
}

}  // namespace
}  // namespace nemesyst

namespace nemesyst {
namespace {

// The estimate counts exactly the parameters Create allocates, grows with the batch and the
// window, and a model over the budget is refused before it is allocated.
TEST(MemoryEstimateTest, CountsTheParametersAndRefusesOverTheBudget) {
  for (const char* spec : {R"({"kind": "regressor", "input": {"features": 3, "steps": 8},
            "recurrent": {"cell": "lstm", "hidden": [16, 8]}, "head": {"hidden": [4]},
            "output": {"width": 2}})",
                           R"({"kind": "regressor", "input": {"features": 5, "steps": 0},
            "recurrent": {"cell": "rnn", "hidden": [32]}, "output": {"width": 1}})",
                           R"({"kind": "gan", "window": {"steps": 6, "features": 2}, "noise": 4,
            "generator": {"type": "lstm", "hidden": [8]},
            "discriminator": {"type": "dense", "hidden": [16]}})"}) {
    auto model = Model::Create(spec, 1);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    auto e = Model::EstimateMemory(spec, 32);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->parameters, (*model)->Parameters().size()) << spec;
    EXPECT_GE(e->training_bytes, 6 * 4 * e->parameters) << "weights, grads, moments, copies";
    EXPECT_GT(e->training_bytes, e->inference_bytes);
    auto bigger = Model::EstimateMemory(spec, 64, 40);
    ASSERT_TRUE(bigger.ok());
    EXPECT_GT(bigger->training_bytes, e->training_bytes);
    auto one = Model::EstimateMemory(spec, 1);  // what Create checks: running at batch 1
    ASSERT_TRUE(one.ok());
    ModelOptions tight;
    tight.memory_budget_bytes = one->inference_bytes - 1;
    auto refused = Model::Create(spec, 1, tight);
    EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(refused.status().message().find("memory budget"), std::string_view::npos);
  }
  auto sgd = Model::EstimateMemory(
      R"({"kind": "regressor", "input": {"features": 3}, "recurrent": {"hidden": [8]}})", 8, 4,
      "sgd");
  auto adam = Model::EstimateMemory(
      R"({"kind": "regressor", "input": {"features": 3}, "recurrent": {"hidden": [8]}})", 8, 4,
      "adam");
  ASSERT_TRUE(sgd.ok() && adam.ok());
  EXPECT_EQ(adam->training_bytes - sgd->training_bytes, 4 * adam->parameters);
  EXPECT_GT(MemoryBudgetBytes(ModelOptions{}), 0u);
  EXPECT_TRUE(Model::EstimateMemory("{", 1).status().IsInvalidArgument());
}

}  // namespace
}  // namespace nemesyst
