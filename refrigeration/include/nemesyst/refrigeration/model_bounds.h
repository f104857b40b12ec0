// The lower bounds a rotating dispatch plans with, from a registered model: each case's readings
// become records of the simulator's schema, the model predicts at the current instant
// (PredictAt), and the calibrated lower bound (`lower_s`, nemesyst/lower_bound.h) is the bound.
// A case without a full window of contiguous readings gets no bound (NaN): it is not dispatched.
//
// Thread-safety: the source borrows `model` and `simulator`; call it from one thread at a time.
#ifndef NEMESYST_REFRIGERATION_MODEL_BOUNDS_H_
#define NEMESYST_REFRIGERATION_MODEL_BOUNDS_H_

#include "nemesyst/predict_job.h"
#include "nemesyst/refrigeration/rotation_replay.h"
#include "nemesyst/refrigeration/simulator.h"
#include "nemesyst/status.h"

namespace nemesyst::refrigeration {

// Only each case's last `max_readings` readings are passed to the model (a window longer than
// that gets no prediction). FailedPrecondition when the model carries no calibrated lower bound
// (trained without one).
Result<LowerBoundSource> ModelLowerBounds(LoadedModel& model, const FleetSimulator& simulator,
                                          size_t max_readings = 64);

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_MODEL_BOUNDS_H_
