#include "nemesyst/refrigeration/dispatch.h"

#include <nlohmann/json.hpp>
#include <type_traits>

#include "common/json_number.h"
#include "common/read_file.h"
#include "nemesyst/store.h"
#include "refrigeration/case_samples.h"

namespace nemesyst::refrigeration {

Result<SimulatorOptions> ReadFleetFile(const std::string& path) {
  NEMESYST_ASSIGN_OR_RETURN(const std::string text, ReadWholeFile(path, "fleet file"));
  SimulatorOptions o;
  try {
    const auto j = nlohmann::json::parse(text);
    auto get = [&](const char* key, auto* out) -> Status {
      if (!j.contains(key)) return Status::InvalidArgument(path + ": missing key '" + key + "'");
      if (!j[key].is_number())
        return Status::InvalidArgument(path + ": '" + key + "' must be a number");
      // An integer field: a fraction or out of range is an error, not undefined behaviour.
      *out = JsonValue<std::remove_pointer_t<decltype(out)>>(j[key]);
      return Status::OK();
    };
    NEMESYST_RETURN_IF_ERROR(get("seed", &o.seed));
    NEMESYST_RETURN_IF_ERROR(get("stores", &o.stores));
    NEMESYST_RETURN_IF_ERROR(get("cases_per_store", &o.cases_per_store));
    NEMESYST_RETURN_IF_ERROR(get("days", &o.days));
    NEMESYST_RETURN_IF_ERROR(get("start_us", &o.start_us));
    NEMESYST_RETURN_IF_ERROR(get("interval_s", &o.interval_s));
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(path + ": " + e.what());
  }
  NEMESYST_RETURN_IF_ERROR(o.Validate().WithContext(path));
  return o;
}

Result<double> DispatchMarginFor(const Store& store, const std::string& model_ref, double asked_s) {
  NEMESYST_ASSIGN_OR_RETURN(ResolvedModel m, store.ResolveModel(model_ref));
  NEMESYST_ASSIGN_OR_RETURN(ModelInfo info, store.GetModelInfo(m.name, m.version));
  auto it = info.metadata.metrics.find("val_overpredict_p99_s");
  return it == info.metadata.metrics.end() ? asked_s : std::max(asked_s, it->second);
}

Result<DispatchJobResult> RunDispatchJob(const Store& store, const DispatchJobOptions& options) {
  DispatchJobOptions o = options;
  if (!o.model.empty()) {
    NEMESYST_ASSIGN_OR_RETURN(o.request.margin_s,
                              DispatchMarginFor(store, o.model, o.request.margin_s));
  }
  NEMESYST_ASSIGN_OR_RETURN(std::vector<PredictionRow> rows,
                            ReadPredictionsFile(o.predictions_path));
  std::vector<PredictionRow> latest = LatestPerDevice(rows);
  if (latest.empty()) {
    return Status::InvalidArgument("dispatch: " + o.predictions_path + " has no predictions");
  }
  DispatchJobResult result;
  for (const PredictionRow& r : latest) result.event_us = std::max(result.event_us, r.timestamp_us);
  // Each case's recent load, from the stream (see SheddableKw).
  RecordQuery q;
  q.min_timestamp_us = result.event_us - static_cast<int64_t>(o.power_window_s * 1e6);
  q.max_timestamp_us = result.event_us;
  NEMESYST_ASSIGN_OR_RETURN(DeviceReadings readings, LoadDeviceReadings(store, o.power_stream, q));
  std::vector<DispatchCandidate> candidates;
  for (const PredictionRow& r : latest) {
    auto it = readings.devices.find(r.device);
    if (it == readings.devices.end()) continue;  // no recent reading: not dispatchable
    candidates.push_back(
        {r.device, r.prediction_s,
         SheddableKw(readings, it->second, q.min_timestamp_us, q.max_timestamp_us)});
  }
  if (candidates.empty()) {
    return Status::NotFound("dispatch: no case of the predictions has readings in stream '" +
                            o.power_stream + "' in the hour before the event");
  }
  NEMESYST_ASSIGN_OR_RETURN(result.plan, SelectCasesToShed(o.request, candidates));
  if (o.replay) {
    if (o.fleet_path.empty()) return Status::InvalidArgument("dispatch --replay needs --fleet");
    NEMESYST_ASSIGN_OR_RETURN(SimulatorOptions so, ReadFleetFile(o.fleet_path));
    NEMESYST_ASSIGN_OR_RETURN(auto sim, FleetSimulator::Create(so));
    NEMESYST_ASSIGN_OR_RETURN(
        DispatchReplay replay,
        ReplayDispatch(*sim, result.plan, result.event_us, {o.timeline_slots}));
    result.replay = std::move(replay);
  }
  return result;
}

}  // namespace nemesyst::refrigeration
