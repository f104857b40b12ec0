// `nemesyst predict`: a registered model applied to readings, with the pipeline it was trained
// through (the resolved spec stored with the model: same fills, derives and normalisation
// statistics), producing safe off-time predictions in seconds.
//
// Inputs: a store stream (optionally a time range or one device), or a CSV / JSON-lines file of
// readings with the stream's fields (validated by the same ingest code as `nemesyst ingest`, into a
// scratch store that is deleted afterwards).
//
// Modes:
//  - windowed (default): one prediction per window the pipeline makes (its stride), the model
//    run on the whole window;
//  - streaming: every reading advances its device's recurrent state by one step (the streaming
//    kernels: one step per reading, not a window); a gap or an incomplete reading restarts the
//    device. A prediction is written for every reading once its device has a full window of
//    history since the last restart. The k-th reading after a restart (k = window length) gives
//    exactly the windowed prediction of that window; after that the state carries longer
//    history than a window, as a live store server's does.
//
// Thread-safety: one job per call; the store may be shared.
#ifndef NEMESYST_PREDICT_JOB_H_
#define NEMESYST_PREDICT_JOB_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "nemesyst/batch.h"
#include "nemesyst/export.h"
#include "nemesyst/logger.h"
#include "nemesyst/lower_bound.h"
#include "nemesyst/model.h"
#include "nemesyst/pipeline.h"
#include "nemesyst/predictions.h"
#include "nemesyst/status.h"
#include "nemesyst/store.h"

namespace nemesyst {

struct PredictJobOptions {
  std::string model;       // name | name@version | name:alias
  std::string stream;      // read this store stream ... (empty with input_path set)
  std::string input_path;  // ... or this CSV / JSON-lines file of readings
  int64_t from_us = std::numeric_limits<int64_t>::min();  // inclusive
  int64_t to_us = std::numeric_limits<int64_t>::max();    // inclusive
  std::string device;                                     // only this device (empty: all)
  bool streaming = false;
  ModelOptions model_options;  // backend and kernel threads the model runs with
  Logger* logger = nullptr;
};

struct PredictJobResult {
  std::string model;  // "lstm@3"
  std::string resolved_by;
  uint64_t readings = 0;
  uint64_t predictions = 0;
  double model_seconds = 0;  // time inside the model (µs per case-step = this / case_steps)
  int64_t case_steps = 0;
};

// ---- Windows from a provider
// ---------------------------------------------------------------------- A regressor over every
// window a provider yields, in seconds: the shared core of validation (train job), evaluation (the
// case study) and windowed `nemesyst predict`. Uses the model and the provider exclusively for the
// call.

struct WindowPredictions {
  std::vector<std::string> device;
  std::vector<int64_t> end_us;
  std::vector<double> predicted_s;
  std::vector<double> truth_s;  // empty when the provider has no labels
  double seconds = 0;           // wall time of the model calls only
  int64_t case_steps = 0;       // windows × steps (for µs per case-step)
};

// Predictions are clamped to [0, kMaxPredictionS]: the safe off-time label is capped at an hour.
inline constexpr double kMaxPredictionS = 3600;

// The window prediction of regressor output `y` for window `b`: its first output, or for a
// per-step (many-to-many) model its last step's first output (the step at the window's end).
NEMESYST_EXPORT float WindowOutput(const Model& model, const std::vector<float>& y, size_t b);

// `to_seconds` maps the model's (normalised) label 0 back to seconds. Predictions are clamped to
// [0, max_s] (the label's range), and so are the truths (the float32 label round trip would
// otherwise make a zero label slightly negative). Rewinds the provider first.
NEMESYST_EXPORT Result<WindowPredictions> PredictWindows(
    Model& model, BatchProvider& windows, const std::function<double(double)>& to_seconds,
    int batch_size = 256, double max_s = kMaxPredictionS);

using PredictionSink = std::function<Status(const PredictionRow& row)>;

// A registered model ready to predict: the model and the pipeline it was trained through.
struct LoadedModel {
  std::string ref;          // "lstm@3"
  std::string resolved_by;  // "alias production"
  std::unique_ptr<Model> model;
  std::unique_ptr<Pipeline> pipeline;
  std::vector<std::string> input_fields;
  std::string trained_stream;
  // The calibrated lower bound the model file carries (metadata "lower_bound"; none for files
  // trained without one), and the index of its group field in input_fields (-1: pooled only).
  std::optional<LowerBoundCalibration> lower;
  int lower_group_index = -1;
};

// The lower bound of `prediction_s` for a window whose last reading is `last` (values in
// input_fields order; null: the pooled margin): what fills PredictionRow::lower_s everywhere
// (windowed, streaming, PredictAt, LiveModel). nullopt when the model has no calibration.
std::optional<double> LowerBoundOf(const LoadedModel& model, double prediction_s,
                                   const Record* last);

// `nemesyst model import`: registers model-file bytes as a new version of `name` after checking
// them the way LoadModelForPrediction will load them — nothing is written otherwise: the whole
// file (checksum, format, spec, every weight tensor) and the metadata predict needs ("pipeline"
// and "input_fields", the pipeline bound to those fields). An empty metadata.kind is taken from
// the spec (Model::family). Errors (InvalidArgument / Corruption / FailedPrecondition) say what
// is wrong with the file.
NEMESYST_EXPORT Result<uint32_t> ImportModel(Store& store, std::string_view name,
                                             std::string_view blob, ModelMetadata metadata);

// The same from the bytes of a registered version (e.g. read from a registry replica by another
// thread): `resolved` names it in errors and in the LoadedModel.
NEMESYST_EXPORT Result<LoadedModel> LoadModelFromBlob(std::string_view blob,
                                                      const ResolvedModel& resolved,
                                                      const ModelOptions& options = {});
NEMESYST_EXPORT Result<LoadedModel> LoadModelForPrediction(const Store& store,
                                                           const std::string& model_ref,
                                                           const ModelOptions& options = {});

// Predictions over in-memory readings (any order), windowed or streaming (see the top of this
// file). In streaming mode, `first_after_restart` (optional) receives the predictions made at
// exactly a full window after a restart — the ones that must equal the windowed predictions.
NEMESYST_EXPORT Status PredictRecords(LoadedModel& model, std::vector<Record> records,
                                      bool streaming, const PredictionSink& sink,
                                      PredictJobResult* result,
                                      std::vector<PredictionRow>* first_after_restart = nullptr);

// One prediction per device at exactly `at_us` (devices without a reading at that instant, or
// without a full window of contiguous history before it, are skipped). Labels are filled when
// the readings carry them; lower_s when the model carries a calibration (its group is the group
// field's value in the reading at `at_us`).
NEMESYST_EXPORT Result<std::vector<PredictionRow>> PredictAt(LoadedModel& model,
                                                             std::vector<Record> records,
                                                             int64_t at_us);

// Model files record their input fields as "a,b,c" (metadata key "input_fields").
NEMESYST_EXPORT std::vector<std::string> SplitFieldList(const std::string& text);
NEMESYST_EXPORT std::string JoinFieldList(const std::vector<std::string>& fields);

NEMESYST_EXPORT Result<PredictJobResult> RunPredictJob(const Store& store,
                                                       const PredictJobOptions& options,
                                                       const PredictionSink& sink);

}  // namespace nemesyst

#endif  // NEMESYST_PREDICT_JOB_H_
