// The `nemesyst` Python module (docs/python.md): a store's streams as numpy arrays in and out (no
// Python object per record on the hot path: values are one float64 array, times one int64 array),
// consumer groups, the model registry, predictors (windowed and streaming), and the fleet
// simulator. Errors raise nemesyst.Error (its `code` is the library's status code name).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nemesyst/live_model.h"
#include "nemesyst/pipeline.h"
#include "nemesyst/predict_job.h"
#include "nemesyst/refrigeration/fleet.h"
#include "nemesyst/refrigeration/simulator.h"
#include "nemesyst/store.h"
#include "nemesyst/store_json.h"
#include "nemesyst/version.h"

namespace py = pybind11;

namespace nemesyst::python {
namespace {

// nemesyst.Error; raised for every failed Status, with the code's name in `.code`.
py::object& ErrorType() {
  static py::object type;
  return type;
}

[[noreturn]] void Raise(const Status& s) {
  py::object e = ErrorType()(s.ToString());
  e.attr("code") = std::string(StatusCodeName(s.code()));
  PyErr_SetObject(ErrorType().ptr(), e.ptr());
  throw py::error_already_set();
}

template <class T>
T Check(Result<T> r) {
  if (!r.ok()) Raise(r.status());
  return std::move(*r);
}
void Check(const Status& s) {
  if (!s.ok()) Raise(s);
}

using F64Array = py::array_t<double, py::array::c_style | py::array::forcecast>;
using I64Array = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

// values: (n, fields) float64; times: (n,) int64.
void CheckShapes(const F64Array& values, const I64Array& times, size_t fields, const char* what) {
  if (values.ndim() != 2 || static_cast<size_t>(values.shape(1)) != fields) {
    Raise(Status::InvalidArgument(std::string(what) + ": values must be a 2-D array with " +
                                  std::to_string(fields) + " columns"));
  }
  if (times.ndim() != 1 || times.shape(0) != values.shape(0)) {
    Raise(Status::InvalidArgument(std::string(what) +
                                  ": timestamps_us must be 1-D, one per row of values"));
  }
}

// Records (one device column, times, values) from arrays; `devices` is one id or one per row.
std::vector<Record> ToRecords(const std::vector<std::string>& devices, const I64Array& times,
                              const F64Array& values, size_t fields, const char* what) {
  CheckShapes(values, times, fields, what);
  const size_t n = static_cast<size_t>(values.shape(0));
  if (devices.size() != 1 && devices.size() != n) {
    Raise(Status::InvalidArgument(std::string(what) + ": devices must be one id or one per row"));
  }
  std::vector<Record> records(n);
  const double* v = values.data();
  const int64_t* t = times.data();
  for (size_t i = 0; i < n; ++i) {
    records[i].device_id = devices.size() == 1 ? devices[0] : devices[i];
    records[i].timestamp_us = t[i];
    records[i].values.assign(v + i * fields, v + (i + 1) * fields);
  }
  return records;
}

std::vector<std::string> DeviceList(const py::object& devices) {
  if (py::isinstance<py::str>(devices)) return {devices.cast<std::string>()};
  return devices.cast<std::vector<std::string>>();
}

class PyPredictor {
 public:
  explicit PyPredictor(std::unique_ptr<LiveModel> live) : live_(std::move(live)) {}
  const std::vector<std::string>& fields() const { return live_->loaded().input_fields; }
  const std::string& model() const { return live_->ref(); }

  // Streaming: the readings in order; the prediction after each (NaN until its device has a full
  // window). With `with_lower`, a pair: the predictions and the calibrated lower bounds (NaN also
  // when the model has no calibration).
  py::object Tick(const py::object& devices, const I64Array& times, const F64Array& values,
                  bool with_lower) {
    std::vector<Record> records =
        ToRecords(DeviceList(devices), times, values, fields().size(), "tick");
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    F64Array out(static_cast<py::ssize_t>(records.size()));
    F64Array lower(static_cast<py::ssize_t>(records.size()));
    double* o = out.mutable_data();
    double* l = lower.mutable_data();
    std::vector<PredictionRow> rows;
    for (size_t i = 0; i < records.size(); ++i) {
      rows.clear();
      Check(live_->Observe(std::span<const Record>(&records[i], 1), &rows));
      o[i] = rows.empty() ? kNaN : rows.back().prediction_s;
      l[i] = rows.empty() ? kNaN : rows.back().lower_s.value_or(kNaN);
    }
    if (with_lower) return py::make_tuple(out, lower);
    return out;
  }

