// ONNX interchange: regressors (LSTM / RNN / GRU stack + dense head) in and out of the standard
// ONNX format, so a model trained in PyTorch or Keras can be registered and served, and a model
// trained here can run on any ONNX engine. The mapping (ops, attributes, gate orders, what is
// refused, what is lost) is docs/onnx.md.
//
//   auto imported = nemesyst::ImportOnnx(onnx_bytes, {.source = "lstm.onnx"});
//   // imported->model_file: model-file bytes (spec + weights), ready for Model::Deserialize or
//   // the registry once the pipeline metadata predict needs is added (ImportOnnxModel does that).
//   auto onnx = nemesyst::ExportOnnx(*model, metadata);  // opset kOnnxExportOpset
//
// ONNX files are data: nothing in them is executed, no path they name is opened (external
// tensor data is refused), and every count, dimension and byte length is checked before it is
// used. Errors are InvalidArgument (or Unimplemented for a valid graph we cannot map) naming the
// node ("node 3 'LSTM_0' (LSTM)"), the input or attribute, and the reason. Nothing is ever
// approximated: a graph either maps exactly (up to float rounding of folded biases) or is refused.
//
// Thread-safety: the functions are pure; call them from any thread.
#ifndef NEMESYST_ONNX_H_
#define NEMESYST_ONNX_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "nemesyst/export.h"
#include "nemesyst/model.h"
#include "nemesyst/status.h"
#include "nemesyst/store.h"

namespace nemesyst {

// The opset ExportOnnx writes (ai.onnx domain): Squeeze takes its axes as an input (13), and
// LSTM/GRU/RNN are the opset-14 versions with the `layout` attribute left at its default.
inline constexpr int kOnnxExportOpset = 14;
// The largest ONNX file ImportOnnx reads (1 GiB: a regressor at the 2^28-parameter model limit
// fits). Before parsing, the graph's entry counts are also bounded (kernels/onnx/onnx_wire_scan.h)
// so a small file of many tiny messages cannot make the parse take gigabytes.
inline constexpr size_t kOnnxMaxFileBytes = size_t{1} << 30;
// Opsets ImportOnnx reads: 7 (the recurrent ops' current semantics) through 18.
inline constexpr int kOnnxImportMinOpset = 7;
inline constexpr int kOnnxImportMaxOpset = 18;

// Metadata keys (ONNX metadata_props) an exported file carries, so a re-import keeps the
// pipeline predict needs: "nemesyst.pipeline", "nemesyst.input_fields", "nemesyst.stream",
// "nemesyst.spec" (informational) and "nemesyst.source" (name@version it came from).
inline constexpr const char* kOnnxPipelineKey = "nemesyst.pipeline";
inline constexpr const char* kOnnxInputFieldsKey = "nemesyst.input_fields";
inline constexpr const char* kOnnxStreamKey = "nemesyst.stream";
inline constexpr const char* kOnnxSpecKey = "nemesyst.spec";
inline constexpr const char* kOnnxSourceKey = "nemesyst.source";

struct OnnxImportOptions {
  std::string source;  // names the file in errors ("lstm.onnx: node 3 ...")
  // When the graph's input has no fixed time dimension the spec gets steps = 0 (any window),
  // unless this is > 0.
  int steps = 0;
};

struct OnnxImportResult {
  // Model-file bytes: the spec and the weights, plus the caller metadata given to ImportOnnx and
  // the pipeline / input_fields / stream the ONNX file carried (from an earlier export), if any.
  std::string model_file;
  std::string spec_json;      // canonical spec of the imported regressor
  int64_t opset = 0;          // the ai.onnx opset the file declares
  std::string producer;       // producer_name [producer_version], e.g. "pytorch 1.13.1"
  std::string graph_summary;  // "Transpose → LSTM → LSTM → Gather(last step) → Gemm → Relu"
  bool carried_pipeline = false;  // the file's metadata_props held nemesyst.pipeline
};

// Maps an ONNX model onto a regressor spec and its weights. `metadata` is stored in the model
// file as caller metadata (keys must not start with "nemesyst."); pipeline metadata the ONNX
// file carries is added unless `metadata` already has "pipeline".
NEMESYST_EXPORT Result<OnnxImportResult> ImportOnnx(std::string_view onnx_bytes,
                                                    const OnnxImportOptions& options = {},
                                                    const ModelFileMetadata& metadata = {});

// Writes a regressor as an ONNX model (opset kOnnxExportOpset, IR version 7): input "x"
// [batch, steps, features] float (steps symbolic when the spec's steps is 0), output "y"
// [batch, output_width] (per-step models: [batch, steps × output_width]). `metadata`'s
// "pipeline", "input_fields" and "stream" go into metadata_props as above; `source` too.
// GAN models are refused (Unimplemented).
NEMESYST_EXPORT Result<std::string> ExportOnnx(const Model& model,
                                               const ModelFileMetadata& metadata = {},
                                               std::string_view source = {});

// ---- Registry (`nemesyst model import-onnx` / `export-onnx`)
// ----------------------------------------------------------------

struct OnnxRegisterOptions {
  std::string name;         // the model to add a version to
  std::string source_path;  // the file's path, recorded in the lineage
  // Where the pipeline predict applies comes from (exactly one, unless the ONNX file carries one
  // from an earlier export):
  std::string pipeline_text;  // a pipeline spec (TOML or JSON), fitted on `stream` like `train`
  std::string from_model;     // NAME@VERSION (or any ref) whose resolved pipeline is reused
  std::string stream;         // with pipeline_text: the stream to fit on (default: the spec's)
  int steps = 0;              // see OnnxImportOptions::steps
  std::string node_id;        // recorded in the lineage
  double fit_hours = 24;      // as TrainJobOptions
  size_t fit_records = 1000000;
};

struct OnnxRegisterResult {
  uint32_t version = 0;
  OnnxImportResult imported;
  std::string pipeline_from;  // "pipeline spec fitted on stream s", "model lstm@3", "the ONNX file"
};

// Imports `onnx_bytes` and registers it as a new version of options.name, with the pipeline and
// input fields predict needs and a lineage that says where it came from (hyper_parameters:
// source=onnx, onnx_file, onnx_sha256, onnx_producer, onnx_opset, onnx_graph, pipeline_from).
// The window the pipeline makes must match the graph's features (and steps, when fixed). Nothing
// is written unless everything checks.
NEMESYST_EXPORT Result<OnnxRegisterResult> ImportOnnxModel(Store& store,
                                                           std::string_view onnx_bytes,
                                                           const OnnxRegisterOptions& options);

// A registered version as ONNX, carrying its pipeline, input fields and stream as metadata.
NEMESYST_EXPORT Result<std::string> ExportOnnxModel(const Store& store,
                                                    const std::string& model_ref);

}  // namespace nemesyst

#endif  // NEMESYST_ONNX_H_
