// The record-level machinery of a pipeline: a spec compiled against its input fields (column
// indices resolved, references checked with key paths), and the per-device state machine that
// turns one reading into zero or more processed rows (filter, derive, fill, normalise). The batch
// path (datasets) and the streaming path (one reading at a time) run the same DeviceProcessor, so
// they produce identical feature vectors by construction.
//
// Thread-safety: CompiledPipeline is immutable once built; a DeviceProcessor belongs to one thread.
#ifndef NEMESYST_STREAM_PIPELINE_RUNTIME_H_
#define NEMESYST_STREAM_PIPELINE_RUNTIME_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/status.h"
#include "stream/pipeline_spec.h"

namespace nemesyst::stream {

// Parallel to spec.steps (copyable: no pointers into the spec).
struct CompiledStep {
  std::vector<int> columns;  // filter: predicate columns; normalise: fields; derive: [source]
  int target = -1;           // derive: column written
  std::vector<double> scale_a, scale_b;  // normalise: per listed column, v' = (v - a) * b
};

struct CompiledPipeline {
  PipelineSpec spec;
  std::vector<std::string> input_fields;
  std::vector<std::string> columns;  // input fields, then derived columns in step order
  std::vector<CompiledStep> steps;
  std::vector<int> feature_columns;
  std::vector<int> label_columns;
  int normalise_step = -1;  // index into steps, -1 when none
  int64_t interval_us = 60000000;
  int64_t gap_us = 90000000;  // consecutive rows further apart than this are not contiguous
};

// Checks every field reference of `spec` against `input_fields` (and derived names); errors name
// the key path. Normalisation statistics must be present when `spec.fitted`.
Result<CompiledPipeline> CompilePipeline(const PipelineSpec& spec,
                                         const std::vector<std::string>& input_fields);

// One processed row: its time, its values (one per compiled column) and whether continuity with
// the previous row of the device is broken (a gap too long to fill).
struct ProcessedRow {
  int64_t time_us = 0;
  bool break_before = false;
  std::vector<double> values;
};

class DeviceProcessor {
 public:
  // Processes the readings of `device` through steps [0, step_count) of `pipeline` (all when
  // step_count < 0). Keeps a pointer to `pipeline`.
  DeviceProcessor(const CompiledPipeline* pipeline, std::string device, int step_count = -1);

  // Processes one reading (values in input-field order, NaN = missing) and calls `emit` for each
  // row that comes out, in time order. Readings must come in increasing time; a reading at or
  // before the previous one is ignored (returns false).
  bool Push(int64_t time_us, const double* input,
            const std::function<void(const ProcessedRow&)>& emit);

 private:
  struct StepState {
    bool has_last = false;
    int64_t last_us = 0;
    double last_value = 0;
    std::deque<double> window;            // rolling derives
    int64_t last_defrost_us = INT64_MIN;  // since_defrost
    std::vector<double> last_row;         // fill
    std::vector<double> filled_s;         // fill: seconds each column has been forward-filled
  };
  void Apply(size_t index, ProcessedRow& row, std::vector<ProcessedRow>& out);

  const CompiledPipeline* pipeline_;
  std::string device_;
  size_t step_count_;
  std::vector<StepState> state_;
  std::vector<ProcessedRow> scratch_a_, scratch_b_;
  int64_t last_input_us_ = INT64_MIN;
};

// Deterministic split bucket of a key: 0 train, 1 validation, 2 test.
int SplitBucket(std::string_view key, const PipelineSpec& spec);
// The key a window's device is split by: the store part of "store-0003/case-07" (the text before
// the first '/', the whole id when there is none) for SplitBy::kStore, the device id otherwise.
std::string_view SplitKey(std::string_view device, SplitBy by);
// Bucket of a row/window of `device` at `time_us` under the (resolved) spec.
int SplitOf(std::string_view device, int64_t time_us, const PipelineSpec& spec);

}  // namespace nemesyst::stream

#endif  // NEMESYST_STREAM_PIPELINE_RUNTIME_H_
