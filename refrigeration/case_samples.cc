#include "refrigeration/case_samples.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "nemesyst/refrigeration/simulator.h"
#include "nemesyst/shed_plan.h"

namespace nemesyst::refrigeration {
namespace {

constexpr int kCaseTypes = 4;

CaseSample RowAt(const DeviceReadings& r, const DeviceSeries& s, size_t i,
                 const BaselineRowOptions& options) {
  const SensorFieldIndex& f = r.fields;
  CaseSample row;
  for (int field : {f.air_on, f.air_off, f.product, f.ambient, f.cooling, f.defrost, f.power}) {
    row.features.push_back(s.at(i, field));
  }
  const int type = static_cast<int>(std::lround(s.at(i, f.case_type)));
  for (int t = 0; t < kCaseTypes; ++t) row.features.push_back(t == type ? 1.0 : 0.0);
  const size_t first = i + 1 >= static_cast<size_t>(options.history) ? i + 1 - options.history : 0;
  for (size_t k = first; k <= i; ++k) {
    row.air_history_c.push_back(0.5 * (s.at(k, f.air_on) + s.at(k, f.air_off)));
  }
  row.sample_period_s = i > 0 ? (s.times_us[i] - s.times_us[i - 1]) / 1e6 : 60;
  if (row.sample_period_s <= 0) row.sample_period_s = 60;
  row.limit_c = NominalLimitC(type);
  row.label_s = s.at(i, f.label);
  return row;
}

}  // namespace

Result<SensorFieldIndex> SensorFieldIndex::FromSchema(const StreamSchema& schema) {
  SensorFieldIndex idx;
  idx.field_count = static_cast<int>(schema.fields.size());
  struct Want {
    const char* name;
    int* slot;
  } wants[] = {
      {"air_on_c", &idx.air_on},   {"air_off_c", &idx.air_off},   {"product_c", &idx.product},
      {"ambient_c", &idx.ambient}, {"cooling", &idx.cooling},     {"defrost", &idx.defrost},
      {"power_kw", &idx.power},    {"case_type", &idx.case_type}, {"safe_off_s", &idx.label}};
  for (const Want& w : wants) {
    for (size_t i = 0; i < schema.fields.size(); ++i) {
      if (schema.fields[i].name == w.name) *w.slot = static_cast<int>(i);
    }
    if (*w.slot < 0) {
      return Status::InvalidArgument(std::string("stream schema has no field '") + w.name +
                                     "' (the refrigerated-case schema is needed)");
    }
  }
  return idx;
}

long DeviceSeries::Find(int64_t time_us) const {
  auto it = std::lower_bound(times_us.begin(), times_us.end(), time_us);
  if (it == times_us.end() || *it != time_us) return -1;
  return static_cast<long>(it - times_us.begin());
}

Result<DeviceReadings> LoadDeviceReadings(
    const Store& store, const std::string& stream, const RecordQuery& query,
    const std::function<bool(const std::string&)>& keep_device) {
  NEMESYST_ASSIGN_OR_RETURN(StreamSchema schema, store.GetSchema(stream));
  DeviceReadings out;
  NEMESYST_ASSIGN_OR_RETURN(out.fields, SensorFieldIndex::FromSchema(schema));
  NEMESYST_ASSIGN_OR_RETURN(auto it, store.Read(stream, query));
  std::string last_device;
  DeviceSeries* series = nullptr;
  bool keep = false;
  for (; it->Valid(); it->Next()) {
    const Record& rec = it->record().record;
    if (series == nullptr || rec.device_id != last_device) {
      last_device = rec.device_id;
      keep = !keep_device || keep_device(rec.device_id);
      series = &out.devices[rec.device_id];
      series->field_count = out.fields.field_count;
    }
    if (!keep) continue;
    if (static_cast<int>(rec.values.size()) != out.fields.field_count) {
      return Status::Corruption("stream '" + stream + "' record " +
                                std::to_string(it->record().seq) + " has the wrong field count");
    }
    series->times_us.push_back(rec.timestamp_us);
    for (double v : rec.values) series->values.push_back(static_cast<float>(v));
  }
  NEMESYST_RETURN_IF_ERROR(it->status());
  for (auto i = out.devices.begin(); i != out.devices.end();) {
    DeviceSeries& s = i->second;
    if (s.times_us.empty()) {
      i = out.devices.erase(i);
      continue;
    }
    if (!std::is_sorted(s.times_us.begin(), s.times_us.end())) {  // out-of-order ingest
      std::vector<size_t> order(s.size());
      for (size_t k = 0; k < order.size(); ++k) order[k] = k;
      std::stable_sort(order.begin(), order.end(),
                       [&](size_t a, size_t b) { return s.times_us[a] < s.times_us[b]; });
      DeviceSeries sorted;
      sorted.field_count = s.field_count;
      for (size_t k : order) {
        sorted.times_us.push_back(s.times_us[k]);
        sorted.values.insert(sorted.values.end(), s.values.begin() + k * s.field_count,
                             s.values.begin() + (k + 1) * s.field_count);
      }
      s = std::move(sorted);
    }
    ++i;
  }
  return out;
}

std::vector<Record> ToRecords(const DeviceReadings& readings) {
  std::vector<Record> out;
  for (const auto& [device, s] : readings.devices) {
    for (size_t i = 0; i < s.size(); ++i) {
      Record r;
      r.device_id = device;
      r.timestamp_us = s.times_us[i];
      r.values.assign(s.values.begin() + i * s.field_count,
                      s.values.begin() + (i + 1) * s.field_count);
      out.push_back(std::move(r));
    }
  }
  return out;
}

std::map<std::string, std::string> CaseTypesOf(const DeviceReadings& readings) {
  std::map<std::string, std::string> out;
  for (const auto& [device, s] : readings.devices) {
    if (s.size() > 0) {
      out[device] =
          CaseTypeLabel(static_cast<int>(std::lround(s.at(0, readings.fields.case_type))));
    }
  }
  return out;
}

double SheddableKw(const DeviceReadings& readings, const DeviceSeries& s, int64_t from_us,
                   int64_t to_us) {
  const SensorFieldIndex& f = readings.fields;
  LoadEstimate load;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.times_us[i] < from_us || s.times_us[i] > to_us) continue;
    if (s.at(i, f.defrost) > 0.5) continue;
    load.Add(s.at(i, f.power), s.at(i, f.cooling) < 0.5);
  }
  return load.SheddableKw();
}

