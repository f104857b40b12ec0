// Pipeline: create (parse + bind), fit, serialise, apply to records.
#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "nemesyst/pipeline.h"
#include "nemesyst/store.h"
#include "stream/pipeline_impl.h"

namespace nemesyst {

using stream::CompiledPipeline;
using stream::DeviceProcessor;
using stream::ProcessedRow;

std::string_view DataSplitName(DataSplit split) {
  switch (split) {
    case DataSplit::kTrain:
      return "train";
    case DataSplit::kValidation:
      return "validation";
    case DataSplit::kTest:
      return "test";
    case DataSplit::kAll:
      return "all";
  }
  return "?";
}

size_t WindowDataset::Count(DataSplit split) const {
  if (split == DataSplit::kAll) return windows.size();
  size_t n = 0;
  for (const WindowRef& w : windows) n += w.split == static_cast<uint8_t>(split);
  return n;
}

void WindowDataset::CopyWindow(const WindowRef& w, float* x, float* y) const {
  const DeviceRows& r = rows[w.device];
  const size_t first = w.last_row + 1 - static_cast<size_t>(steps);
  std::copy_n(r.x.data() + first * features, static_cast<size_t>(steps) * features, x);
  if (label_width > 0) {
    std::copy_n(r.y.data() + (static_cast<size_t>(w.last_row) + horizon) * label_width, label_width,
                y);
  }
}

namespace stream {

DeviceGroups GroupByDevice(std::span<const Record> records) {
  DeviceGroups groups;
  std::unordered_map<std::string_view, size_t> index;
  for (size_t i = 0; i < records.size(); ++i) {
    auto [it, inserted] = index.try_emplace(records[i].device_id, groups.devices.size());
    if (inserted) {
      groups.devices.push_back(records[i].device_id);
      groups.indices.emplace_back();
    }
    groups.indices[it->second].push_back(i);
  }
  for (auto& list : groups.indices) {
    std::stable_sort(list.begin(), list.end(), [&](size_t a, size_t b) {
      return records[a].timestamp_us < records[b].timestamp_us;
    });
  }
  return groups;
}

std::shared_ptr<WindowDataset> EmptyDataset(const CompiledPipeline& pipeline) {
  auto data = std::make_shared<WindowDataset>();
  data->steps = pipeline.spec.window_length;
  data->features = static_cast<int>(pipeline.feature_columns.size());
  data->label_width = static_cast<int>(pipeline.label_columns.size());
  data->horizon = pipeline.spec.window_horizon;
  return data;
}

WindowAssembler::WindowAssembler(const CompiledPipeline* pipeline, WindowDataset* dataset,
                                 uint32_t device)
    : pipeline_(pipeline), dataset_(dataset), device_(device) {}

long WindowAssembler::Add(const ProcessedRow& row) {
  bool complete = true;
  for (int c : pipeline_->feature_columns) complete = complete && !std::isnan(row.values[c]);
  for (int c : pipeline_->label_columns) complete = complete && !std::isnan(row.values[c]);
  const bool contiguous =
      has_last_ && !row.break_before && row.time_us - last_us_ <= pipeline_->gap_us;
  if (!contiguous || !complete) segment_rows_ = 0;
  has_last_ = complete;
  last_us_ = row.time_us;
  if (!complete) return -1;
  WindowDataset::DeviceRows& rows = dataset_->rows[device_];
  for (int c : pipeline_->feature_columns) rows.x.push_back(static_cast<float>(row.values[c]));
  for (int c : pipeline_->label_columns) rows.y.push_back(static_cast<float>(row.values[c]));
  rows.time_us.push_back(row.time_us);
  ++segment_rows_;
  const int64_t span = pipeline_->spec.window_length + pipeline_->spec.window_horizon;
  // The stride is aligned to the sampling grid (not to where reading started), so a reader that
  // starts anywhere with enough history (a consumer-group claim) finds the same windows.
  const int64_t slot = (row.time_us + pipeline_->interval_us / 2) / pipeline_->interval_us;
  if (segment_rows_ < span || slot % pipeline_->spec.window_stride != 0) return -1;
  WindowDataset::WindowRef ref;
  ref.device = device_;
  ref.last_row = static_cast<uint32_t>(rows.time_us.size() - 1 - pipeline_->spec.window_horizon);
  ref.split = static_cast<uint8_t>(
      SplitOf(dataset_->devices[device_], rows.time_us[ref.last_row], pipeline_->spec));
  dataset_->windows.push_back(ref);
  return static_cast<long>(dataset_->windows.size() - 1);
}

}  // namespace stream

Pipeline::Pipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Pipeline::~Pipeline() = default;

Result<std::unique_ptr<Pipeline>> Pipeline::Create(std::string_view spec_text,
                                                   std::vector<std::string> input_fields) {
  if (input_fields.empty()) return Status::InvalidArgument("pipeline: no input fields");
  NEMESYST_ASSIGN_OR_RETURN(stream::PipelineSpec spec, stream::ParsePipelineSpec(spec_text));
  auto impl = std::make_unique<Impl>();
  NEMESYST_ASSIGN_OR_RETURN(impl->compiled, stream::CompilePipeline(spec, input_fields));
  impl->needs_fit = impl->compiled.normalise_step >= 0 || spec.split_by == stream::SplitBy::kTime;
  return std::unique_ptr<Pipeline>(new Pipeline(std::move(impl)));
}

Result<std::unique_ptr<Pipeline>> Pipeline::CreateForStream(std::string_view spec_text,
                                                            const Store& store,
                                                            std::string_view stream_name) {
  NEMESYST_ASSIGN_OR_RETURN(stream::PipelineSpec spec, stream::ParsePipelineSpec(spec_text));
  std::string name = stream_name.empty() ? spec.stream : std::string(stream_name);
  if (name.empty()) return Status::InvalidArgument("pipeline spec: stream: no stream named");
  NEMESYST_ASSIGN_OR_RETURN(StreamSchema schema, store.GetSchema(name));
  std::vector<std::string> fields;
  for (const FieldSpec& f : schema.fields) fields.push_back(f.name);
  spec.stream = name;
  NEMESYST_ASSIGN_OR_RETURN(auto pipeline, Create(stream::SerializePipelineSpec(spec), fields));
  return pipeline;
}

bool Pipeline::fitted() const { return impl_->fitted(); }
int Pipeline::steps() const { return impl_->spec().window_length; }
int Pipeline::features() const { return static_cast<int>(impl_->compiled.feature_columns.size()); }
int Pipeline::label_width() const { return static_cast<int>(impl_->compiled.label_columns.size()); }
int Pipeline::horizon() const { return impl_->spec().window_horizon; }
const std::string& Pipeline::stream() const { return impl_->spec().stream; }
const std::vector<std::string>& Pipeline::input_fields() const {
  return impl_->compiled.input_fields;
}
std::vector<std::string> Pipeline::feature_names() const {
  std::vector<std::string> names;
  for (int c : impl_->compiled.feature_columns) names.push_back(impl_->compiled.columns[c]);
  return names;
}
std::vector<std::string> Pipeline::label_names() const { return impl_->spec().label_fields; }

std::string Pipeline::Serialize() const { return stream::SerializePipelineSpec(impl_->spec()); }

double Pipeline::LabelToOriginal(int index, double value) const {
  const CompiledPipeline& c = impl_->compiled;
  if (c.normalise_step < 0 || index < 0 || index >= static_cast<int>(c.label_columns.size())) {
    return value;
  }
  const stream::CompiledStep& cs = c.steps[c.normalise_step];
  for (size_t f = 0; f < cs.columns.size(); ++f) {
    if (cs.columns[f] == c.label_columns[index]) return value / cs.scale_b[f] + cs.scale_a[f];
  }
  return value;
}

DataSplit HashSplitOf(std::string_view key, double train, double validation, double test,
                      uint64_t seed) {
  stream::PipelineSpec spec;
  spec.train = train;
  spec.validation = validation;
  spec.test = test;
  spec.split_seed = seed;
  return static_cast<DataSplit>(stream::SplitBucket(key, spec));
}

Result<std::string> Pipeline::StreamNamedBy(std::string_view spec_text) {
  NEMESYST_ASSIGN_OR_RETURN(stream::PipelineSpec spec, stream::ParsePipelineSpec(spec_text));
  return spec.stream;
}

DataSplit Pipeline::SplitOf(std::string_view device, int64_t end_us) const {
  return static_cast<DataSplit>(stream::SplitOf(device, end_us, impl_->spec()));
}

double Pipeline::LookbackSeconds() const {
  const stream::PipelineSpec& s = impl_->spec();
  double samples = s.window_length + s.window_horizon + 2;
  double extra_s = 0;
  for (const stream::PipelineStep& step : s.steps) {
    if (step.op == stream::StepOp::kDerive) {
      samples += step.k + 1;
      if (step.kind == stream::DeriveKind::kSinceDefrost) extra_s += step.max_s;
    }
    if (step.op == stream::StepOp::kFill) extra_s += step.max_gap_s;
  }
  return samples * s.interval_s + extra_s;
}

Status Pipeline::Fit(std::span<const Record> records) {
  stream::PipelineSpec spec = impl_->spec();
  const size_t n_in = impl_->compiled.input_fields.size();
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].values.size() != n_in) {
      return Status::InvalidArgument("pipeline fit: record " + std::to_string(i) + " has " +
                                     std::to_string(records[i].values.size()) +
                                     " values, expected " + std::to_string(n_in));
    }
  }
  if (spec.split_by == stream::SplitBy::kTime) {
    if (records.empty()) return Status::FailedPrecondition("pipeline fit: no records");
    int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
    for (const Record& r : records) {
      lo = std::min(lo, r.timestamp_us);
      hi = std::max(hi, r.timestamp_us);
    }
    const double range = static_cast<double>(hi - lo) + 1.0;
    spec.train_until_us = lo + static_cast<int64_t>(spec.train * range);
    spec.validation_until_us = lo + static_cast<int64_t>((spec.train + spec.validation) * range);
  }
  const int norm = impl_->compiled.normalise_step;
  if (norm >= 0) {
    // Run the steps before normalise and gather statistics over rows of the training range.
    spec.fitted = false;
    spec.steps[norm].stats.clear();
    NEMESYST_ASSIGN_OR_RETURN(CompiledPipeline partial,
                              stream::CompilePipeline(spec, impl_->compiled.input_fields));
    const std::vector<int>& cols = partial.steps[norm].columns;
    std::vector<double> count(cols.size(), 0), mean(cols.size(), 0), m2(cols.size(), 0);
    std::vector<double> lo(cols.size(), std::numeric_limits<double>::infinity());
    std::vector<double> hi(cols.size(), -std::numeric_limits<double>::infinity());
    const stream::DeviceGroups groups = stream::GroupByDevice(records);
    std::vector<double> values(n_in);
    for (size_t d = 0; d < groups.devices.size(); ++d) {
      DeviceProcessor processor(&partial, groups.devices[d], norm);
      const std::string& device = groups.devices[d];
      for (size_t i : groups.indices[d]) {
        std::copy(records[i].values.begin(), records[i].values.end(), values.begin());
        processor.Push(records[i].timestamp_us, values.data(), [&](const ProcessedRow& row) {
          if (stream::SplitOf(device, row.time_us, spec) != 0) return;
          for (size_t f = 0; f < cols.size(); ++f) {
            const double v = row.values[cols[f]];
            if (std::isnan(v)) continue;
            count[f] += 1;  // Welford
            const double delta = v - mean[f];
            mean[f] += delta / count[f];
            m2[f] += delta * (v - mean[f]);
            lo[f] = std::min(lo[f], v);
            hi[f] = std::max(hi[f], v);
          }
        });
      }
    }
    stream::PipelineStep& step = spec.steps[norm];
    for (size_t f = 0; f < cols.size(); ++f) {
      if (count[f] == 0) {
        return Status::FailedPrecondition("pipeline fit: no training rows with a value for '" +
                                          partial.columns[cols[f]] + "' to normalise with");
      }
      stream::FieldStats stats;
      stats.field = partial.columns[cols[f]];
      if (step.method == stream::NormaliseMethod::kZScore) {
        stats.a = mean[f];
        const double sd = count[f] > 1 ? std::sqrt(m2[f] / (count[f] - 1)) : 0.0;
        stats.b = sd > 1e-12 ? sd : 1.0;  // a constant field is centred, not scaled
      } else {
        stats.a = lo[f];
        stats.b = hi[f] > lo[f] ? hi[f] : lo[f] + 1.0;
      }
      step.stats.push_back(stats);
    }
  }
  spec.fitted = true;
  NEMESYST_ASSIGN_OR_RETURN(impl_->compiled,
                            stream::CompilePipeline(spec, impl_->compiled.input_fields));
  return Status::OK();
}

