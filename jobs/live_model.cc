// LiveModel (live_model.h): a model's streaming state over many devices.
#include "nemesyst/live_model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <unordered_set>

#include "jobs/live_model_impl.h"
#include "nemesyst/pipeline.h"

namespace nemesyst {

using Clock = std::chrono::steady_clock;

class LiveModel::Impl {
 public:
  // Owns the model, or borrows one that outlives it (StreamRecords).
  explicit Impl(LoadedModel m) : owned_(std::move(m)), m_(owned_) {}
  explicit Impl(LoadedModel* borrowed) : m_(*borrowed) {}

  Status Init() {
    NEMESYST_ASSIGN_OR_RETURN(predictor_, m_.model->NewStreamingPredictor());
    const std::vector<std::string> labels = m_.pipeline->label_names();
    const auto& fields = m_.pipeline->input_fields();
    for (size_t i = 0; i < fields.size() && !labels.empty(); ++i) {
      if (fields[i] == labels[0]) label_index_ = static_cast<int>(i);
    }
    width_ = static_cast<size_t>(predictor_->output_width());
    ResetState();
    return Status::OK();
  }

  void ResetState() {
    featurizer_ = m_.pipeline->MakeStreaming();
    if (predictor_) predictor_->ResetAll();
    since_reset_.clear();
    latest_.clear();
  }

  Status Observe(std::span<const Record> records, std::vector<PredictionRow>* out,
                 std::vector<PredictionRow>* first) {
    for (const Record& r : records) {
      // A device advances at most once per kernel call, and a restart must not overtake a
      // pending step of the same device: flush first.
      if (pending_devices_.count(r.device_id) != 0) {
        NEMESYST_RETURN_IF_ERROR(Flush(out, first));
      }
      NEMESYST_ASSIGN_OR_RETURN(StreamingFeaturizer::Update update, featurizer_->Push(r));
      if (update.reset) {
        predictor_->Slot(r.device_id);  // registers a new device, so Reset finds it
        NEMESYST_RETURN_IF_ERROR(predictor_->Reset(r.device_id));
        since_reset_[r.device_id] = 0;
        latest_.erase(r.device_id);
      }
      // Rows a fill inserted before this reading advance the state first (one call each); the
      // last row is this reading's and joins the batch.
      for (size_t k = 0; k + 1 < update.rows.size(); ++k) {
        one_out_.resize(width_);
        NEMESYST_RETURN_IF_ERROR(Timed([&] {
          return predictor_->Advance({r.device_id}, update.rows[k].data(), one_out_.data());
        }));
        ++case_steps_;
        ++since_reset_[r.device_id];
      }
      if (update.rows.empty()) continue;
      devices_.push_back(r.device_id);
      pending_devices_.insert(r.device_id);
      rows_.insert(rows_.end(), update.rows.back().begin(), update.rows.back().end());
      sources_.push_back(&r);
    }
    return Flush(out, first);
  }

  Result<uint64_t> Rebuild(const Store& store, std::string_view stream) {
    NEMESYST_ASSIGN_OR_RETURN(StreamInfo info, store.GetStreamInfo(stream));
    std::vector<std::string> names;
    for (const FieldSpec& f : info.schema.fields) names.push_back(f.name);
    if (names != m_.input_fields) {
      return Status::InvalidArgument("stream '" + std::string(stream) + "' has fields [" +
                                     JoinFieldList(names) + "] but model " + m_.ref + " takes [" +
                                     JoinFieldList(m_.input_fields) + "]");
    }
    ResetState();
    const uint64_t through = info.last_seq;
    if (through == 0) return through;
    NEMESYST_ASSIGN_OR_RETURN(
        std::vector<Record> records,
        ReadRecentRecords(store, stream, through, m_.pipeline->LookbackSeconds()));
    NEMESYST_RETURN_IF_ERROR(ObserveInTimeOrder(std::move(records), nullptr));
    return through;
  }

