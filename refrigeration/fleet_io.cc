// Writing a simulated fleet out: its schema, its samples as records, CSV / JSON lines to a file
// descriptor.
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <vector>

#include "nemesyst/refrigeration/fleet.h"
#include "nemesyst/timestamp.h"

namespace nemesyst::refrigeration {
namespace {

int FieldCount(const FleetSimulator& sim) {
  return sim.options().labels ? kSimFieldCount : kSimFieldCount - 1;
}

// Buffered writes to a file descriptor.
class FdWriter {
 public:
  explicit FdWriter(int fd) : fd_(fd) { buffer_.resize(1 << 20); }
  char* Reserve(size_t n) {
    if (used_ + n > buffer_.size()) {
      status_ = Flush();
      if (n > buffer_.size()) buffer_.resize(n);
    }
    return buffer_.data() + used_;
  }
  void Commit(size_t n) { used_ += n; }
  void Append(std::string_view s) {
    char* p = Reserve(s.size());
    std::memcpy(p, s.data(), s.size());
    Commit(s.size());
  }
  Status Flush() {
    size_t off = 0;
    while (off < used_) {
      const ssize_t n = ::write(fd_, buffer_.data() + off, used_ - off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::IOError(std::string("write: ") + std::strerror(errno));
      off += static_cast<size_t>(n);
    }
    used_ = 0;
    return Status::OK();
  }
  const Status& status() const { return status_; }

 private:
  int fd_;
  std::vector<char> buffer_;
  size_t used_ = 0;
  Status status_;
};

char* WriteTime(char* p, int64_t us, TimestampFormat format) {
  switch (format) {
    case TimestampFormat::kAuto:
    case TimestampFormat::kIso8601:
      return p + FormatIso8601(us, p);
    case TimestampFormat::kEpochSeconds:
      if (us % 1000000 == 0) return std::to_chars(p, p + 24, us / 1000000).ptr;
      return std::to_chars(p, p + 32, static_cast<double>(us) / 1e6).ptr;
    case TimestampFormat::kEpochMillis:
      if (us % 1000 == 0) return std::to_chars(p, p + 24, us / 1000).ptr;
      return std::to_chars(p, p + 32, static_cast<double>(us) / 1e3).ptr;
    case TimestampFormat::kEpochMicros:
      return std::to_chars(p, p + 24, us).ptr;
    case TimestampFormat::kEpochNanos: {
      p = std::to_chars(p, p + 24, us).ptr;
      std::memcpy(p, "000", 3);
      return p + 3;
    }
  }
  return p;
}

}  // namespace

std::string RecordsToCsv(std::span<const Record> records) {
  std::string csv = "device,timestamp";
  for (const std::string& f : SimulatorFields()) csv += "," + f;
  csv += "\n";
  char buf[32];
  for (const Record& r : records) {
    csv += r.device_id;
    csv += ',';
    csv.append(buf, WriteTime(buf, r.timestamp_us, TimestampFormat::kEpochMicros));
    for (double v : r.values) {
      csv += ',';
      csv.append(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
    }
    csv += '\n';
  }
  return csv;
}

StreamSchema SimulatorSchema(bool labels) {
  StreamSchema schema;
  auto add = [&](const char* name, FieldType type, const char* unit, double lo, double hi) {
    FieldSpec f;
    f.name = name;
    f.type = type;
    f.unit = unit;
    f.min_value = lo;
    f.max_value = hi;
    schema.fields.push_back(f);
  };
  add("air_on_c", FieldType::kFloat32, "degC", -60, 80);
  add("air_off_c", FieldType::kFloat32, "degC", -60, 80);
  add("product_c", FieldType::kFloat32, "degC", -60, 80);
  add("ambient_c", FieldType::kFloat32, "degC", -20, 60);
  add("cooling", FieldType::kInt32, "", 0, 1);
  add("defrost", FieldType::kInt32, "", 0, 1);
  add("power_kw", FieldType::kFloat32, "kW", 0, 100);
  add("case_type", FieldType::kInt32, "", 0, kCaseTypeCount - 1);
  if (labels) add("safe_off_s", FieldType::kFloat32, "s", 0, 3600);
  return schema;
}

void SampleToRecord(const FleetSimulator& sim, const SimSample& sample, Record* record) {
  const int n = FieldCount(sim);
  record->device_id = sim.cases()[sample.case_index].device;
  record->timestamp_us = sample.time_us;
  record->values.resize(n);
  for (int i = 0; i < n; ++i) record->values[i] = sample.values[i];
}

Status WriteFleet(const FleetSimulator& sim, int fd, const FleetWriteOptions& options,
                  uint64_t* rows_written) {
  const int n = FieldCount(sim);
  const std::vector<std::string>& names = SimulatorFields();
  const bool csv = options.format == SimOutputFormat::kCsv;
  FdWriter out(fd);
  if (csv) {
    out.Append("device,timestamp");
    for (int i = 0; i < n; ++i) {
      out.Append(",");
      out.Append(names[i]);
    }
    out.Append("\n");
  }
  uint64_t rows = 0;
  Status status = sim.GenerateFleet([&](const SimSample* samples, size_t count) -> Status {
    for (size_t s = 0; s < count; ++s) {
      const SimSample& sample = samples[s];
      char* const start = out.Reserve(512);
      char* p = start;
      const std::string& device = sim.cases()[sample.case_index].device;
      if (csv) {
        std::memcpy(p, device.data(), device.size());
        p += device.size();
        *p++ = ',';
        p = WriteTime(p, sample.time_us, options.timestamp);
      } else {
        p += std::snprintf(p, 64, "{\"device\":\"%s\",\"timestamp\":", device.c_str());
        const bool quoted = options.timestamp == TimestampFormat::kIso8601 ||
                            options.timestamp == TimestampFormat::kAuto;
        if (quoted) *p++ = '"';
        p = WriteTime(p, sample.time_us, options.timestamp);
        if (quoted) *p++ = '"';
      }
      for (int i = 0; i < n; ++i) {
        *p++ = ',';
        if (!csv) {
          *p++ = '"';
          std::memcpy(p, names[i].data(), names[i].size());
          p += names[i].size();
          *p++ = '"';
          *p++ = ':';
        }
        p = std::to_chars(p, p + 32, sample.values[i]).ptr;
      }
      if (!csv) *p++ = '}';
      *p++ = '\n';
      out.Commit(static_cast<size_t>(p - start));
    }
    rows += count;
    return out.status();
  });
  if (rows_written) *rows_written = rows;
  NEMESYST_RETURN_IF_ERROR(status);
  return out.Flush();
}

}  // namespace nemesyst::refrigeration
