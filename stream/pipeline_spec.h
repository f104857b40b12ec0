// The pipeline spec: what a consumer declares (TOML or JSON, docs/pipelines.md) and, once fitted,
// the statistics and cut times it resolved. One struct for both, so the resolved pipeline is just
// a spec with its `resolved` parts filled, serialised as JSON.
//
// Thread-safety: plain values.
#ifndef NEMESYST_STREAM_PIPELINE_SPEC_H_
#define NEMESYST_STREAM_PIPELINE_SPEC_H_

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/status.h"

namespace nemesyst::stream {

inline constexpr int kPipelineFormatVersion = 1;

enum class StepOp { kFilter, kSelect, kDerive, kFill, kNormalise };
enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };
enum class DeriveKind {
  kDifference,   // v[t] - v[t-1]
  kRate,         // (v[t] - v[t-1]) / seconds between them
  kRollingMean,  // over the last k samples (this one included)
  kRollingMin,
  kRollingMax,
  kTimeOfDay,     // hours since midnight UTC, or its sin/cos on the 24 h circle
  kSinceDefrost,  // seconds since `field` was last > 0.5, capped at max_s
};
enum class NormaliseMethod { kZScore, kMinMax };
enum class SplitBy { kNone, kStore, kDevice, kTime };

struct Predicate {
  std::string field;
  CompareOp op = CompareOp::kEq;
  double value = 0;
};

struct FieldStats {
  std::string field;
  double a = 0;  // zscore: mean; minmax: min
  double b = 1;  // zscore: std;  minmax: max
};

struct PipelineStep {
  StepOp op = StepOp::kFilter;
  // filter
  std::vector<Predicate> where;
  std::vector<std::string> device_prefixes;               // keep devices starting with any of these
  int64_t from_us = std::numeric_limits<int64_t>::min();  // inclusive
  int64_t to_us = std::numeric_limits<int64_t>::max();    // exclusive
  // select / normalise
  std::vector<std::string> fields;
  // derive
  std::string name;
  DeriveKind kind = DeriveKind::kDifference;
  std::string field;
  int k = 1;
  std::string encoding = "hours";  // time_of_day: hours | sin | cos
  double max_s = 43200;            // since_defrost cap
  // fill
  double max_gap_s = 0;
  // normalise
  NormaliseMethod method = NormaliseMethod::kZScore;
  std::vector<FieldStats> stats;  // resolved by Fit; empty until then
};

struct PipelineSpec {
  std::string stream;      // source stream in a store (optional for in-memory use)
  double interval_s = 60;  // nominal sampling interval: consecutive readings further apart = a gap
  std::vector<PipelineStep> steps;
  int window_length = 1;
  int window_stride = 1;
  int window_horizon = 0;  // the label is read this many samples after the window end
  std::vector<std::string> label_fields;  // empty = unlabelled windows
  SplitBy split_by = SplitBy::kNone;
  double train = 1, validation = 0, test = 0;
  uint64_t split_seed = 0;
  // Resolved (time split): windows whose label time is < train_until_us are train, then
  // validation up to validation_until_us, then test.
  int64_t train_until_us = 0, validation_until_us = 0;
  bool fitted = false;
};

// Parses TOML or JSON (auto-detected: JSON starts with '{'). Errors name the key path
// ("steps[2].k: must be an integer >= 1").
Result<PipelineSpec> ParsePipelineSpec(std::string_view text);
// The spec, with its resolved statistics and cut times, as canonical JSON.
std::string SerializePipelineSpec(const PipelineSpec& spec);

}  // namespace nemesyst::stream

#endif  // NEMESYST_STREAM_PIPELINE_SPEC_H_