  // Readings in time order (ties by device); the devices of one instant advance together.
  Status ObserveInTimeOrder(
      std::vector<Record> records,
      const std::function<Status(std::vector<PredictionRow>&, std::vector<PredictionRow>&)>& each) {
    std::stable_sort(records.begin(), records.end(), [](const Record& a, const Record& b) {
      return a.timestamp_us != b.timestamp_us ? a.timestamp_us < b.timestamp_us
                                              : a.device_id < b.device_id;
    });
    std::vector<PredictionRow> out, first;
    size_t begin = 0;
    while (begin < records.size()) {
      size_t end = begin + 1;
      while (end < records.size() && records[end].timestamp_us == records[begin].timestamp_us) {
        ++end;
      }
      out.clear();
      first.clear();
      NEMESYST_RETURN_IF_ERROR(
          Observe(std::span<const Record>(records).subspan(begin, end - begin), &out, &first));
      if (each) NEMESYST_RETURN_IF_ERROR(each(out, first));
      begin = end;
    }
    return Status::OK();
  }

  Result<PredictionRow> PredictWindow(std::vector<Record> readings) {
    if (readings.empty()) return Status::InvalidArgument("predict: no readings");
    int64_t at = readings.front().timestamp_us;
    for (const Record& r : readings) {
      if (r.device_id != readings.front().device_id) {
        return Status::InvalidArgument("predict: a window is one device's readings, not '" +
                                       readings.front().device_id + "' and '" + r.device_id + "'");
      }
      if (r.values.size() != m_.input_fields.size()) {
        return Status::InvalidArgument("predict: a reading of '" + r.device_id + "' has " +
                                       std::to_string(r.values.size()) + " values; model " +
                                       m_.ref + " takes " + std::to_string(m_.input_fields.size()) +
                                       " (" + JoinFieldList(m_.input_fields) + ")");
      }
      at = std::max(at, r.timestamp_us);
    }
    const std::string device = readings.front().device_id;
    const size_t given = readings.size();
    NEMESYST_ASSIGN_OR_RETURN(std::vector<PredictionRow> rows,
                              PredictAt(m_, std::move(readings), at));
    if (rows.empty()) {
      return Status::InvalidArgument("predict: the " + std::to_string(given) + " readings of '" +
                                     device + "' do not make a full contiguous window (model " +
                                     m_.ref + " needs " + std::to_string(m_.pipeline->steps()) +
                                     " steps, " + std::to_string(m_.pipeline->LookbackSeconds()) +
                                     " s of history, without gaps)");
    }
    return rows.front();
  }

  LoadedModel owned_;
  LoadedModel& m_;
  std::unique_ptr<StreamingFeaturizer> featurizer_;
  std::unique_ptr<StreamingPredictor> predictor_;
  std::map<std::string, int, std::less<>> since_reset_;
  std::map<std::string, PredictionRow, std::less<>> latest_;
  int label_index_ = -1;
  size_t width_ = 1;
  double model_seconds_ = 0;
  int64_t case_steps_ = 0;

 private:
  template <typename F>
  Status Timed(F&& f) {
    const auto t0 = Clock::now();
    Status s = f();
    model_seconds_ += std::chrono::duration<double>(Clock::now() - t0).count();
    return s;
  }

  Status Flush(std::vector<PredictionRow>* out, std::vector<PredictionRow>* first) {
    if (devices_.empty()) return Status::OK();
    out_.resize(devices_.size() * width_);
    Status advanced =
        Timed([&] { return predictor_->Advance(devices_, rows_.data(), out_.data()); });
    if (advanced.ok()) {
      case_steps_ += static_cast<int64_t>(devices_.size());
      const int steps = m_.pipeline->steps();
      for (size_t i = 0; i < devices_.size(); ++i) {
        int& count = since_reset_[devices_[i]];
        if (++count < steps) continue;
        PredictionRow row;
        row.device = devices_[i];
        row.timestamp_us = sources_[i]->timestamp_us;
        row.prediction_s =
            std::clamp(m_.pipeline->LabelToOriginal(0, out_[i * width_]), 0.0, kMaxPredictionS);
        if (label_index_ >= 0) row.label_s = sources_[i]->values[label_index_];
        row.lower_s = LowerBoundOf(m_, row.prediction_s, sources_[i]);
        if (first != nullptr && count == steps) first->push_back(row);
        if (out != nullptr) out->push_back(row);
        latest_[row.device] = std::move(row);
      }
    }
    devices_.clear();
    pending_devices_.clear();
    rows_.clear();
    sources_.clear();
    return advanced;
  }

