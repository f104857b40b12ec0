// A registered model kept live over a stream: every new reading advances its device's recurrent
// state by one step (the streaming kernels) and yields a prediction once the device has a full
// window of history since its last restart. What a store node serves (docs/serving.md) and what
// `nemesyst predict --streaming` runs over stored readings.
//
//   auto live = LiveModel::Create(LoadModelForPrediction(registry, "lstm:production").value());
//   live->Rebuild(store, "fleet");                 // state from the stream's last window
//   live->Observe(new_readings, &predictions);     // per reading, batched across devices
//   const PredictionRow* p = live->Latest("store-0001/case-03");
//
// State is the pipeline's streaming featurizer (fills, derives, normalisation, gap detection) and
// the model's StreamingPredictor. It belongs to one model version: the hidden state of one set of
// weights means nothing to another, so a new version gets its state by Rebuild, replaying the
// readings of the last LookbackSeconds() — the history a window needs — not by copying.
//
// Thread-safety: one thread at a time (the serving thread); a LiveModel owns its model.
#ifndef NEMESYST_LIVE_MODEL_H_
#define NEMESYST_LIVE_MODEL_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/export.h"
#include "nemesyst/predict_job.h"
#include "nemesyst/predictions.h"
#include "nemesyst/status.h"
#include "nemesyst/store.h"

namespace nemesyst {

class NEMESYST_EXPORT LiveModel {
 public:
  // A regressor with its pipeline (InvalidArgument for a GAN).
  static Result<std::unique_ptr<LiveModel>> Create(LoadedModel model);
  ~LiveModel();
  LiveModel(const LiveModel&) = delete;
  LiveModel& operator=(const LiveModel&) = delete;

  // Advances each record's device by that reading (values in the pipeline's input-field order;
  // each device's readings in time order — an older reading is ignored). Devices are batched
  // into one kernel call until one repeats. For every reading whose device has a full window of
  // history since its last restart, a prediction is appended to `out` (may be null) and becomes
  // the device's Latest. `first_after_restart` (optional) receives the predictions made exactly a
  // full window after a restart — the ones equal to the windowed prediction of that window.
  // On error the state of the devices not yet advanced is unchanged.
  Status Observe(std::span<const Record> records, std::vector<PredictionRow>* out,
                 std::vector<PredictionRow>* first_after_restart = nullptr);

  // Fresh state from `stream`'s readings of the last LookbackSeconds() before its newest reading,
  // through its newest record (returned: the caller replays what came after with Observe).
  // Devices with a full window get a Latest prediction. Readings must have the model's fields.
  Result<uint64_t> Rebuild(const Store& store, std::string_view stream);

  // The device's newest prediction, or null (unknown device, or not a full window yet).
  const PredictionRow* Latest(std::string_view device) const;
  // Every device's newest prediction, by device id.
  std::vector<PredictionRow> LatestAll() const;
  size_t device_count() const;

  // The windowed prediction at the newest of `readings` (one device, any order), the model run on
  // the window ending there; live state is not touched. InvalidArgument when the readings do not
  // make a full contiguous window.
  Result<PredictionRow> PredictWindow(std::vector<Record> readings);

  const std::string& ref() const;  // "lstm@3"
  const LoadedModel& loaded() const;
  // Time inside the model's kernels and device-steps taken, since creation.
  double model_seconds() const;
  int64_t case_steps() const;

  class Impl;

 private:
  explicit LiveModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nemesyst

#endif  // NEMESYST_LIVE_MODEL_H_
