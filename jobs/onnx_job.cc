// ImportOnnxModel / ExportOnnxModel: the ONNX conversion (kernels/onnx/) joined to the registry
// and to the pipeline predict applies.
#include <string>

#include "common/sha256.h"
#include "jobs/fit_sample.h"
#include "nemesyst/onnx.h"
#include "nemesyst/pipeline.h"
#include "nemesyst/predict_job.h"

namespace nemesyst {
namespace {

struct PipelineChoice {
  std::string resolved;
  std::string input_fields;
  std::string stream;
  std::string from;
};

Result<PipelineChoice> ChoosePipeline(Store& store, const OnnxRegisterOptions& o,
                                      const OnnxImportResult& imported) {
  PipelineChoice c;
  if (!o.pipeline_text.empty() && !o.from_model.empty()) {
    return Status::InvalidArgument("import-onnx: give --pipeline or --from-model, not both");
  }
  if (!o.from_model.empty()) {
    NEMESYST_ASSIGN_OR_RETURN(ResolvedModel from, store.ResolveModel(o.from_model));
    NEMESYST_ASSIGN_OR_RETURN(std::string blob, store.ReadModelBlob(from.name, from.version));
    NEMESYST_ASSIGN_OR_RETURN(ModelFileMetadata meta, Model::ReadMetadata(blob));
    if (!meta.count("pipeline") || !meta.count("input_fields")) {
      return Status::FailedPrecondition("import-onnx: " + from.ToString() +
                                        " carries no pipeline to reuse");
    }
    c = {meta["pipeline"], meta["input_fields"], meta["stream"], "model " + from.ToString()};
    return c;
  }
  if (!o.pipeline_text.empty()) {
    NEMESYST_ASSIGN_OR_RETURN(c.stream,
                              jobs::PipelineStream(o.pipeline_text, o.stream, "import-onnx"));
    NEMESYST_ASSIGN_OR_RETURN(auto pipeline,
                              Pipeline::CreateForStream(o.pipeline_text, store, c.stream));
    NEMESYST_ASSIGN_OR_RETURN(
        std::vector<Record> sample,
        jobs::ReadFitSample(store, c.stream, o.fit_hours, o.fit_records, "import-onnx"));
    NEMESYST_RETURN_IF_ERROR(pipeline->Fit(sample));
    c.resolved = pipeline->Serialize();
    c.input_fields = JoinFieldList(pipeline->input_fields());
    c.from = "pipeline spec fitted on stream " + c.stream;
    return c;
  }
  if (imported.carried_pipeline) {
    c.from = "the ONNX file";
    return c;  // already in the model file
  }
  return Status::InvalidArgument(
      "import-onnx: the model needs a pipeline for predict: give --pipeline P.toml (fitted on "
      "the stream like train) or --from-model NAME@VERSION (reuse that version's)");
}

}  // namespace

Result<OnnxRegisterResult> ImportOnnxModel(Store& store, std::string_view onnx_bytes,
                                           const OnnxRegisterOptions& o) {
  if (o.name.empty()) return Status::InvalidArgument("import-onnx: a model name is needed");
  OnnxRegisterResult r;
  OnnxImportOptions import_options;
  import_options.source = o.source_path.empty() ? "onnx" : o.source_path;
  import_options.steps = o.steps;
  NEMESYST_ASSIGN_OR_RETURN(r.imported, ImportOnnx(onnx_bytes, import_options));
  NEMESYST_ASSIGN_OR_RETURN(PipelineChoice pipeline, ChoosePipeline(store, o, r.imported));
  r.pipeline_from = pipeline.from;
  if (!pipeline.resolved.empty()) {
    ModelFileMetadata meta = {{"pipeline", pipeline.resolved},
                              {"input_fields", pipeline.input_fields},
                              {"model_name", o.name}};
    if (!pipeline.stream.empty()) meta["stream"] = pipeline.stream;
    NEMESYST_ASSIGN_OR_RETURN(r.imported, ImportOnnx(onnx_bytes, import_options, meta));
  }
  // The pipeline's window must be what the graph reads.
  ModelOptions check;
  check.backend = Backend::kRef;
  ModelFileMetadata meta;
  NEMESYST_ASSIGN_OR_RETURN(auto model, Model::Deserialize(r.imported.model_file, check, &meta));
  NEMESYST_ASSIGN_OR_RETURN(
      auto p, Pipeline::Create(meta["pipeline"], SplitFieldList(meta["input_fields"])));
  if (p->features() != model->features() || (model->steps() > 0 && p->steps() != model->steps())) {
    return Status::InvalidArgument(
        "import-onnx: the pipeline makes windows of " + std::to_string(p->steps()) + " x " +
        std::to_string(p->features()) + " but the ONNX graph reads " +
        (model->steps() > 0 ? std::to_string(model->steps()) : std::string("any")) + " x " +
        std::to_string(model->features()) + " (steps x features)");
  }
  ModelMetadata metadata;
  metadata.hyper_parameters = {{"source", "onnx"},
                               {"onnx_file", import_options.source},
                               {"onnx_sha256", Sha256Hex(onnx_bytes)},
                               {"onnx_producer", r.imported.producer},
                               {"onnx_opset", std::to_string(r.imported.opset)},
                               {"onnx_graph", r.imported.graph_summary},
                               {"pipeline_from", r.pipeline_from}};
  metadata.lineage.stream = meta["stream"];
  metadata.lineage.pipeline_spec = meta["pipeline"];
  metadata.lineage.node_id = o.node_id;
  NEMESYST_ASSIGN_OR_RETURN(r.version,
                            ImportModel(store, o.name, r.imported.model_file, std::move(metadata)));
  return r;
}

Result<std::string> ExportOnnxModel(const Store& store, const std::string& model_ref) {
  NEMESYST_ASSIGN_OR_RETURN(ResolvedModel ref, store.ResolveModel(model_ref));
  NEMESYST_ASSIGN_OR_RETURN(std::string blob, store.ReadModelBlob(ref.name, ref.version));
  ModelOptions options;
  options.backend = Backend::kRef;
  ModelFileMetadata meta;
  NEMESYST_ASSIGN_OR_RETURN(auto model, Model::Deserialize(blob, options, &meta));
  return ExportOnnx(*model, meta, ref.name + "@" + std::to_string(ref.version));
}

}  // namespace nemesyst
