#include "nemesyst/predict_job.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>

#include "jobs/group_values.h"
#include "jobs/live_model_impl.h"
#include "nemesyst/ingest.h"
#include "nemesyst/model.h"
#include "nemesyst/pipeline.h"
#include "nemesyst/store.h"

namespace nemesyst {
namespace {

// Readings from a file, validated by the same ingest code as `nemesyst ingest`.
struct ReadingsFile {
  std::vector<Record> records;  // values in the pipeline's input-field order
  bool labelled = true;         // false: the file has no label column (labels hold 0)
};

// Reads a readings file through the ingest validator into a scratch store whose schema is the
// pipeline's input fields, then returns the records. The label is what is being predicted, so the
// file may lack it: then the scratch schema leaves the label fields out, and the records get a
// placeholder 0 there (the pipeline keeps only windows whose every column is present; the
// predictions of an unlabelled file carry no label).
Result<ReadingsFile> ReadReadingsFile(const std::string& path, const Pipeline& pipeline) {
  namespace fs = std::filesystem;
  IngestOptions io;
  io.stream = "input";
  NEMESYST_ASSIGN_OR_RETURN(std::vector<std::string> columns, ReadInputColumns(path, io));
  const std::vector<std::string> labels = pipeline.label_names();
  auto offered = [&](const std::string& f) {
    return std::find(columns.begin(), columns.end(), f) != columns.end();
  };
  auto is_label = [&](const std::string& f) {
    return std::find(labels.begin(), labels.end(), f) != labels.end();
  };
  ReadingsFile out;
  out.labelled = std::all_of(labels.begin(), labels.end(), offered);
  std::error_code ec;
  const fs::path scratch =
      fs::temp_directory_path(ec) / ("nemesyst-predict-" + std::to_string(std::random_device{}()));
  if (ec) return Status::IOError("predict: no temporary directory: " + ec.message());
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(p, ignored);
    }
  } cleanup{scratch};
  std::unique_ptr<Store> store;
  StoreOptions so;
  so.durability = Durability::kAsync;
  NEMESYST_RETURN_IF_ERROR(Store::Open(so, scratch.string(), &store));
  StreamSchema schema;
  std::vector<bool> stored;  // per input field: in the scratch schema
  for (const std::string& f : pipeline.input_fields()) {
    stored.push_back(out.labelled || !is_label(f));
    if (!stored.back()) continue;
    FieldSpec spec;
    spec.name = f;
    spec.type = FieldType::kFloat64;
    schema.fields.push_back(std::move(spec));
  }
  NEMESYST_RETURN_IF_ERROR(store->CreateStream("input", schema));
  IngestReport report;
  NEMESYST_RETURN_IF_ERROR(Ingest(*store, path, io, &report));
  if (report.rejected) {
    return Status::InvalidArgument("predict: " + (report.error_details.empty()
                                                      ? path + ": rejected"
                                                      : report.error_details.front().ToString()));
  }
  NEMESYST_ASSIGN_OR_RETURN(out.records, ReadRecords(*store, "input"));
  if (!out.labelled) {
    for (Record& r : out.records) {
      std::vector<double> values;
      values.reserve(stored.size());
      size_t next = 0;
      for (bool in_file : stored) values.push_back(in_file ? r.values[next++] : 0.0);
      r.values = std::move(values);
    }
  }
  return out;
}

