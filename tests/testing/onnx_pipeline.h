// The pipeline the ONNX tests register imported models with: the simulator's four temperatures,
// z-scored with the label, so a model's output is a normalised safe off-time.
#ifndef NEMESYST_TESTS_TESTING_ONNX_PIPELINE_H_
#define NEMESYST_TESTS_TESTING_ONNX_PIPELINE_H_

#include <string>

namespace nemesyst::testing {

inline constexpr int kOnnxPipelineFeatures = 4;

inline std::string OnnxTestPipeline(int window_length) {
  return R"(stream = "fleet"
interval_s = 60
[[steps]]
op = "select"
fields = ["air_off_c", "product_c", "air_on_c", "ambient_c"]
[[steps]]
op = "normalise"
method = "zscore"
fields = ["air_off_c", "product_c", "air_on_c", "ambient_c", "safe_off_s"]
[window]
length = )" +
         std::to_string(window_length) +
         R"(
[label]
field = "safe_off_s"
[split]
by = "none"
)";
}

}  // namespace nemesyst::testing

#endif  // NEMESYST_TESTS_TESTING_ONNX_PIPELINE_H_
