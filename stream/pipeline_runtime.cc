#include "stream/pipeline_runtime.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/random.h"

namespace nemesyst::stream {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Status BadRef(const std::string& path, const std::string& name,
              const std::vector<std::string>& columns) {
  std::string known;
  for (const std::string& c : columns) known += (known.empty() ? "" : ", ") + c;
  return Status::InvalidArgument("pipeline spec: " + path + ": unknown field '" + name +
                                 "' (available here: " + known + ")");
}

int Find(const std::vector<std::string>& columns, const std::string& name) {
  auto it = std::find(columns.begin(), columns.end(), name);
  return it == columns.end() ? -1 : static_cast<int>(it - columns.begin());
}

bool Compare(double v, CompareOp op, double x) {
  switch (op) {
    case CompareOp::kEq:
      return v == x;
    case CompareOp::kNe:
      return v != x;
    case CompareOp::kLt:
      return v < x;
    case CompareOp::kLe:
      return v <= x;
    case CompareOp::kGt:
      return v > x;
    case CompareOp::kGe:
      return v >= x;
  }
  return false;
}

}  // namespace

Result<CompiledPipeline> CompilePipeline(const PipelineSpec& spec,
                                         const std::vector<std::string>& input_fields) {
  CompiledPipeline c;
  c.spec = spec;
  c.input_fields = input_fields;
  c.columns = input_fields;
  c.interval_us = static_cast<int64_t>(spec.interval_s * 1e6);
  c.gap_us = c.interval_us + c.interval_us / 2;
  std::vector<std::string> selected;
  for (size_t i = 0; i < c.spec.steps.size(); ++i) {
    const PipelineStep& s = c.spec.steps[i];
    const std::string path = "steps[" + std::to_string(i) + "]";
    CompiledStep cs;
    switch (s.op) {
      case StepOp::kFilter:
        for (size_t w = 0; w < s.where.size(); ++w) {
          const int col = Find(c.columns, s.where[w].field);
          if (col < 0) {
            return BadRef(path + ".where[" + std::to_string(w) + "].field", s.where[w].field,
                          c.columns);
          }
          cs.columns.push_back(col);
        }
        break;
      case StepOp::kSelect:
        for (size_t f = 0; f < s.fields.size(); ++f) {
          if (Find(c.columns, s.fields[f]) < 0) {
            return BadRef(path + ".fields[" + std::to_string(f) + "]", s.fields[f], c.columns);
          }
        }
        selected = s.fields;
        break;
      case StepOp::kDerive: {
        if (Find(c.columns, s.name) >= 0) {
          return Status::InvalidArgument("pipeline spec: " + path + ".name: '" + s.name +
                                         "' already exists");
        }
        if (s.kind != DeriveKind::kTimeOfDay) {
          const int col = Find(c.columns, s.field);
          if (col < 0) return BadRef(path + ".field", s.field, c.columns);
          cs.columns.push_back(col);
        }
        c.columns.push_back(s.name);
        cs.target = static_cast<int>(c.columns.size()) - 1;
        break;
      }
      case StepOp::kFill:
        break;
      case StepOp::kNormalise: {
        c.normalise_step = static_cast<int>(i);
        std::vector<std::string> fields = s.fields;
        if (fields.empty()) {  // default: every column that exists here except the labels
          for (const std::string& col : c.columns) {
            if (std::find(spec.label_fields.begin(), spec.label_fields.end(), col) ==
                spec.label_fields.end()) {
              fields.push_back(col);
            }
          }
        }
        for (size_t f = 0; f < fields.size(); ++f) {
          const int col = Find(c.columns, fields[f]);
          if (col < 0)
            return BadRef(path + ".fields[" + std::to_string(f) + "]", fields[f], c.columns);
          cs.columns.push_back(col);
          cs.scale_a.push_back(0.0);
          cs.scale_b.push_back(1.0);
          for (const FieldStats& st : s.stats) {
            if (st.field != fields[f]) continue;
            cs.scale_a.back() = st.a;
            cs.scale_b.back() =
                s.method == NormaliseMethod::kZScore ? 1.0 / st.b : 1.0 / (st.b - st.a);
          }
        }
        if (spec.fitted && s.stats.size() != fields.size()) {
          return Status::InvalidArgument("pipeline spec: " + path +
                                         ".stats: does not cover every normalised field");
        }
        break;
      }
    }
    c.steps.push_back(std::move(cs));
  }
  for (size_t i = 0; i < spec.label_fields.size(); ++i) {
    const int col = Find(c.columns, spec.label_fields[i]);
    if (col < 0)
      return BadRef("label.fields[" + std::to_string(i) + "]", spec.label_fields[i], c.columns);
    c.label_columns.push_back(col);
  }
  if (selected.empty()) {
    for (size_t col = 0; col < c.columns.size(); ++col) {
      if (std::find(c.label_columns.begin(), c.label_columns.end(), static_cast<int>(col)) ==
          c.label_columns.end()) {
        selected.push_back(c.columns[col]);
      }
    }
  }
  for (const std::string& name : selected) c.feature_columns.push_back(Find(c.columns, name));
  if (c.feature_columns.empty()) {
    return Status::InvalidArgument("pipeline spec: no feature fields left (select some)");
  }
  return c;
}