Status WindowedPredictions(const LoadedModel& m, const std::vector<Record>& records,
                           const PredictionSink& sink, PredictJobResult* result) {
  Model& model = *m.model;
  const Pipeline& pipeline = *m.pipeline;
  NEMESYST_ASSIGN_OR_RETURN(auto data, pipeline.Apply(records));
  DatasetProviderOptions o;
  o.split = DataSplit::kAll;
  o.shuffle = false;
  NEMESYST_ASSIGN_OR_RETURN(auto provider, MakeDatasetProvider(data, o));
  NEMESYST_ASSIGN_OR_RETURN(WindowPredictions p, PredictWindows(model, *provider, [&](double v) {
                              return pipeline.LabelToOriginal(0, v);
                            }));
  result->model_seconds += p.seconds;
  result->case_steps += p.case_steps;
  const jobs::GroupValues groups = m.lower && m.lower_group_index >= 0
                                       ? jobs::GroupValues(records, m.lower_group_index)
                                       : jobs::GroupValues();
  for (size_t i = 0; i < p.predicted_s.size(); ++i) {
    PredictionRow row{p.device[i], p.end_us[i], p.predicted_s[i], std::nullopt, std::nullopt};
    if (i < p.truth_s.size()) row.label_s = p.truth_s[i];
    if (m.lower)
      row.lower_s = LowerBound(*m.lower, row.prediction_s, groups.At(row.device, row.timestamp_us));
    NEMESYST_RETURN_IF_ERROR(sink(row));
    ++result->predictions;
  }
  return Status::OK();
}

}  // namespace

std::vector<std::string> SplitFieldList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::string JoinFieldList(const std::vector<std::string>& fields) {
  std::string out;
  for (const auto& f : fields) out += (out.empty() ? "" : ",") + f;
  return out;
}

namespace {

// Builds the model from file bytes (the whole file is checked: checksum, format, spec, every
// weight) and binds the pipeline it carries. `what` names the model in errors.
Status LoadModelFile(std::string_view blob, const ModelOptions& options, const std::string& what,
                     LoadedModel* m) {
  ModelFileMetadata meta;
  NEMESYST_ASSIGN_OR_RETURN(m->model, Model::Deserialize(blob, options, &meta));
  if (meta.count("pipeline") == 0 || meta.count("input_fields") == 0) {
    return Status::FailedPrecondition(what +
                                      " carries no pipeline (or input fields) to apply: "
                                      "its metadata needs \"pipeline\" and "
                                      "\"input_fields\" (docs/model-format.md)");
  }
  m->input_fields = SplitFieldList(meta["input_fields"]);
  m->trained_stream = meta["stream"];
  NEMESYST_ASSIGN_OR_RETURN(m->pipeline, Pipeline::Create(meta["pipeline"], m->input_fields));
  if (auto lower = meta.find(kLowerBoundFileKey); lower != meta.end()) {
    Result<LowerBoundCalibration> parsed = ParseLowerBound(lower->second);
    if (!parsed.ok()) return parsed.status().WithContext(what);
    LowerBoundCalibration c = std::move(parsed).value();
    if (!c.group_field.empty()) {
      auto f = std::find(m->input_fields.begin(), m->input_fields.end(), c.group_field);
      if (f == m->input_fields.end()) {
        return Status::FailedPrecondition(what + ": the lower bound's group field '" +
                                          c.group_field + "' is not an input field");
      }
      m->lower_group_index = static_cast<int>(f - m->input_fields.begin());
    }
    m->lower = std::move(c);
  }
  return Status::OK();
}

}  // namespace

Result<LoadedModel> LoadModelFromBlob(std::string_view blob, const ResolvedModel& resolved,
                                      const ModelOptions& options) {
  LoadedModel m;
  m.ref = resolved.ToString();
  m.resolved_by = resolved.how;
  NEMESYST_RETURN_IF_ERROR(LoadModelFile(blob, options, "model " + m.ref, &m));
  return m;
}

Result<LoadedModel> LoadModelForPrediction(const Store& store, const std::string& model_ref,
                                           const ModelOptions& options) {
  NEMESYST_ASSIGN_OR_RETURN(ResolvedModel resolved, store.ResolveModel(model_ref));
  NEMESYST_ASSIGN_OR_RETURN(std::string blob, store.ReadModelBlob(resolved.name, resolved.version));
  return LoadModelFromBlob(blob, resolved, options);
}