  py::object Window(const std::string& device, const I64Array& times, const F64Array& values,
                    bool with_lower) {
    std::vector<Record> records = ToRecords({device}, times, values, fields().size(), "window");
    const PredictionRow row = Check(live_->PredictWindow(std::move(records)));
    if (!with_lower) return py::float_(row.prediction_s);
    return py::make_tuple(row.prediction_s,
                          row.lower_s.value_or(std::numeric_limits<double>::quiet_NaN()));
  }

 private:
  std::unique_ptr<LiveModel> live_;
};

class PyStore {
 public:
  explicit PyStore(const std::string& path) { Check(Store::Open({}, path, &store_)); }
  Store& s() {
    if (!store_) Raise(Status::FailedPrecondition("the store is closed"));
    return *store_;
  }
  void Close() { store_.reset(); }

  void CreateStream(const std::string& name,
                    const std::vector<std::pair<std::string, std::string>>& fields) {
    StreamSchema schema;
    for (const auto& [field, type] : fields) {
      schema.fields.push_back({field, Check(ParseFieldType(type)), "", std::nullopt, std::nullopt});
    }
    Check(s().CreateStream(name, schema));
  }

  std::vector<std::string> Fields(const std::string& stream) {
    std::vector<std::string> names;
    for (const FieldSpec& f : Check(s().GetSchema(stream)).fields) names.push_back(f.name);
    return names;
  }

  std::pair<uint64_t, uint64_t> Append(const std::string& stream, const py::object& devices,
                                       const I64Array& times, const F64Array& values) {
    const size_t fields = Fields(stream).size();
    std::vector<Record> records = ToRecords(DeviceList(devices), times, values, fields, "append");
    const SeqRange r = Check(s().Append(stream, std::span<const Record>(records)));
    return {r.first, r.last};
  }

  py::dict Read(const std::string& stream, uint64_t first_seq, uint64_t last_seq,
                int64_t min_timestamp_us, int64_t max_timestamp_us,
                const std::optional<std::string>& device, size_t max_records) {
    RecordQuery q;
    q.first_seq = first_seq;
    q.last_seq = last_seq;
    q.min_timestamp_us = min_timestamp_us;
    q.max_timestamp_us = max_timestamp_us;
    if (device) q.device_id = *device;
    const std::vector<std::string> field_names = Fields(stream);
    const size_t fields = field_names.size();
    auto it = Check(s().Read(stream, q));
    std::vector<uint64_t> seqs;
    std::vector<int64_t> times;
    std::vector<double> values;
    std::vector<std::string> devices;
    for (; it->Valid(); it->Next()) {
      if (max_records > 0 && seqs.size() >= max_records) break;
      const StoredRecord& r = it->record();
      seqs.push_back(r.seq);
      times.push_back(r.record.timestamp_us);
      devices.push_back(r.record.device_id);
      values.insert(values.end(), r.record.values.begin(), r.record.values.end());
    }
    Check(it->status());
    const auto n = static_cast<py::ssize_t>(seqs.size());
    py::array_t<uint64_t> seq_array(n);
    std::copy(seqs.begin(), seqs.end(), seq_array.mutable_data());
    I64Array time_array(n);
    std::copy(times.begin(), times.end(), time_array.mutable_data());
    F64Array value_array({n, static_cast<py::ssize_t>(fields)});
    std::copy(values.begin(), values.end(), value_array.mutable_data());
    py::dict out;
    out["seq"] = seq_array;
    out["timestamp_us"] = time_array;
    out["device"] = devices;
    out["values"] = value_array;
    out["fields"] = field_names;
    return out;
  }

  void CreateGroup(const std::string& group, const std::string& stream, bool from_latest) {
    Check(
        s().CreateGroup(group, stream, from_latest ? GroupStart::kLatest : GroupStart::kEarliest));
  }

