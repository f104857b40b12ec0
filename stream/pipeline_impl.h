// Pipeline::Impl and the window assembler shared by the dataset, streaming and group paths.
#ifndef NEMESYST_STREAM_PIPELINE_IMPL_H_
#define NEMESYST_STREAM_PIPELINE_IMPL_H_

#include <cmath>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "nemesyst/pipeline.h"
#include "stream/pipeline_runtime.h"
#include "stream/pipeline_spec.h"

namespace nemesyst {

class Pipeline::Impl {
 public:
  stream::CompiledPipeline compiled;
  bool needs_fit = false;  // has a normalise step or a time split

  const stream::PipelineSpec& spec() const { return compiled.spec; }
  bool fitted() const { return !needs_fit || compiled.spec.fitted; }
};

// The stream module's way into a Pipeline.
struct PipelineInternals {
  static const Pipeline::Impl& Of(const Pipeline& pipeline) { return *pipeline.impl_; }
};

namespace stream {

// Groups record indices by device (devices in first-appearance order), each sorted by time.
struct DeviceGroups {
  std::vector<std::string> devices;
  std::vector<std::vector<size_t>> indices;
};
DeviceGroups GroupByDevice(std::span<const Record> records);

// Appends the rows of one device to a WindowDataset's per-device arrays and records a window
// every `stride` contiguous rows once `steps + horizon` are available. Rows with a missing
// feature or label value break continuity and are not stored.
class WindowAssembler {
 public:
  WindowAssembler(const CompiledPipeline* pipeline, WindowDataset* dataset, uint32_t device);
  // Returns the index of the window this row completed (as its label row), or -1.
  long Add(const ProcessedRow& row);

 private:
  const CompiledPipeline* pipeline_;
  WindowDataset* dataset_;
  uint32_t device_;
  int64_t last_us_ = 0;
  bool has_last_ = false;
  int64_t segment_rows_ = 0;
};

// Returns a dataset shaped for `pipeline` with `devices` (rows empty).
std::shared_ptr<WindowDataset> EmptyDataset(const CompiledPipeline& pipeline);

}  // namespace stream
}  // namespace nemesyst

#endif  // NEMESYST_STREAM_PIPELINE_IMPL_H_
