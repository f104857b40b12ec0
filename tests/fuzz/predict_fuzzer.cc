// libFuzzer harness: a serving node's predict request as it arrives on the predict endpoint —
// frames [JSON, optional data frame] (fuzz_input.h) — parsed as the serving thread parses it:
// the JSON, then a window in either form (nodes/window_request.h) against a model's fields.
// Invariant: a decoded binary window has exactly the rows the frame holds, each with every field.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "nodes/window_request.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nemesyst;
  static const std::vector<std::string> fields = {"air_c", "setpoint_c", "door"};
  const auto frames = fuzz::SplitFrames(data, size);
  if (frames.empty()) return 0;
  const std::string_view rows = frames.size() > 1 ? frames[1] : std::string_view();
  nlohmann::json j = nlohmann::json::parse(frames[0], nullptr, false);
  if (!j.is_object() || !j.contains("window")) return 0;
  auto window = nodes::DecodeWindow(j["window"], rows, fields);
  if (!window.ok()) return 0;
  for (const Record& r : *window) NEMESYST_FUZZ_CHECK(r.values.size() == fields.size());
  if (j["window"].contains("fields")) NEMESYST_FUZZ_CHECK(window->size() * 32 == rows.size());
  return 0;
}
