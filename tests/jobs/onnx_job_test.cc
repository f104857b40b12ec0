// ImportOnnxModel / ExportOnnxModel against a real store: where the pipeline comes from, the
// window check, the lineage, and that a refused import writes nothing.
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdio>
#include "nemesyst/onnx.h"
#include "nemesyst/predict_job.h"
#include "tests/testing/onnx_pipeline.h"
#include "tests/testing/small_fleet.h"

namespace nemesyst {
namespace {

std::string Pipeline(int length) { return testing::OnnxTestPipeline(length); }

std::string OnnxOf(const std::string& cell, int steps) {
  auto model = Model::Create(R"({"kind": "regressor", "input": {"features": 4, "steps": )" +
                                 std::to_string(steps) + R"(}, "recurrent": {"cell": ")" + cell +
                                 R"(", "hidden": [6]}, "head": {"hidden": [3]}})",
                             3)
                   .value();
  return ExportOnnx(*model).value();
}

// SHA-256 of `bytes` as lower-case hex, from libsodium directly (not the library's helper).
std::string Sha256Of(const std::string& bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  std::string hex;
  char two[3];
  for (unsigned char c : digest) {
    std::snprintf(two, sizeof(two), "%02x", c);
    hex += two;
  }
  return hex;
}

size_t Versions(Store& store, const std::string& name) {
  auto v = store.ListModelVersions(name, true);
  return v.ok() ? v->size() : 0;
}

TEST(OnnxJobTest, PipelineFittedOrReusedAndLineageRecorded) {
  testing::SmallFleet fleet(2, 2, 0.25);
  Store& store = *fleet.store;
  const std::string onnx = OnnxOf("gru", 8);

  OnnxRegisterOptions o;
  o.name = "imported";
  o.source_path = "models/gru.onnx";
  o.pipeline_text = Pipeline(8);
  o.node_id = "node-a";
  auto first = ImportOnnxModel(store, onnx, o);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->version, 1u);
  EXPECT_EQ(first->pipeline_from, "pipeline spec fitted on stream fleet");
  auto info = store.GetModelInfo("imported", 1).value();
  EXPECT_EQ(info.metadata.kind, "gru");
  auto& hp = info.metadata.hyper_parameters;
  EXPECT_EQ(hp["source"], "onnx");
  EXPECT_EQ(hp["onnx_file"], "models/gru.onnx");
  EXPECT_EQ(hp["onnx_sha256"], Sha256Of(onnx));
  EXPECT_EQ(hp["onnx_opset"], std::to_string(kOnnxExportOpset));
  EXPECT_NE(hp["onnx_producer"].find("nemesyst"), std::string::npos);
  EXPECT_NE(hp["onnx_graph"].find("GRU"), std::string::npos);
  EXPECT_EQ(info.metadata.lineage.stream, "fleet");
  EXPECT_EQ(info.metadata.lineage.node_id, "node-a");
  EXPECT_NE(info.metadata.lineage.pipeline_spec.find("\"stats\""), std::string::npos);
  auto loaded = LoadModelForPrediction(store, "imported@1");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->pipeline->steps(), 8);

  // --from-model: the same resolved pipeline, statistics included.
  OnnxRegisterOptions reuse;
  reuse.name = "imported";
  reuse.from_model = "imported@1";
  auto second = ImportOnnxModel(store, onnx, reuse);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->pipeline_from, "model imported@1");
  EXPECT_EQ(store.GetModelInfo("imported", 2)->metadata.lineage.pipeline_spec,
            info.metadata.lineage.pipeline_spec);

  // Export carries the pipeline; importing the export needs nothing else.
  auto exported = ExportOnnxModel(store, "imported@2");
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  OnnxRegisterOptions bare;
  bare.name = "again";
  auto third = ImportOnnxModel(store, *exported, bare);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->pipeline_from, "the ONNX file");
  EXPECT_EQ(store.GetModelInfo("again", 1)->metadata.lineage.pipeline_spec,
            info.metadata.lineage.pipeline_spec);
  auto a = LoadModelForPrediction(store, "imported@2").value();
  auto b = LoadModelForPrediction(store, "again@1").value();
  EXPECT_EQ(a.model->Parameters(), b.model->Parameters());
}

TEST(OnnxJobTest, RefusedImportsWriteNothing) {
  testing::SmallFleet fleet(2, 2, 0.25);
  Store& store = *fleet.store;
  OnnxRegisterOptions o;
  o.name = "m";
  o.pipeline_text = Pipeline(8);

  // The pipeline's window differs from the graph's.
  auto wrong_window = ImportOnnxModel(store, OnnxOf("lstm", 5), o);
  ASSERT_FALSE(wrong_window.ok());
  EXPECT_NE(wrong_window.status().ToString().find("windows of 8 x 4"), std::string::npos)
      << wrong_window.status().ToString();

  // No pipeline at all, or two.
  OnnxRegisterOptions none;
  none.name = "m";
  auto no_pipeline = ImportOnnxModel(store, OnnxOf("lstm", 8), none);
  ASSERT_FALSE(no_pipeline.ok());
  EXPECT_NE(no_pipeline.status().ToString().find("--pipeline"), std::string::npos);
  OnnxRegisterOptions both = o;
  both.from_model = "m@1";
  EXPECT_EQ(ImportOnnxModel(store, OnnxOf("lstm", 8), both).status().code(),
            StatusCode::kInvalidArgument);

  // A file that is not ONNX, and one cut short.
  const std::string good = OnnxOf("lstm", 8);
  EXPECT_FALSE(ImportOnnxModel(store, "not onnx", o).ok());
  EXPECT_FALSE(ImportOnnxModel(store, good.substr(0, good.size() - 40), o).ok());
  // A stream that does not exist.
  OnnxRegisterOptions missing = o;
  missing.stream = "nope";
  missing.pipeline_text = Pipeline(8);
  EXPECT_FALSE(ImportOnnxModel(store, good, missing).ok());

  EXPECT_EQ(Versions(store, "m"), 0u);
  EXPECT_TRUE(store.ListModelNames()->empty());
  ASSERT_TRUE(ImportOnnxModel(store, good, o).ok());  // and the good one goes in
  EXPECT_EQ(Versions(store, "m"), 1u);
}

}  // namespace
}  // namespace nemesyst