Result<uint32_t> ImportModel(Store& store, std::string_view name, std::string_view blob,
                             ModelMetadata metadata) {
  LoadedModel m;
  ModelOptions options;
  options.backend = Backend::kRef;  // only checking: the plainest backend builds every model
  NEMESYST_RETURN_IF_ERROR(LoadModelFile(blob, options, "the model file", &m)
                               .WithContext("model import " + std::string(name)));
  if (metadata.kind.empty()) metadata.kind = std::string(m.model->family());
  return store.PutModel(name, blob, metadata);
}

Status PredictRecords(LoadedModel& m, std::vector<Record> records, bool streaming,
                      const PredictionSink& sink, PredictJobResult* result,
                      std::vector<PredictionRow>* first_after_restart) {
  result->readings += records.size();
  if (streaming) {
    return StreamRecords(m, std::move(records), sink, result, first_after_restart);
  }
  return WindowedPredictions(m, records, sink, result);
}

Result<std::vector<PredictionRow>> PredictAt(LoadedModel& m, std::vector<Record> records,
                                             int64_t at_us) {
  if (m.model->kind() != "regressor") {
    return Status::InvalidArgument("cannot predict with a " + std::string(m.model->kind()) +
                                   " model");
  }
  std::stable_sort(records.begin(), records.end(), [](const Record& a, const Record& b) {
    return a.timestamp_us < b.timestamp_us;
  });
  const Pipeline& p = *m.pipeline;
  const auto& fields = p.input_fields();
  const std::vector<std::string> labels = p.label_names();
  int label_index = -1;
  for (size_t i = 0; i < fields.size() && !labels.empty(); ++i) {
    if (fields[i] == labels[0]) label_index = static_cast<int>(i);
  }
  auto featurizer = p.MakeStreaming();
  std::map<std::string, const Record*> at;
  for (const Record& r : records) {
    if (r.timestamp_us > at_us) break;
    NEMESYST_RETURN_IF_ERROR(featurizer->Push(r).status());
    if (r.timestamp_us == at_us) at[r.device_id] = &r;
  }
  Batch batch;
  const size_t xs = static_cast<size_t>(p.steps()) * p.features();
  std::vector<float> x(xs);
  std::vector<const Record*> sources;
  for (const auto& [device, record] : at) {
    if (!featurizer->LatestWindow(device, x.data())) continue;
    batch.x.insert(batch.x.end(), x.begin(), x.end());
    batch.device.push_back(device);
    batch.end_us.push_back(at_us);
    sources.push_back(record);
  }
  std::vector<PredictionRow> out;
  if (sources.empty()) return out;
  batch.batch = static_cast<int>(sources.size());
  batch.steps = p.steps();
  batch.features = p.features();
  batch.label_width = 0;
  std::vector<float> y;
  NEMESYST_RETURN_IF_ERROR(m.model->Predict(batch, &y));
  for (size_t i = 0; i < sources.size(); ++i) {
    PredictionRow row;
    row.device = batch.device[i];
    row.timestamp_us = at_us;
    row.prediction_s =
        std::clamp(p.LabelToOriginal(0, WindowOutput(*m.model, y, i)), 0.0, kMaxPredictionS);
    if (label_index >= 0) row.label_s = sources[i]->values[label_index];
    row.lower_s = LowerBoundOf(m, row.prediction_s, sources[i]);
    out.push_back(std::move(row));
  }
  return out;
}

std::optional<double> LowerBoundOf(const LoadedModel& m, double prediction_s, const Record* last) {
  if (!m.lower) return std::nullopt;
  std::string group;
  if (last != nullptr && m.lower_group_index >= 0 &&
      static_cast<size_t>(m.lower_group_index) < last->values.size()) {
    group = LowerBoundGroupValue(last->values[static_cast<size_t>(m.lower_group_index)]);
  }
  return LowerBound(*m.lower, prediction_s, group);
}

