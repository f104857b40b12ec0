// PredictWindows (predict_job.h): a regressor over every window of a provider.
#include "nemesyst/predict_job.h"

#include <algorithm>
#include <chrono>

namespace nemesyst {

float WindowOutput(const Model& model, const std::vector<float>& y, size_t b) {
  // A per-step model predicts every step of a window: the window's prediction is its last
  // step's, the one at the window's end time (what streaming gives for that reading).
  const size_t width = static_cast<size_t>(model.label_width());
  return y[b * width + width - static_cast<size_t>(model.output_width())];
}

Result<WindowPredictions> PredictWindows(Model& model, BatchProvider& windows,
                                         const std::function<double(double)>& to_seconds,
                                         int batch_size, double max_s) {
  if (model.kind() != "regressor") {
    return Status::InvalidArgument("cannot predict safe off-times with a " +
                                   std::string(model.kind()) + " model (a regressor is needed)");
  }
  if (model.features() != windows.features() ||
      (model.steps() != 0 && model.steps() != windows.steps())) {
    return Status::InvalidArgument("the model expects windows of " + std::to_string(model.steps()) +
                                   " x " + std::to_string(model.features()) +
                                   " but the pipeline makes " + std::to_string(windows.steps()) +
                                   " x " + std::to_string(windows.features()));
  }
  NEMESYST_RETURN_IF_ERROR(windows.Rewind());
  WindowPredictions out;
  Batch batch;
  std::vector<float> y;

  while (true) {
    NEMESYST_ASSIGN_OR_RETURN(bool got, windows.Next(batch_size, &batch));
    if (!got) break;
    const auto t0 = std::chrono::steady_clock::now();
    NEMESYST_RETURN_IF_ERROR(model.Predict(batch, &y));
    out.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.case_steps += static_cast<int64_t>(batch.batch) * batch.steps;
    for (int b = 0; b < batch.batch; ++b) {
      out.device.push_back(batch.device[b]);
      out.end_us.push_back(batch.end_us[b]);
      out.predicted_s.push_back(
          std::clamp(to_seconds(WindowOutput(model, y, static_cast<size_t>(b))), 0.0, max_s));
      if (batch.label_width > 0) {
        // Clamped like the prediction: the label's range is [0, max_s], and the float32 round
        // trip through the normalised label puts a zero label at ±1e-4 s. Left unclamped, a
        // window whose truth is 0 and whose lower bound is clamped to 0 would count as a miss
        // of the lower bound about half the time (and as a negative off-time in the metrics).
        out.truth_s.push_back(std::clamp(
            to_seconds(batch.y[static_cast<size_t>(b) * batch.label_width]), 0.0, max_s));
      }
    }
  }
  return out;
}

}  // namespace nemesyst
