// The C API's predictor: a stored regressor run on plain arrays, streaming or windowed
// (include/nemesyst/c.h), over LiveModel.
#include <limits>

#include "capi/c_handles.h"
#include "nemesyst/predict_job.h"

using nemesyst::Status;
using nemesyst::capi::Guard;
using nemesyst::capi::NullArgument;
using nemesyst::capi::WithStore;

namespace {

Status CheckPredictor(const nemesyst_predictor_t* p, const char* device) {
  if (p == nullptr || !p->live) return NullArgument("predictor");
  if (device == nullptr) return NullArgument("device");
  return Status::OK();
}

Status CheckValues(const nemesyst_predictor_t* p, size_t steps, const double* values,
                   size_t values_len) {
  const size_t want = steps * p->fields.size();
  if (values_len != want) {
    return Status::InvalidArgument("values_len is " + std::to_string(values_len) + ", but " +
                                   std::to_string(steps) + " reading(s) of model " +
                                   p->live->ref() + " hold " + std::to_string(want) + " values");
  }
  if (want > 0 && values == nullptr) return NullArgument("values");
  return Status::OK();
}

}  // namespace

extern "C" {

int nemesyst_predictor_open(nemesyst_store_t* store, const char* model_reference,
                            nemesyst_predictor_t** predictor, char** errptr) {
  return Guard(errptr, "nemesyst_predictor_open", [&]() -> Status {
    if (model_reference == nullptr) return NullArgument("model_reference");
    if (predictor == nullptr) return NullArgument("predictor");
    return WithStore(store, [&](nemesyst::Store& s) -> Status {
      NEMESYST_ASSIGN_OR_RETURN(nemesyst::LoadedModel m,
                                nemesyst::LoadModelForPrediction(s, model_reference));
      auto p = std::make_unique<nemesyst_predictor_t>();
      p->store = store->state;
      p->fields = m.input_fields;
      NEMESYST_ASSIGN_OR_RETURN(p->live, nemesyst::LiveModel::Create(std::move(m)));
      *predictor = p.release();
      return Status::OK();
    });
  });
}

void nemesyst_predictor_close(nemesyst_predictor_t** predictor) {
  if (predictor == nullptr) return;
  delete *predictor;
  *predictor = nullptr;
}

size_t nemesyst_predictor_field_count(const nemesyst_predictor_t* predictor) {
  return predictor == nullptr ? 0 : predictor->fields.size();
}

const char* nemesyst_predictor_field_name(const nemesyst_predictor_t* predictor, size_t i) {
  if (predictor == nullptr || i >= predictor->fields.size()) return nullptr;
  return predictor->fields[i].c_str();
}

const char* nemesyst_predictor_model(const nemesyst_predictor_t* predictor) {
  return predictor == nullptr || !predictor->live ? nullptr : predictor->live->ref().c_str();
}

namespace {

double LowerOrNaN(const nemesyst::PredictionRow& row) {
  return row.lower_s.value_or(std::numeric_limits<double>::quiet_NaN());
}

int Tick(const char* fn, nemesyst_predictor_t* predictor, const char* device, int64_t timestamp_us,
         const double* values, size_t values_len, double* prediction_s, double* lower_s, int* ready,
         char** errptr) {
  return Guard(errptr, fn, [&]() -> Status {
    NEMESYST_RETURN_IF_ERROR(CheckPredictor(predictor, device));
    NEMESYST_RETURN_IF_ERROR(CheckValues(predictor, 1, values, values_len));
    if (ready == nullptr) return NullArgument("ready");
    nemesyst::Record r{device, timestamp_us, std::vector<double>(values, values + values_len)};
    std::vector<nemesyst::PredictionRow> out;
    NEMESYST_RETURN_IF_ERROR(
        predictor->live->Observe(std::span<const nemesyst::Record>(&r, 1), &out));
    *ready = out.empty() ? 0 : 1;
    if (!out.empty() && prediction_s != nullptr) *prediction_s = out.back().prediction_s;
    if (!out.empty() && lower_s != nullptr) *lower_s = LowerOrNaN(out.back());
    return Status::OK();
  });
}

int Window(const char* fn, nemesyst_predictor_t* predictor, const char* device, size_t steps,
           const int64_t* timestamps_us, const double* values, size_t values_len,
           double* prediction_s, double* lower_s, char** errptr) {
  return Guard(errptr, fn, [&]() -> Status {
    NEMESYST_RETURN_IF_ERROR(CheckPredictor(predictor, device));
    NEMESYST_RETURN_IF_ERROR(CheckValues(predictor, steps, values, values_len));
    if (steps > 0 && timestamps_us == nullptr) return NullArgument("timestamps_us");
    if (prediction_s == nullptr) return NullArgument("prediction_s");
    const size_t f = predictor->fields.size();
    std::vector<nemesyst::Record> window(steps);
    for (size_t i = 0; i < steps; ++i) {
      window[i] = {device, timestamps_us[i],
                   std::vector<double>(values + i * f, values + (i + 1) * f)};
    }
    NEMESYST_ASSIGN_OR_RETURN(nemesyst::PredictionRow row,
                              predictor->live->PredictWindow(std::move(window)));
    *prediction_s = row.prediction_s;
    if (lower_s != nullptr) *lower_s = LowerOrNaN(row);
    return Status::OK();
  });
}

}  // namespace

int nemesyst_predictor_tick(nemesyst_predictor_t* predictor, const char* device,
                            int64_t timestamp_us, const double* values, size_t values_len,
                            double* prediction_s, int* ready, char** errptr) {
  return Tick("nemesyst_predictor_tick", predictor, device, timestamp_us, values, values_len,
              prediction_s, nullptr, ready, errptr);
}

int nemesyst_predictor_tick_bounded(nemesyst_predictor_t* predictor, const char* device,
                                    int64_t timestamp_us, const double* values, size_t values_len,
                                    double* prediction_s, double* lower_s, int* ready,
                                    char** errptr) {
  return Tick("nemesyst_predictor_tick_bounded", predictor, device, timestamp_us, values,
              values_len, prediction_s, lower_s, ready, errptr);
}

int nemesyst_predictor_window(nemesyst_predictor_t* predictor, const char* device, size_t steps,
                              const int64_t* timestamps_us, const double* values, size_t values_len,
                              double* prediction_s, char** errptr) {
  return Window("nemesyst_predictor_window", predictor, device, steps, timestamps_us, values,
                values_len, prediction_s, nullptr, errptr);
}

int nemesyst_predictor_window_bounded(nemesyst_predictor_t* predictor, const char* device,
                                      size_t steps, const int64_t* timestamps_us,
                                      const double* values, size_t values_len, double* prediction_s,
                                      double* lower_s, char** errptr) {
  return Window("nemesyst_predictor_window_bounded", predictor, device, steps, timestamps_us,
                values, values_len, prediction_s, lower_s, errptr);
}

int nemesyst_predictor_rebuild(nemesyst_predictor_t* predictor, const char* stream, char** errptr) {
  return Guard(errptr, "nemesyst_predictor_rebuild", [&]() -> Status {
    if (predictor == nullptr || !predictor->live) return NullArgument("predictor");
    if (stream == nullptr) return NullArgument("stream");
    std::shared_lock lock(predictor->store->mu);
    if (!predictor->store->store) {
      return Status::FailedPrecondition(
          "the store this predictor was opened from is closed (open the predictor again from an "
          "open store to rebuild)");
    }
    return predictor->live->Rebuild(*predictor->store->store, stream).status();
  });
}

}  // extern "C"