DeviceProcessor::DeviceProcessor(const CompiledPipeline* pipeline, std::string device,
                                 int step_count)
    : pipeline_(pipeline),
      device_(std::move(device)),
      step_count_(step_count < 0 ? pipeline->steps.size() : static_cast<size_t>(step_count)),
      state_(pipeline->steps.size()) {}

bool DeviceProcessor::Push(int64_t time_us, const double* input,
                           const std::function<void(const ProcessedRow&)>& emit) {
  if (time_us <= last_input_us_) return false;
  last_input_us_ = time_us;
  const size_t n_cols = pipeline_->columns.size();
  const size_t n_in = pipeline_->input_fields.size();
  scratch_a_.resize(1);
  ProcessedRow& row = scratch_a_[0];
  row.time_us = time_us;
  row.break_before = false;
  row.values.resize(n_cols);
  std::copy(input, input + n_in, row.values.begin());
  std::fill(row.values.begin() + static_cast<ptrdiff_t>(n_in), row.values.end(), kNaN);
  for (size_t i = 0; i < step_count_ && !scratch_a_.empty(); ++i) {
    scratch_b_.clear();
    for (ProcessedRow& r : scratch_a_) Apply(i, r, scratch_b_);
    std::swap(scratch_a_, scratch_b_);
  }
  for (const ProcessedRow& r : scratch_a_) emit(r);
  return true;
}