double NominalLimitC(int case_type) { return case_type >= 2 ? -15.0 : 8.0; }

std::string CaseTypeLabel(int case_type) {
  if (case_type >= 0 && case_type < kCaseTypeCount) {
    return std::string(CaseTypeName(static_cast<CaseType>(case_type)));
  }
  return "type-" + std::to_string(case_type);
}

long DeviceSeries::FindAtOrBefore(int64_t time_us) const {
  auto it = std::upper_bound(times_us.begin(), times_us.end(), time_us);
  if (it == times_us.begin()) return -1;
  return static_cast<long>(it - times_us.begin()) - 1;
}

Result<CaseSample> BaselineRowAt(const DeviceReadings& readings, const std::string& device,
                                 int64_t time_us, const BaselineRowOptions& options,
                                 double max_age_s) {
  auto it = readings.devices.find(device);
  if (it == readings.devices.end()) return Status::NotFound("no readings of device " + device);
  const long i = it->second.FindAtOrBefore(time_us);
  if (i < 0 || time_us - it->second.times_us[i] > static_cast<int64_t>(max_age_s * 1e6)) {
    return Status::NotFound("no reading of " + device + " at " + std::to_string(time_us) + " us");
  }
  return RowAt(readings, it->second, static_cast<size_t>(i), options);
}

std::vector<CaseSample> BaselineTrainingRows(const DeviceReadings& readings, int stride,
                                             const BaselineRowOptions& options) {
  std::vector<CaseSample> rows;
  const size_t step = static_cast<size_t>(std::max(1, stride));
  for (const auto& [device, s] : readings.devices) {
    for (size_t i = 0; i < s.size(); i += step) {
      if (!std::isfinite(s.at(i, readings.fields.label))) continue;
      rows.push_back(RowAt(readings, s, i, options));
    }
  }
  return rows;
}

}  // namespace nemesyst::refrigeration
