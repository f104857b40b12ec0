// Evaluation on held-out stores: a registered model (through its own stored pipeline) and the
// baselines, on exactly the same (device, time) rows, with errors overall and by case type, the
// time each took to train and the inference cost per case-step.
//
// Thread-safety: one call at a time per model; the data are read-only.
#ifndef NEMESYST_REFRIGERATION_EVALUATION_H_
#define NEMESYST_REFRIGERATION_EVALUATION_H_

#include <map>
#include <string>
#include <vector>

#include "nemesyst/predict_job.h"
#include "nemesyst/status.h"
#include "nemesyst/store.h"
#include "refrigeration/baselines.h"
#include "refrigeration/case_samples.h"
#include "refrigeration/report_writer.h"

namespace nemesyst::refrigeration {

struct HeldOutData {
  DeviceReadings readings;                        // every reading of the held-out devices
  std::vector<Record> records;                    // the same, as records (for pipelines)
  std::map<std::string, std::string> case_types;  // device -> case type name
};

// Loads the devices of `stores` (prefixes "store-0003") from `stream`.
Result<HeldOutData> LoadHeldOut(const Store& store, const std::string& stream,
                                const std::vector<std::string>& stores);

// Runs the model `model_ref` over the held-out windows of its pipeline's test split
// (`split_test_only`) or of every window (false), on the backend and threads of `options`. `raw`
// receives the per-window predictions.
Result<EvaluatedPredictor> EvaluateModel(const Store& store, const std::string& model_ref,
                                         const HeldOutData& held_out, bool split_test_only,
                                         WindowPredictions* raw, const ModelOptions& options = {});

// Fits each baseline on `train_rows` and evaluates it on the held-out rows at the (device, time)
// keys of `rows` (the windows a model was evaluated on).
Result<std::vector<EvaluatedPredictor>> EvaluateBaselines(const std::vector<CaseSample>& train_rows,
                                                          const HeldOutData& held_out,
                                                          const WindowPredictions& rows,
                                                          const BaselineOptions& options = {});

// Fills `p` with the error statistics of predicted against truth, overall and by case type.
Status FillErrors(const std::vector<std::string>& device, const std::vector<double>& truth,
                  const std::vector<double>& predicted,
                  const std::map<std::string, std::string>& case_types, EvaluatedPredictor* p);

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_EVALUATION_H_
