// Running a regressor over every window a provider yields, in seconds: the shared core of
// validation (train job), evaluation (demo) and `nemesyst predict`.
//
// Thread-safety: uses the model and the provider exclusively for the call.
#ifndef NEMESYST_NODES_WINDOW_PREDICTIONS_H_
#define NEMESYST_NODES_WINDOW_PREDICTIONS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nemesyst/batch.h"
#include "nemesyst/status.h"
#include "nodes/model_box.h"

namespace nemesyst::nodes {

struct WindowPredictions {
  std::vector<std::string> device;
  std::vector<int64_t> end_us;
  std::vector<double> predicted_s;
  std::vector<double> truth_s;  // empty when the provider has no labels
  double seconds = 0;           // wall time of the model calls only
  int64_t case_steps = 0;       // windows × steps (for µs per case-step)
};

// `to_seconds` maps the model's (normalised) label 0 back to seconds. Predictions are clamped to
// [0, max_s] (the label's range). Rewinds the provider first.
Result<WindowPredictions> PredictWindows(ModelBox& model, BatchProvider& windows,
                                         const std::function<double(double)>& to_seconds,
                                         int batch_size = 256, double max_s = 3600);

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_WINDOW_PREDICTIONS_H_