Result<PredictJobResult> RunPredictJob(const Store& store, const PredictJobOptions& o,
                                       const PredictionSink& sink) {
  if (o.stream.empty() == o.input_path.empty()) {
    return Status::InvalidArgument("predict: give exactly one input: a stream or a file");
  }
  Logger* logger = o.logger != nullptr ? o.logger : NullLogger();
  NEMESYST_ASSIGN_OR_RETURN(LoadedModel m, LoadModelForPrediction(store, o.model, o.model_options));
  std::vector<Record> records;
  bool labelled = true;
  if (!o.stream.empty()) {
    NEMESYST_ASSIGN_OR_RETURN(StreamSchema schema, store.GetSchema(o.stream));
    std::vector<std::string> names;
    for (const FieldSpec& f : schema.fields) names.push_back(f.name);
    if (names != m.input_fields) {
      return Status::InvalidArgument("predict: stream '" + o.stream + "' has fields [" +
                                     JoinFieldList(names) + "] but model " + m.ref +
                                     " was trained on stream '" + m.trained_stream +
                                     "' with fields [" + JoinFieldList(m.input_fields) + "]");
    }
    // Enough history before `from` for the first windows (window, derives, fills).
    RecordQuery q;
    const int64_t lookback_us =
        static_cast<int64_t>(m.pipeline->LookbackSeconds() * 1e6) + 60000000;
    q.min_timestamp_us =
        o.from_us == std::numeric_limits<int64_t>::min() ? o.from_us : o.from_us - lookback_us;
    q.max_timestamp_us = o.to_us;
    q.device_id = o.device;
    // The readings, their processed rows and windows stay in memory together: stop with the
    // reason once they would pass the memory budget instead of growing until the machine swaps.
    const uint64_t budget = MemoryBudgetBytes(o.model_options);
    const uint64_t per_row =
        4 * static_cast<uint64_t>(m.pipeline->features() + m.pipeline->label_width() + 2) + 16;
    uint64_t bytes = 0;
    NEMESYST_ASSIGN_OR_RETURN(auto it, store.Read(o.stream, q));
    for (; it->Valid(); it->Next()) {
      const Record& r = it->record().record;
      bytes += sizeof(Record) + r.device_id.size() + 8 * r.values.size() + per_row;
      if (bytes > budget) {
        return Status::ResourceExhausted(
            "predict: the readings selected from stream '" + o.stream + "' (over " +
            std::to_string(records.size()) + " records) would take more than the memory budget " +
            "of " + FormatBytes(budget) +
            " (kernels.memory_budget_mb); narrow them with --from/--to or --device");
      }
      records.push_back(r);
    }
    NEMESYST_RETURN_IF_ERROR(it->status());
  } else {
    NEMESYST_ASSIGN_OR_RETURN(ReadingsFile file, ReadReadingsFile(o.input_path, *m.pipeline));
    records = std::move(file.records);
    labelled = file.labelled;
    if (!o.device.empty()) {
      std::erase_if(records, [&](const Record& r) { return r.device_id != o.device; });
    }
  }
  PredictJobResult result;
  result.model = m.ref;
  result.resolved_by = m.resolved_by;
  logger->Log(LogLevel::kInfo, "jobs.predict", "predicting",
              {{"model", m.ref},
               {"resolved_by", m.resolved_by},
               {"readings", std::to_string(records.size())},
               {"mode", o.streaming ? "streaming" : "windowed"}});
  // Readings before `from` only warm the state up: predictions start at `from`.
  const int64_t from = o.from_us;
  PredictionSink filtered = [&](const PredictionRow& row) -> Status {
    if (row.timestamp_us < from) return Status::OK();
    if (labelled) return sink(row);
    PredictionRow unlabelled = row;  // its label is the file's missing one's placeholder
    unlabelled.label_s.reset();
    return sink(unlabelled);
  };
  NEMESYST_RETURN_IF_ERROR(PredictRecords(m, std::move(records), o.streaming, filtered, &result));
  return result;
}

}  // namespace nemesyst
