#include "refrigeration/evaluation.h"

#include <chrono>

#include "nemesyst/model.h"
#include "nemesyst/pipeline.h"
#include "nemesyst/predict_job.h"
#include "nemesyst/store.h"
#include "refrigeration/elapsed.h"

namespace nemesyst::refrigeration {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

Status FillErrors(const std::vector<std::string>& device, const std::vector<double>& truth,
                  const std::vector<double>& predicted,
                  const std::map<std::string, std::string>& case_types, EvaluatedPredictor* p) {
  NEMESYST_ASSIGN_OR_RETURN(p->overall, ComputeErrorStats(truth, predicted));
  std::vector<std::string> groups;
  groups.reserve(device.size());
  for (const std::string& d : device) {
    auto it = case_types.find(d);
    groups.push_back(it == case_types.end() ? "unknown" : it->second);
  }
  NEMESYST_ASSIGN_OR_RETURN(p->by_case_type, ComputeErrorStatsByGroup(truth, predicted, groups));
  p->truth_s = truth;
  p->predicted_s = predicted;
  return Status::OK();
}

Result<HeldOutData> LoadHeldOut(const Store& store, const std::string& stream,
                                const std::vector<std::string>& stores) {
  HeldOutData out;
  auto keep = [&stores](const std::string& device) {
    for (const std::string& s : stores) {
      if (device.size() > s.size() && device.compare(0, s.size(), s) == 0 &&
          device[s.size()] == '/') {
        return true;
      }
    }
    return false;
  };
  NEMESYST_ASSIGN_OR_RETURN(out.readings, LoadDeviceReadings(store, stream, {}, keep));
  if (out.readings.devices.empty()) {
    return Status::NotFound("no readings of the held-out stores in stream '" + stream + "'");
  }
  out.records = ToRecords(out.readings);
  out.case_types = CaseTypesOf(out.readings);
  return out;
}

Result<EvaluatedPredictor> EvaluateModel(const Store& store, const std::string& model_ref,
                                         const HeldOutData& held_out, bool split_test_only,
                                         WindowPredictions* raw, const ModelOptions& options) {
  NEMESYST_ASSIGN_OR_RETURN(LoadedModel loaded, LoadModelForPrediction(store, model_ref, options));
  NEMESYST_ASSIGN_OR_RETURN(ResolvedModel resolved, store.ResolveModel(loaded.ref));
  NEMESYST_ASSIGN_OR_RETURN(ModelInfo info, store.GetModelInfo(resolved.name, resolved.version));
  Model* model = loaded.model.get();
  const Pipeline* pipeline = loaded.pipeline.get();
  NEMESYST_ASSIGN_OR_RETURN(auto data, pipeline->Apply(held_out.records));
  DatasetProviderOptions o;
  o.split = split_test_only ? DataSplit::kTest : DataSplit::kAll;
  o.shuffle = false;
  NEMESYST_ASSIGN_OR_RETURN(auto provider, MakeDatasetProvider(data, o));
  NEMESYST_ASSIGN_OR_RETURN(WindowPredictions p, PredictWindows(*model, *provider, [&](double v) {
                              return pipeline->LabelToOriginal(0, v);
                            }));
  if (p.predicted_s.empty()) {
    return Status::FailedPrecondition("model " + model_ref + ": no held-out windows to evaluate");
  }
  EvaluatedPredictor e;
  e.name = resolved.name;
  e.version = resolved.name + "@" + std::to_string(resolved.version);
  NEMESYST_RETURN_IF_ERROR(FillErrors(p.device, p.truth_s, p.predicted_s, held_out.case_types, &e));
  e.infer_us_per_case_step = p.case_steps > 0 ? p.seconds * 1e6 / p.case_steps : 0;
  auto ts = info.metadata.metrics.find("train_seconds");
  e.train_seconds = ts == info.metadata.metrics.end() ? 0 : ts->second;
  for (const EpochMetrics& em : info.metadata.epoch_metrics) {
    auto loss = em.metrics.find("train_loss");
    e.train_loss.push_back(loss == em.metrics.end() ? 0 : loss->second);
  }
  if (raw != nullptr) *raw = std::move(p);
  return e;
}

Result<std::vector<EvaluatedPredictor>> EvaluateBaselines(const std::vector<CaseSample>& train_rows,
                                                          const HeldOutData& held_out,
                                                          const WindowPredictions& rows,
                                                          const BaselineOptions& options) {
  std::vector<CaseSample> eval;
  eval.reserve(rows.device.size());
  for (size_t i = 0; i < rows.device.size(); ++i) {
    NEMESYST_ASSIGN_OR_RETURN(CaseSample s,
                              BaselineRowAt(held_out.readings, rows.device[i], rows.end_us[i]));
    eval.push_back(std::move(s));
  }
  std::vector<double> truth;
  truth.reserve(eval.size());
  for (size_t i = 0; i < eval.size(); ++i) {
    truth.push_back(i < rows.truth_s.size() ? rows.truth_s[i] : eval[i].label_s);
  }
  std::vector<EvaluatedPredictor> out;
  for (auto& baseline : MakeAllBaselines(options)) {
    EvaluatedPredictor e;
    e.name = baseline->name();
    auto t0 = Clock::now();
    NEMESYST_RETURN_IF_ERROR(baseline->Fit(train_rows));
    e.train_seconds = SecondsSince(t0);
    std::vector<double> predicted(eval.size());
    t0 = Clock::now();
    for (size_t i = 0; i < eval.size(); ++i) predicted[i] = baseline->Predict(eval[i]);
    const double seconds = SecondsSince(t0);
    e.infer_us_per_case_step = eval.empty() ? 0 : seconds * 1e6 / eval.size();
    NEMESYST_RETURN_IF_ERROR(FillErrors(rows.device, truth, predicted, held_out.case_types, &e));
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace nemesyst::refrigeration