  // The claimed batch as a dict, or None when there is nothing to hand out.
  py::object Claim(const std::string& group, const std::string& member, uint32_t max_records,
                   int64_t lease_ms) {
    Result<ClaimedBatch> b = s().Claim(group, member, max_records, lease_ms);
    if (b.status().code() == StatusCode::kWouldBlock) return py::none();
    const ClaimedBatch c = Check(std::move(b));
    py::dict d;
    d["first_seq"] = c.range.first;
    d["last_seq"] = c.range.last;
    d["batch_id"] = c.lease.batch_id;
    d["delivery"] = c.lease.delivery;
    d["lease_expires_ms"] = c.lease_expires_ms;
    return d;
  }
  static LeaseId LeaseOf(const py::dict& claim) {
    return {claim["batch_id"].cast<uint64_t>(), claim["delivery"].cast<uint32_t>()};
  }
  void Ack(const std::string& group, const py::dict& claim) {
    Check(s().Ack(group, LeaseOf(claim)));
  }
  void Nack(const std::string& group, const py::dict& claim) {
    Check(s().Nack(group, LeaseOf(claim)));
  }
  int64_t Renew(const std::string& group, const py::dict& claim, int64_t lease_ms) {
    return Check(s().RenewLease(group, LeaseOf(claim), lease_ms));
  }

  uint32_t ImportModel(const std::string& name, const py::bytes& blob,
                       const std::optional<std::string>& metadata_json) {
    ModelMetadata metadata;
    if (metadata_json) metadata = Check(ModelMetadataFromJson(*metadata_json));
    return Check(nemesyst::ImportModel(s(), name, std::string(blob), std::move(metadata)));
  }
  std::pair<std::string, uint32_t> Resolve(const std::string& reference) {
    const ResolvedModel m = Check(s().ResolveModel(reference));
    return {m.name, m.version};
  }
  std::vector<py::dict> Models() {
    std::vector<py::dict> out;
    for (const std::string& name : Check(s().ListModelNames())) {
      for (const ModelInfo& v : Check(s().ListModelVersions(name))) {
        py::dict d;
        d["name"] = v.name;
        d["version"] = v.version;
        d["kind"] = v.metadata.kind;
        d["aliases"] = v.aliases;
        d["metrics"] = v.metadata.metrics;
        out.push_back(std::move(d));
      }
    }
    return out;
  }
  PyPredictor Predictor(const std::string& reference,
                        const std::optional<std::string>& rebuild_from) {
    std::unique_ptr<LiveModel> live =
        Check(LiveModel::Create(Check(LoadModelForPrediction(s(), reference))));
    if (rebuild_from) Check(live->Rebuild(s(), *rebuild_from).status());
    return PyPredictor(std::move(live));
  }

 private:
  std::unique_ptr<Store> store_;
};

// A simulated fleet's readings: {"device", "timestamp_us", "values", "fields"} (labels included).
py::dict SimulateFleet(uint64_t seed, int stores, int cases_per_store, double days) {
  refrigeration::SimulatorOptions o;
  o.seed = seed;
  o.stores = stores;
  o.cases_per_store = cases_per_store;
  o.days = days;
  Check(o.Validate());
  auto sim = Check(refrigeration::FleetSimulator::Create(o));
  std::vector<std::string> devices;
  std::vector<int64_t> times;
  std::vector<double> values;
  size_t fields = 0;
  Record record;
  Check(sim->GenerateFleet([&](const refrigeration::SimSample* samples, size_t n) -> Status {
    for (size_t i = 0; i < n; ++i) {
      refrigeration::SampleToRecord(*sim, samples[i], &record);
      bool missing = false;
      for (double v : record.values) missing = missing || std::isnan(v);
      if (missing) continue;  // a missing reading (the store refuses holes)
      fields = record.values.size();
      devices.push_back(record.device_id);
      times.push_back(record.timestamp_us);
      values.insert(values.end(), record.values.begin(), record.values.end());
    }
    return Status::OK();
  }));
  const auto n = static_cast<py::ssize_t>(times.size());
  I64Array time_array(n);
  std::copy(times.begin(), times.end(), time_array.mutable_data());
  F64Array value_array({n, static_cast<py::ssize_t>(fields)});
  std::copy(values.begin(), values.end(), value_array.mutable_data());
  std::vector<std::pair<std::string, std::string>> schema;
  for (const FieldSpec& f : refrigeration::SimulatorSchema(true).fields) {
    schema.emplace_back(f.name, std::string(FieldTypeName(f.type)));
  }
  py::dict out;
  out["device"] = devices;
  out["timestamp_us"] = time_array;
  out["values"] = value_array;
  out["schema"] = schema;
  return out;
}

}  // namespace
}  // namespace nemesyst::python