Result<std::shared_ptr<const WindowDataset>> Pipeline::Apply(
    std::span<const Record> records) const {
  if (!fitted()) return Status::FailedPrecondition("pipeline apply: not fitted (call Fit first)");
  const CompiledPipeline& c = impl_->compiled;
  const size_t n_in = c.input_fields.size();
  std::shared_ptr<WindowDataset> data = stream::EmptyDataset(c);
  const stream::DeviceGroups groups = stream::GroupByDevice(records);
  data->devices = groups.devices;
  data->rows.resize(groups.devices.size());
  std::vector<double> values(n_in);
  for (size_t d = 0; d < groups.devices.size(); ++d) {
    DeviceProcessor processor(&c, groups.devices[d]);
    stream::WindowAssembler assembler(&c, data.get(), static_cast<uint32_t>(d));
    for (size_t i : groups.indices[d]) {
      const Record& r = records[i];
      if (r.values.size() != n_in) {
        return Status::InvalidArgument("pipeline apply: record " + std::to_string(i) + " has " +
                                       std::to_string(r.values.size()) + " values, expected " +
                                       std::to_string(n_in));
      }
      std::copy(r.values.begin(), r.values.end(), values.begin());
      processor.Push(r.timestamp_us, values.data(),
                     [&](const ProcessedRow& row) { assembler.Add(row); });
    }
  }
  return std::shared_ptr<const WindowDataset>(std::move(data));
}

