// Raw readings of a refrigerated-case stream, per device, in a compact form, and the baseline rows
// (CaseSample) built from them at given instants — so the baselines are evaluated on exactly the
// (device, time) rows the neural models are evaluated on.
//
// The stream's fields are found by name (the simulator's schema, SimulatorFields()): air_on_c,
// air_off_c, product_c, ambient_c, cooling, defrost, power_kw, case_type, and the label
// safe_off_s. The air temperature the baselines track is the mean of air-on and air-off (the air
// node sits between the two sensors); the limit is the nominal one of the case type (8 °C chilled,
// −15 °C frozen; docs/case-study.md).
//
// Thread-safety: a built DeviceReadings is read-only; share it freely.
#ifndef NEMESYST_REFRIGERATION_CASE_SAMPLES_H_
#define NEMESYST_REFRIGERATION_CASE_SAMPLES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "nemesyst/status.h"
#include "nemesyst/store.h"
#include "refrigeration/baselines.h"

namespace nemesyst::refrigeration {

struct SensorFieldIndex {
  int air_on = -1, air_off = -1, product = -1, ambient = -1, cooling = -1, defrost = -1, power = -1,
      case_type = -1, label = -1;
  int field_count = 0;
  // InvalidArgument naming the first missing field.
  static Result<SensorFieldIndex> FromSchema(const StreamSchema& schema);
};

// One device's readings in time order: times[i] and values[i * field_count + f].
struct DeviceSeries {
  std::vector<int64_t> times_us;
  std::vector<float> values;
  int field_count = 0;
  size_t size() const { return times_us.size(); }
  float at(size_t i, int field) const { return values[i * field_count + field]; }
  // Index of the reading at exactly `time_us`, or -1.
  long Find(int64_t time_us) const;
  // Index of the latest reading at or before `time_us`, or -1.
  long FindAtOrBefore(int64_t time_us) const;
};

struct DeviceReadings {
  SensorFieldIndex fields;
  std::map<std::string, DeviceSeries> devices;
};

// Reads the records of `stream` matching `query`, keeping the devices `keep_device` accepts
// (empty function = all).
Result<DeviceReadings> LoadDeviceReadings(
    const Store& store, const std::string& stream, const RecordQuery& query = {},
    const std::function<bool(const std::string&)>& keep_device = {});

// The readings back as records (device order, then time), e.g. to run a pipeline over them.
std::vector<Record> ToRecords(const DeviceReadings& readings);

// Case type name of every device (from its first reading).
std::map<std::string, std::string> CaseTypesOf(const DeviceReadings& readings);

// What switching a case off would shed, estimated from its readings in [from_us, to_us] the way
// a dispatcher can: the mean power outside defrost (the cooling cycle's average) minus the power
// that stays on when the compressor is off (fans, lights: the mean of the readings with cooling
// and defrost both off; the lowest reading when there is none). 0 without readings.
double SheddableKw(const DeviceReadings& readings, const DeviceSeries& series, int64_t from_us,
                   int64_t to_us);

// Nominal air limit of a case type number (0,1 chilled: 8 °C; 2,3 frozen: −15 °C).
double NominalLimitC(int case_type);
// The case type name of the simulator ("chilled_multideck" ...), or "type-<n>".
std::string CaseTypeLabel(int case_type);

struct BaselineRowOptions {
  int history = 15;  // readings of air-temperature history given to the slope baseline
};

// The baseline row of `device` at `time_us`: from its latest reading at or before that instant (a
// pipeline's fill may end a window on a filled-in instant), at most `max_age_s` older. NotFound
// otherwise.
// The features are the current reading's sensor fields (everything but the label and case type)
// plus a one-hot case type.
Result<CaseSample> BaselineRowAt(const DeviceReadings& readings, const std::string& device,
                                 int64_t time_us, const BaselineRowOptions& options = {},
                                 double max_age_s = 600);

// Baseline rows of every reading with a finite label, every `stride`-th reading per device
// (training data for the baselines).
std::vector<CaseSample> BaselineTrainingRows(const DeviceReadings& readings, int stride,
                                             const BaselineRowOptions& options = {});

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_CASE_SAMPLES_H_