PYBIND11_MODULE(nemesyst, m) {
  using namespace nemesyst::python;
  m.doc() = "Nemesyst: sensor streams, versioned models and predictors in an embedded store";
  m.attr("__version__") = NEMESYST_VERSION_STRING;
  ErrorType() = py::exception<std::runtime_error>(m, "Error");
  constexpr uint64_t kMaxSeq = std::numeric_limits<uint64_t>::max();
  constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max();

  py::class_<PyPredictor>(m, "Predictor")
      .def_property_readonly("fields", &PyPredictor::fields)
      .def_property_readonly("model", &PyPredictor::model)
      .def("tick", &PyPredictor::Tick, py::arg("devices"), py::arg("timestamps_us"),
           py::arg("values"), py::arg("with_lower") = false,
           "Streaming: advance each reading's device in order; the prediction after each reading "
           "(NaN until its device has a full window). with_lower=True: (predictions, calibrated "
           "lower bounds), NaN where the model has no calibration.")
      .def("predict_window", &PyPredictor::Window, py::arg("device"), py::arg("timestamps_us"),
           py::arg("values"), py::arg("with_lower") = false,
           "The prediction for one device's full window of readings; with_lower=True: "
           "(prediction, calibrated lower bound).");

  py::class_<PyStore>(m, "Store")
      .def(py::init<const std::string&>(), py::arg("path"))
      .def("close", &PyStore::Close)
      .def("__enter__", [](PyStore& s) -> PyStore& { return s; })
      .def("__exit__", [](PyStore& s, py::args) { s.Close(); })
      .def("create_stream", &PyStore::CreateStream, py::arg("name"), py::arg("fields"),
           "fields: [(name, 'float32' | 'float64' | 'int32'), ...]")
      .def("fields", &PyStore::Fields, py::arg("stream"))
      .def("append", &PyStore::Append, py::arg("stream"), py::arg("devices"),
           py::arg("timestamps_us"), py::arg("values"),
           "One atomic batch: devices (one id or one per row), int64 times (µs), float64 values "
           "(rows × fields). Returns the (first, last) sequence numbers.")
      .def("read", &PyStore::Read, py::arg("stream"), py::arg("first_seq") = 1,
           py::arg("last_seq") = kMaxSeq, py::arg("min_timestamp_us") = kMinTime,
           py::arg("max_timestamp_us") = kMaxTime, py::arg("device") = py::none(),
           py::arg("max_records") = 0)
      .def("create_group", &PyStore::CreateGroup, py::arg("group"), py::arg("stream"),
           py::arg("from_latest") = false)
      .def("claim", &PyStore::Claim, py::arg("group"), py::arg("member"),
           py::arg("max_records") = 8192, py::arg("lease_ms") = 60000)
      .def("ack", &PyStore::Ack, py::arg("group"), py::arg("claim"))
      .def("nack", &PyStore::Nack, py::arg("group"), py::arg("claim"))
      .def("renew", &PyStore::Renew, py::arg("group"), py::arg("claim"), py::arg("lease_ms"))
      .def("import_model", &PyStore::ImportModel, py::arg("name"), py::arg("blob"),
           py::arg("metadata_json") = py::none())
      .def("resolve", &PyStore::Resolve, py::arg("reference"))
      .def("models", &PyStore::Models)
      .def("predictor", &PyStore::Predictor, py::arg("reference"),
           py::arg("rebuild_from") = py::none(),
           "A stored regressor with its pipeline; rebuild_from=stream starts every device's state "
           "from that stream's last window.");

  m.def("simulate_fleet", &SimulateFleet, py::arg("seed") = 42, py::arg("stores") = 2,
        py::arg("cases_per_store") = 4, py::arg("days") = 1.0,
        "The refrigeration fleet simulator's readings as arrays (with the safe_off_s label).");
}