Result<std::vector<Record>> ReadRecords(const Store& store, std::string_view stream_name,
                                        const RecordQuery& query) {
  NEMESYST_ASSIGN_OR_RETURN(auto it, store.Read(stream_name, query));
  std::vector<Record> out;
  for (; it->Valid(); it->Next()) out.push_back(it->record().record);
  NEMESYST_RETURN_IF_ERROR(it->status());
  return out;
}

Result<std::vector<Record>> ReadRecentRecords(const Store& store, std::string_view stream,
                                              uint64_t through, double seconds) {
  if (through == 0) return std::vector<Record>{};
  constexpr uint64_t kTail = 4096;
  RecordQuery tail;
  tail.first_seq = through > kTail ? through - kTail + 1 : 1;
  tail.last_seq = through;
  NEMESYST_ASSIGN_OR_RETURN(std::vector<Record> newest, ReadRecords(store, stream, tail));
  if (newest.empty()) return newest;
  int64_t newest_us = std::numeric_limits<int64_t>::min();
  for (const Record& r : newest) newest_us = std::max(newest_us, r.timestamp_us);
  RecordQuery window;
  window.last_seq = through;
  window.min_timestamp_us = newest_us - static_cast<int64_t>(std::ceil(seconds * 1e6));
  return ReadRecords(store, stream, window);
}

}  // namespace nemesyst