  // The batch being gathered for one kernel call.
  std::vector<std::string> devices_;
  std::unordered_set<std::string> pending_devices_;
  std::vector<float> rows_, out_, one_out_;
  std::vector<const Record*> sources_;
};

namespace {

Status CheckStreamable(const LoadedModel& model) {
  if (!model.model || !model.pipeline) {
    return Status::InvalidArgument("live model: no model loaded");
  }
  if (model.model->kind() != "regressor") {
    return Status::InvalidArgument("streaming prediction needs a regressor, not a " +
                                   std::string(model.model->kind()));
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<LiveModel>> LiveModel::Create(LoadedModel model) {
  NEMESYST_RETURN_IF_ERROR(CheckStreamable(model));
  auto impl = std::make_unique<Impl>(std::move(model));
  NEMESYST_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<LiveModel>(new LiveModel(std::move(impl)));
}

LiveModel::LiveModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LiveModel::~LiveModel() = default;

Status LiveModel::Observe(std::span<const Record> records, std::vector<PredictionRow>* out,
                          std::vector<PredictionRow>* first_after_restart) {
  return impl_->Observe(records, out, first_after_restart);
}

Result<uint64_t> LiveModel::Rebuild(const Store& store, std::string_view stream) {
  return impl_->Rebuild(store, stream);
}

const PredictionRow* LiveModel::Latest(std::string_view device) const {
  auto it = impl_->latest_.find(device);
  return it == impl_->latest_.end() ? nullptr : &it->second;
}

std::vector<PredictionRow> LiveModel::LatestAll() const {
  std::vector<PredictionRow> rows;
  rows.reserve(impl_->latest_.size());
  for (const auto& [device, row] : impl_->latest_) rows.push_back(row);
  return rows;
}

size_t LiveModel::device_count() const { return impl_->since_reset_.size(); }

Result<PredictionRow> LiveModel::PredictWindow(std::vector<Record> readings) {
  return impl_->PredictWindow(std::move(readings));
}

const std::string& LiveModel::ref() const { return impl_->m_.ref; }
const LoadedModel& LiveModel::loaded() const { return impl_->m_; }
double LiveModel::model_seconds() const { return impl_->model_seconds_; }
int64_t LiveModel::case_steps() const { return impl_->case_steps_; }

Status StreamRecords(LoadedModel& m, std::vector<Record> records, const PredictionSink& sink,
                     PredictJobResult* result, std::vector<PredictionRow>* first_after_restart) {
  NEMESYST_RETURN_IF_ERROR(CheckStreamable(m));
  LiveModel::Impl live(&m);
  NEMESYST_RETURN_IF_ERROR(live.Init());
  Status s = live.ObserveInTimeOrder(
      std::move(records), [&](std::vector<PredictionRow>& out, std::vector<PredictionRow>& first) {
        if (first_after_restart != nullptr) {
          first_after_restart->insert(first_after_restart->end(), first.begin(), first.end());
        }
        for (const PredictionRow& row : out) {
          NEMESYST_RETURN_IF_ERROR(sink(row));
          ++result->predictions;
        }
        return Status::OK();
      });
  result->model_seconds += live.model_seconds_;
  result->case_steps += live.case_steps_;
  return s;
}

}  // namespace nemesyst
