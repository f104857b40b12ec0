// The in-memory BatchProvider over a WindowDataset, and the streaming featurizer.
#include <algorithm>
#include <deque>
#include <map>

#include "common/random.h"
#include "nemesyst/pipeline.h"
#include "stream/pipeline_impl.h"

namespace nemesyst {
namespace {

class DatasetProvider final : public BatchProvider {
 public:
  DatasetProvider(std::shared_ptr<const WindowDataset> data, const DatasetProviderOptions& options)
      : data_(std::move(data)), options_(options) {
    for (size_t i = 0; i < data_->windows.size(); ++i) {
      if (options_.split == DataSplit::kAll ||
          data_->windows[i].split == static_cast<uint8_t>(options_.split)) {
        all_.push_back(i);
      }
    }
    StartPass();
  }

  Result<bool> Next(int max_batch, Batch* out) override {
    if (max_batch < 1) return Status::InvalidArgument("Next: max_batch must be >= 1");
    if (cursor_ >= order_.size()) return false;
    const int n = static_cast<int>(std::min<size_t>(max_batch, order_.size() - cursor_));
    out->Resize(n, data_->steps, data_->features, data_->label_width);
    const size_t x_stride = static_cast<size_t>(data_->steps) * data_->features;
    for (int b = 0; b < n; ++b) {
      const WindowDataset::WindowRef& w = data_->windows[order_[cursor_ + b]];
      data_->CopyWindow(w, out->x.data() + b * x_stride,
                        out->y.data() + static_cast<size_t>(b) * data_->label_width);
      out->device[b] = data_->devices[w.device];
      out->end_us[b] = data_->EndUs(w);
    }
    cursor_ += n;
    return true;
  }

  Status Rewind() override {
    ++pass_;
    StartPass();
    return Status::OK();
  }
  int steps() const override { return data_->steps; }
  int features() const override { return data_->features; }
  int label_width() const override { return data_->label_width; }

 private:
  void StartPass() {
    std::vector<size_t> pass = all_;
    if (options_.shuffle) {  // Fisher-Yates with our own PRNG: same order on every platform
      SimRandom rng(MixKeys(options_.seed, pass_, 0x5107));
      for (size_t i = pass.size(); i > 1; --i) {
        const size_t j = static_cast<size_t>(rng.NextU64() % i);
        std::swap(pass[i - 1], pass[j]);
      }
    }
    order_.clear();
    for (size_t i = static_cast<size_t>(options_.shard); i < pass.size();
         i += static_cast<size_t>(options_.shard_count)) {
      order_.push_back(pass[i]);
    }
    cursor_ = 0;
  }

  std::shared_ptr<const WindowDataset> data_;
  DatasetProviderOptions options_;
  std::vector<size_t> all_, order_;
  size_t cursor_ = 0;
  uint64_t pass_ = 0;
};

class StreamingFeaturizerImpl final : public StreamingFeaturizer {
 public:
  explicit StreamingFeaturizerImpl(const stream::CompiledPipeline* pipeline)
      : pipeline_(pipeline) {}

  Result<Update> Push(const Record& record) override {
    const size_t n_in = pipeline_->input_fields.size();
    if (record.values.size() != n_in) {
      return Status::InvalidArgument("streaming: reading of '" + record.device_id + "' has " +
                                     std::to_string(record.values.size()) + " values, expected " +
                                     std::to_string(n_in));
    }
    auto it = devices_.find(record.device_id);
    if (it == devices_.end()) {
      it = devices_.emplace(record.device_id, DeviceState(pipeline_, record.device_id)).first;
    }
    DeviceState& dev = it->second;
    Update update;
    dev.processor.Push(
        record.timestamp_us, record.values.data(), [&](const stream::ProcessedRow& row) {
          bool complete = true;
          for (int c : pipeline_->feature_columns) {
            complete = complete && !std::isnan(row.values[c]);
          }
          const bool contiguous =
              dev.has_last && !row.break_before && row.time_us - dev.last_us <= pipeline_->gap_us;
          dev.has_last = complete;
          dev.last_us = row.time_us;
          if (!contiguous || !complete) {
            dev.history.clear();
            update.reset = true;
          }
          if (!complete) return;
          std::vector<float> features;
          features.reserve(pipeline_->feature_columns.size());
          for (int c : pipeline_->feature_columns) {
            features.push_back(static_cast<float>(row.values[c]));
          }
          dev.history.push_back(features);
          if (dev.history.size() > static_cast<size_t>(pipeline_->spec.window_length)) {
            dev.history.pop_front();
          }
          update.rows.push_back(std::move(features));
        });
    return update;
  }

  bool LatestWindow(std::string_view device, float* x) const override {
    auto it = devices_.find(std::string(device));
    if (it == devices_.end() ||
        it->second.history.size() < static_cast<size_t>(pipeline_->spec.window_length)) {
      return false;
    }
    for (const std::vector<float>& row : it->second.history)
      x = std::copy(row.begin(), row.end(), x);
    return true;
  }

 private:
  struct DeviceState {
    DeviceState(const stream::CompiledPipeline* pipeline, const std::string& device)
        : processor(pipeline, device) {}
    stream::DeviceProcessor processor;
    std::deque<std::vector<float>> history;
    bool has_last = false;
    int64_t last_us = 0;
  };
  const stream::CompiledPipeline* pipeline_;
  std::map<std::string, DeviceState, std::less<>> devices_;
};

}  // namespace

Result<std::unique_ptr<BatchProvider>> MakeDatasetProvider(
    std::shared_ptr<const WindowDataset> dataset, const DatasetProviderOptions& options) {
  if (!dataset) return Status::InvalidArgument("dataset provider: no dataset");
  if (options.shard_count < 1 || options.shard < 0 || options.shard >= options.shard_count) {
    return Status::InvalidArgument("dataset provider: shard must be in [0, shard_count)");
  }
  return std::unique_ptr<BatchProvider>(new DatasetProvider(std::move(dataset), options));
}

std::unique_ptr<StreamingFeaturizer> Pipeline::MakeStreaming() const {
  return std::make_unique<StreamingFeaturizerImpl>(&impl_->compiled);
}

}  // namespace nemesyst