void DeviceProcessor::Apply(size_t index, ProcessedRow& row, std::vector<ProcessedRow>& out) {
  const CompiledStep& cs = pipeline_->steps[index];
  const PipelineStep& s = pipeline_->spec.steps[index];
  StepState& st = state_[index];
  switch (s.op) {
    case StepOp::kFilter: {
      if (row.time_us < s.from_us || row.time_us >= s.to_us) return;
      for (size_t w = 0; w < s.where.size(); ++w) {
        if (!Compare(row.values[cs.columns[w]], s.where[w].op, s.where[w].value)) return;
      }
      if (!s.device_prefixes.empty()) {
        bool match = false;
        for (const std::string& p : s.device_prefixes) match = match || device_.starts_with(p);
        if (!match) return;
      }
      out.push_back(std::move(row));
      return;
    }
    case StepOp::kSelect:
      out.push_back(std::move(row));
      return;
    case StepOp::kFill: {
      const double interval_s = pipeline_->spec.interval_s;
      const size_t n = row.values.size();
      if (st.has_last && !row.break_before && row.time_us - st.last_us > pipeline_->gap_us) {
        const int64_t missing =
            (row.time_us - st.last_us + pipeline_->interval_us / 2) / pipeline_->interval_us - 1;
        if (static_cast<double>(missing) * interval_s <= s.max_gap_s + 1e-9) {
          for (int64_t m = 1; m <= missing; ++m) {
            ProcessedRow filled;
            filled.time_us = st.last_us + m * pipeline_->interval_us;
            filled.values = st.last_row;
            out.push_back(std::move(filled));
          }
          for (double& f : st.filled_s) f += static_cast<double>(missing) * interval_s;
        } else {
          row.break_before = true;
        }
      }
      if (row.break_before || !st.has_last) {
        st.last_row.assign(n, kNaN);
        st.filled_s.assign(n, 0.0);
      }
      for (size_t c = 0; c < n; ++c) {
        if (std::isnan(row.values[c])) {
          st.filled_s[c] += interval_s;
          if (st.filled_s[c] <= s.max_gap_s + 1e-9) row.values[c] = st.last_row[c];
        } else {
          st.filled_s[c] = 0;
        }
      }
      st.last_row = row.values;
      st.has_last = true;
      st.last_us = row.time_us;
      out.push_back(std::move(row));
      return;
    }
    case StepOp::kDerive: {
      const bool contiguous =
          st.has_last && !row.break_before && row.time_us - st.last_us <= pipeline_->gap_us;
      if (!contiguous) {  // after a gap nothing before it counts (not even the last defrost)
        st.window.clear();
        st.has_last = false;
        st.last_defrost_us = INT64_MIN;
      }
      const double v = cs.columns.empty() ? 0.0 : row.values[cs.columns[0]];
      double result = kNaN;
      switch (s.kind) {
        case DeriveKind::kDifference:
          if (st.has_last) result = v - st.last_value;
          break;
        case DeriveKind::kRate:
          if (st.has_last)
            result = (v - st.last_value) / (static_cast<double>(row.time_us - st.last_us) / 1e6);
          break;
        case DeriveKind::kRollingMean:
        case DeriveKind::kRollingMin:
        case DeriveKind::kRollingMax: {
          st.window.push_back(v);
          if (st.window.size() > static_cast<size_t>(s.k)) st.window.pop_front();
          if (st.window.size() == static_cast<size_t>(s.k)) {
            double sum = 0, lo = st.window.front(), hi = st.window.front();
            bool missing = false;
            for (double x : st.window) {
              sum += x;
              lo = std::min(lo, x);
              hi = std::max(hi, x);
              missing = missing || std::isnan(x);
            }
            if (!missing) {
              result = s.kind == DeriveKind::kRollingMean  ? sum / s.k
                       : s.kind == DeriveKind::kRollingMin ? lo
                                                           : hi;
            }
          }
          break;
        }
        case DeriveKind::kTimeOfDay: {
          int64_t sec = (row.time_us / 1000000) % 86400;
          if (sec < 0) sec += 86400;
          const double hours = static_cast<double>(sec) / 3600.0 +
                               static_cast<double>(row.time_us % 1000000) / 3.6e9;
          if (s.encoding == "sin")
            result = std::sin(2.0 * M_PI * hours / 24.0);
          else if (s.encoding == "cos")
            result = std::cos(2.0 * M_PI * hours / 24.0);
          else
            result = hours;
          break;
        }
        case DeriveKind::kSinceDefrost:
          if (v > 0.5) st.last_defrost_us = row.time_us;
          result =
              st.last_defrost_us == INT64_MIN
                  ? s.max_s
                  : std::min(s.max_s, static_cast<double>(row.time_us - st.last_defrost_us) / 1e6);
          break;
      }
      row.values[cs.target] = result;
      st.has_last = true;
      st.last_us = row.time_us;
      st.last_value = v;
      out.push_back(std::move(row));
      return;
    }
    case StepOp::kNormalise:
      for (size_t f = 0; f < cs.columns.size(); ++f) {
        double& v = row.values[cs.columns[f]];
        v = (v - cs.scale_a[f]) * cs.scale_b[f];
      }
      out.push_back(std::move(row));
      return;
  }
}

std::string_view SplitKey(std::string_view device, SplitBy by) {
  if (by != SplitBy::kStore) return device;
  const size_t slash = device.find('/');
  return slash == std::string_view::npos ? device : device.substr(0, slash);
}

int SplitBucket(std::string_view key, const PipelineSpec& spec) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a, then mixed with the seed
  for (char c : key) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  const uint64_t mixed = MixKeys(h, spec.split_seed, 0x5eed);
  const double u = static_cast<double>(mixed >> 11) * 0x1.0p-53;
  if (u < spec.train) return 0;
  if (u < spec.train + spec.validation) return 1;
  return 2;
}

int SplitOf(std::string_view device, int64_t time_us, const PipelineSpec& spec) {
  switch (spec.split_by) {
    case SplitBy::kNone:
      return 0;
    case SplitBy::kStore:
    case SplitBy::kDevice:
      return SplitBucket(SplitKey(device, spec.split_by), spec);
    case SplitBy::kTime:
      if (time_us < spec.train_until_us) return 0;
      return time_us < spec.validation_until_us ? 1 : 2;
  }
  return 0;
}

}  // namespace nemesyst::stream
