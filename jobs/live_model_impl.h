// What predict_job.cc shares with live_model.cc: `nemesyst predict --streaming` runs the same
// state machine as a serving node, over readings given at once.
#ifndef NEMESYST_JOBS_LIVE_MODEL_IMPL_H_
#define NEMESYST_JOBS_LIVE_MODEL_IMPL_H_

#include <vector>

#include "nemesyst/live_model.h"

namespace nemesyst {

// Readings in time order (ties by device), the devices of one instant advancing together in one
// kernel call, through a LiveModel state borrowing `m` (see PredictRecords).
Status StreamRecords(LoadedModel& m, std::vector<Record> records, const PredictionSink& sink,
                     PredictJobResult* result, std::vector<PredictionRow>* first_after_restart);

}  // namespace nemesyst

#endif  // NEMESYST_JOBS_LIVE_MODEL_IMPL_H_
