// Ingest: parse (CSV or JSON lines), validate against the schema, batch, append; bad rows are
// rejected or dead-lettered (see include/nemesyst/ingest.h). The hot path (unquoted CSV) does no
// per-row allocation: records of the batch are reused, numbers parsed with fast_float.
#include "nemesyst/ingest.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <span>
#include <unordered_map>

#include <fast_float/fast_float.h>
#include <nlohmann/json.hpp>

#include "common/read_file.h"
#include "nemesyst/store.h"
#include "nemesyst/timestamp.h"
#include "stream/line_reader.h"

namespace nemesyst {
namespace {

// At most this much of an offending value is quoted back in an error: a 2 MB field must not
// become a 2 MB message (the raw row itself is kept whole or as a prefix by dead-lettering).
constexpr size_t kMaxQuotedBytes = 64;

std::string Quoted(std::string_view text) {
  if (text.size() <= kMaxQuotedBytes) return "'" + std::string(text) + "'";
  return "'" + std::string(text.substr(0, kMaxQuotedBytes)) + "...' (" +
         std::to_string(text.size()) + " bytes)";
}

using stream::LineReader;

// What an input column is for.
enum Role : int { kIgnore = -3, kDevice = -2, kTimestamp = -1 };  // >= 0: schema field index

struct RowError {
  int column = 0;
  std::string reason;
};

class Ingester {
 public:
  Ingester(Store& store, const std::string& name, const IngestOptions& options,
           const StreamSchema& schema, IngestReport* report)
      : store_(store), name_(name), options_(options), schema_(schema), report_(report) {
    // batch_ grows as rows arrive (a one-row append does not pay for batch_rows slots) and its
    // slots are reused from batch to batch.
    // Per field, the interval a value must lie in: the schema's range intersected with what the
    // type can hold. Values inside it (every good row) pass with two comparisons.
    for (const FieldSpec& f : schema.fields) {
      double lo = f.min_value ? *f.min_value : -std::numeric_limits<double>::infinity();
      double hi = f.max_value ? *f.max_value : std::numeric_limits<double>::infinity();
      if (f.type == FieldType::kFloat32) {
        lo = std::max(lo, -static_cast<double>(std::numeric_limits<float>::max()));
        hi = std::min(hi, static_cast<double>(std::numeric_limits<float>::max()));
      } else if (f.type == FieldType::kInt32) {
        lo = std::max(lo, -2147483648.0);
        hi = std::min(hi, 2147483647.0);
      }
      bounds_.push_back({lo, hi, f.type == FieldType::kInt32});
    }
  }

  // Maps an input name (after renaming) to its role; error text when unknown.
  Result<int> RoleOf(const std::string& raw) const {
    auto renamed = options_.rename.find(raw);
    const std::string& name = renamed == options_.rename.end() ? raw : renamed->second;
    if (name == options_.device_column) return static_cast<int>(kDevice);
    if (name == options_.timestamp_column) return static_cast<int>(kTimestamp);
    for (size_t i = 0; i < schema_.fields.size(); ++i) {
      if (schema_.fields[i].name == name) return static_cast<int>(i);
    }
    if (options_.ignore_unknown) return static_cast<int>(kIgnore);
    return Status::InvalidArgument("unknown field " + Quoted(raw) +
                                   " (not in the schema of stream '" + options_.stream +
                                   "', not the device or timestamp column)");
  }

  // Parses one value of field `index` into `out`; error text otherwise.
  bool ParseValue(int index, std::string_view text, double* out, std::string* why) const {
    const FieldSpec& f = schema_.fields[index];
    if (text.empty()) {
      *why = "missing value for field '" + f.name + "'";
      return false;
    }
    double v = 0;
    const auto r = fast_float::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size() || !std::isfinite(v)) {
      *why = "cannot parse " + Quoted(text) + " as a number for field '" + f.name + "'";
      return false;
    }
    return CheckValue(index, v, out, why);
  }

  bool CheckValue(int index, double v, double* out, std::string* why) const {
    const Bounds& b = bounds_[index];
    if (v >= b.lo && v <= b.hi && (!b.integer || v == std::trunc(v))) {
      *out = v;
      return true;
    }
    return CheckValueSlow(index, v, out, why);
  }

  // The full checks, in the order their messages are reported.
  bool CheckValueSlow(int index, double v, double* out, std::string* why) const {
    const FieldSpec& f = schema_.fields[index];
    if (f.type == FieldType::kInt32 &&
        (v != std::trunc(v) || v < -2147483648.0 || v > 2147483647.0)) {
      *why = "value " + Format(v) + " of field '" + f.name + "' is not a 32-bit integer";
      return false;
    }
    if (f.type == FieldType::kFloat32 && std::fabs(v) > std::numeric_limits<float>::max()) {
      *why = "value " + Format(v) + " of field '" + f.name + "' does not fit float32";
      return false;
    }
    if ((f.min_value && v < *f.min_value) || (f.max_value && v > *f.max_value)) {
      *why = "value " + Format(v) + " of field '" + f.name + "' is outside the schema range [" +
             (f.min_value ? Format(*f.min_value) : "-inf") + ", " +
             (f.max_value ? Format(*f.max_value) : "inf") + "]";
      return false;
    }
    *out = v;
    return true;
  }

  // The store's limits on a device id, checked per row so the row's line is named and only that
  // row is refused (or dead-lettered), never its whole batch at append time.
  bool CheckDevice(std::string_view id, std::string* why) const {
    *why = DeviceIdProblem(id);
    return why->empty();
  }

  bool ParseTime(std::string_view text, int64_t* us, std::string* why) const {
    bool ok = false;
    switch (options_.timestamp_format) {
      case TimestampFormat::kAuto: {
        const bool iso =
            text.size() > 4 && (text[4] == '-' || text.find('T') != std::string_view::npos);
        ok = iso ? ParseIso8601(text, us) : ParseEpoch(text, EpochUnit::kSeconds, us);
        break;
      }
      case TimestampFormat::kIso8601:
        ok = ParseIso8601(text, us);
        break;
      case TimestampFormat::kEpochSeconds:
        ok = ParseEpoch(text, EpochUnit::kSeconds, us);
        break;
      case TimestampFormat::kEpochMillis:
        ok = ParseEpoch(text, EpochUnit::kMilliseconds, us);
        break;
      case TimestampFormat::kEpochMicros:
        ok = ParseEpoch(text, EpochUnit::kMicroseconds, us);
        break;
      case TimestampFormat::kEpochNanos:
        ok = ParseEpoch(text, EpochUnit::kNanoseconds, us);
        break;
    }
    if (!ok) *why = "cannot parse timestamp " + Quoted(text);
    return ok;
  }

  Record& Slot() {
    if (used_ == batch_.size()) {
      batch_.emplace_back();
      batch_.back().values.resize(schema_.fields.size());
    }
    return batch_[used_];
  }
  int field_count() const { return static_cast<int>(schema_.fields.size()); }
  const std::string& field_name(size_t i) const { return schema_.fields[i].name; }

  // The slot is filled and valid except for the per-device order: check it, keep it.
  bool Accept(uint64_t line, int timestamp_column, std::string_view raw) {
    Record& r = batch_[used_];
    // Rows of one device usually come in runs: look the device up once per run.
    if (last_device_us_ != nullptr && r.device_id == last_device_) {
      if (r.timestamp_us > *last_device_us_) {
        *last_device_us_ = r.timestamp_us;
        ++used_;
        return true;
      }
    }
    auto it = last_us_.find(r.device_id);
    if (it != last_us_.end() && r.timestamp_us <= it->second) {
      return Bad(line, timestamp_column,
                 "timestamp does not advance for device " + Quoted(r.device_id) + " (" +
                     std::to_string(r.timestamp_us) + " us after " + std::to_string(it->second) +
                     " us)",
                 raw);
    }
    if (it == last_us_.end()) {
      it = last_us_.emplace(r.device_id, r.timestamp_us).first;
    } else {
      it->second = r.timestamp_us;
    }
    last_device_ = r.device_id;
    last_device_us_ = &it->second;  // element pointers survive rehashing
    ++used_;
    return true;
  }

  // Records a bad row. Returns false when ingest must stop (reject policy).
  bool Bad(uint64_t line, int column, std::string reason, std::string_view raw) {
    ++report_->errors;
    if (report_->error_details.size() < options_.max_reported_errors) {
      report_->error_details.push_back(IngestError{name_, line, column, reason});
    }
    if (options_.on_error == OnError::kReject) {
      report_->rejected = true;
      used_ = 0;  // the failing batch is never written
      dead_.clear();
      return false;
    }
    dead_.push_back(Dead{name_ + ":" + std::to_string(line) + ":" + std::to_string(column),
                         std::move(reason), std::string(raw)});
    return true;
  }

  bool Full() const { return used_ >= options_.batch_rows; }

  Status Flush() {
    if (used_ > 0 && options_.dry_run) {
      report_->rows_committed += used_;
      ++report_->batches_committed;
      used_ = 0;
    }
    if (options_.dry_run) {
      report_->rows_dead_lettered += dead_.size();
      dead_.clear();
      return Status::OK();
    }
    if (used_ > 0) {
      Result<SeqRange> appended =
          store_.Append(options_.stream, std::span<const Record>(batch_.data(), used_));
      if (!appended.ok()) {
        return appended.status().WithContext(name_ + ": appending a batch of " +
                                             std::to_string(used_) + " rows");
      }
      report_->rows_committed += used_;
      ++report_->batches_committed;
      report_->appended.push_back(*appended);
      used_ = 0;
    }
    for (const Dead& d : dead_) {
      NEMESYST_RETURN_IF_ERROR(
          store_.AppendDeadLetterRow(options_.stream, d.source, d.reason, d.raw).status());
      ++report_->rows_dead_lettered;
    }
    dead_.clear();
    return Status::OK();
  }

 private:
  static std::string Format(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
  }
  struct Dead {
    std::string source, reason, raw;
  };

  Store& store_;
  const std::string& name_;
  const IngestOptions& options_;
  const StreamSchema& schema_;
  IngestReport* report_;
  std::vector<Record> batch_;
  size_t used_ = 0;
  std::vector<Dead> dead_;
  std::unordered_map<std::string, int64_t> last_us_;
  std::string last_device_;            // device of the last accepted row
  int64_t* last_device_us_ = nullptr;  // its entry in last_us_
  struct Bounds {
    double lo, hi;
    bool integer;
  };
  std::vector<Bounds> bounds_;  // per schema field
};

constexpr const char* kTruncated = "truncated last line (the input does not end with a line break)";

Status IngestCsv(LineReader& reader, Ingester& ingester, const std::string& name,
                 IngestReport* report) {
  LineReader::Item item;
  std::vector<std::string_view> fields;
  std::deque<std::string> scratch;
  std::string why;
  int why_column = 0;
  NEMESYST_ASSIGN_OR_RETURN(bool has_header, reader.Next(true, &item));
  if (!has_header) return Status::InvalidArgument(name + ": empty input (no header row)");
  if (!stream::SplitCsv(item.text, item.has_quote, &fields, &scratch, &why, &why_column)) {
    return Status::InvalidArgument(name + ":1:" + std::to_string(why_column) + ": " + why);
  }
  std::vector<int> roles;
  int device_col = 0, time_col = 0;
  std::vector<bool> seen_field;
  for (size_t c = 0; c < fields.size(); ++c) {
    Result<int> role = ingester.RoleOf(std::string(fields[c]));
    if (!role.ok()) {
      return Status::InvalidArgument(name + ":" + std::to_string(item.line) + ":" +
                                     std::to_string(c + 1) + ": " +
                                     std::string(role.status().message()));
    }
    if (*role == kDevice) device_col = static_cast<int>(c) + 1;
    if (*role == kTimestamp) time_col = static_cast<int>(c) + 1;
    for (size_t p = 0; p < c; ++p) {
      if (roles[p] == *role && *role != kIgnore) {
        return Status::InvalidArgument(
            name + ":1:" + std::to_string(c + 1) + ": column '" + std::string(fields[c]) +
            "' maps to the same field as column " + std::to_string(p + 1));
      }
    }
    roles.push_back(*role);
  }
  if (device_col == 0 || time_col == 0) {
    return Status::InvalidArgument(name +
                                   ":1: the header needs a device column and a timestamp column");
  }
  std::vector<bool> covered(ingester.field_count(), false);
  for (int role : roles) {
    if (role >= 0) covered[role] = true;
  }
  std::string missing;
  for (int f = 0; f < ingester.field_count(); ++f) {
    if (!covered[f]) missing += (missing.empty() ? "'" : ", '") + ingester.field_name(f) + "'";
  }
  if (!missing.empty()) {
    return Status::InvalidArgument(name + ":1: the header has no column for schema field" +
                                   (missing.find(',') == std::string::npos ? " " : "s ") + missing);
  }
  const size_t expected = roles.size();
  for (;;) {
    NEMESYST_ASSIGN_OR_RETURN(bool more, reader.Next(true, &item));
    if (!more) break;
    if (item.text.empty() && item.terminated) continue;  // blank line
    ++report->rows_read;
    bool ok = true;
    if (item.open_quote) {
      ok = ingester.Bad(item.line, 0,
                        "unterminated quoted field: the quote opened on this line is never "
                        "closed (the rest of the input is inside it)",
                        item.text);
    } else if (!item.terminated) {
      ok = ingester.Bad(item.line, 0, kTruncated, item.text);
    } else if (!stream::SplitCsv(item.text, item.has_quote, &fields, &scratch, &why, &why_column)) {
      ok = ingester.Bad(item.line, why_column, why, item.text);
    } else if (fields.size() != expected) {
      ok = ingester.Bad(
          item.line, 0,
          "expected " + std::to_string(expected) + " columns, got " + std::to_string(fields.size()),
          item.text);
    } else {
      Record& r = ingester.Slot();
      bool good = true;
      for (size_t c = 0; c < expected && good; ++c) {
        const int role = roles[c];
        if (role >= 0) {
          good = ingester.ParseValue(role, fields[c], &r.values[role], &why);
        } else if (role == kDevice) {
          good = ingester.CheckDevice(fields[c], &why);
          if (good) r.device_id.assign(fields[c]);
        } else if (role == kTimestamp) {
          good = ingester.ParseTime(fields[c], &r.timestamp_us, &why);
        }
        if (!good) ok = ingester.Bad(item.line, static_cast<int>(c) + 1, why, item.text);
      }
      if (good) ok = ingester.Accept(item.line, time_col, item.text);
    }
    if (!ok) return Status::OK();
    if (ingester.Full()) NEMESYST_RETURN_IF_ERROR(ingester.Flush());
  }
  return ingester.Flush();
}

// A parser callback that counts the keys of the top-level object as the parser meets them.
nlohmann::ordered_json::parser_callback_t CountTopLevelKeys(size_t* count) {
  return [count](int depth, nlohmann::ordered_json::parse_event_t event, nlohmann::ordered_json&) {
    if (depth == 1 && event == nlohmann::ordered_json::parse_event_t::key) ++*count;
    return true;
  };
}

// The first top-level key of a JSON object text that occurs twice (the slow path of a bad row).
std::string RepeatedKey(std::string_view text) {
  std::vector<std::string> keys;
  std::string repeated;
  const nlohmann::ordered_json discarded = nlohmann::ordered_json::parse(
      text,
      [&](int depth, nlohmann::ordered_json::parse_event_t event, nlohmann::ordered_json& parsed) {
        if (depth == 1 && event == nlohmann::ordered_json::parse_event_t::key && repeated.empty()) {
          const std::string& key = parsed.get_ref<const std::string&>();
          if (std::find(keys.begin(), keys.end(), key) != keys.end()) repeated = key;
          keys.push_back(key);
        }
        return true;
      },
      false);
  (void)discarded;
  return repeated;
}

Status IngestJsonLines(LineReader& reader, Ingester& ingester, IngestReport* report) {
  LineReader::Item item;
  std::string why;
  std::vector<bool> seen;
  for (;;) {
    NEMESYST_ASSIGN_OR_RETURN(bool more, reader.Next(false, &item));
    if (!more) break;
    if (item.text.find_first_not_of(" \t") == std::string_view::npos && item.terminated) continue;
    ++report->rows_read;
    bool ok = true;
    if (!item.terminated) {
      ok = ingester.Bad(item.line, 0, kTruncated, item.text);
    } else {
      nlohmann::ordered_json row;
      size_t top_level_keys = 0;
      try {
        row = nlohmann::ordered_json::parse(item.text, CountTopLevelKeys(&top_level_keys));
      } catch (const std::exception& e) {
        why = std::string("invalid JSON: ") + e.what();
        row = nullptr;
      }
      if (row.is_null() || !row.is_object()) {
        if (!row.is_null()) why = "a JSON lines row must be an object";
        ok = ingester.Bad(item.line, 0, why, item.text);
      } else if (top_level_keys != row.size()) {
        // The parser keeps one value of a repeated key silently; refuse the row instead, as a
        // CSV header that names a column twice is refused.
        ok = ingester.Bad(item.line, 0, "duplicate key " + Quoted(RepeatedKey(item.text)),
                          item.text);
      } else {
        Record& r = ingester.Slot();
        seen.assign(ingester.field_count(), false);
        bool good = true, has_device = false, has_time = false;
        int column = 0, time_column = 0;
        for (auto it = row.begin(); it != row.end() && good; ++it) {
          ++column;
          Result<int> role = ingester.RoleOf(it.key());
          if (!role.ok()) {
            why = std::string(role.status().message());
            good = false;
          } else if (*role >= 0) {
            if (!it->is_number()) {
              why = "field " + Quoted(it.key()) + " must be a number";
              good = false;
            } else {
              good = ingester.CheckValue(*role, it->get<double>(), &r.values[*role], &why);
              seen[*role] = true;
            }
          } else if (*role == kDevice) {
            good = it->is_string();
            if (!good) why = Quoted(it.key()) + " must be a string";
            good = good && ingester.CheckDevice(it->get_ref<const std::string&>(), &why);
            if (good) r.device_id = it->get<std::string>();
            has_device = good;
          } else if (*role == kTimestamp) {
            time_column = column;
            const std::string text = it->is_string() ? it->get<std::string>() : it->dump();
            good = ingester.ParseTime(text, &r.timestamp_us, &why);
            has_time = good;
          }
          if (!good) ok = ingester.Bad(item.line, column, why, item.text);
        }
        if (good) {
          for (size_t f = 0; f < seen.size() && good; ++f) {
            if (!seen[f]) {
              good = false;
              ok = ingester.Bad(item.line, 0, "missing field '" + ingester.field_name(f) + "'",
                                item.text);
            }
          }
          if (good && (!has_device || !has_time)) {
            good = false;
            ok = ingester.Bad(item.line, 0, "missing device or timestamp", item.text);
          }
        }
        if (good) ok = ingester.Accept(item.line, time_column, item.text);
      }
    }
    if (!ok) return Status::OK();
    if (ingester.Full()) NEMESYST_RETURN_IF_ERROR(ingester.Flush());
  }
  return ingester.Flush();
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string IngestError::ToString() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + reason;
}

Result<IngestFormat> ParseIngestFormat(std::string_view text) {
  if (text == "auto") return IngestFormat::kAuto;
  if (text == "csv") return IngestFormat::kCsv;
  if (text == "jsonl" || text == "json") return IngestFormat::kJsonLines;
  return Status::InvalidArgument("format must be auto, csv or jsonl");
}

Result<OnError> ParseOnError(std::string_view text) {
  if (text == "reject") return OnError::kReject;
  if (text == "dead-letter") return OnError::kDeadLetter;
  return Status::InvalidArgument("on-error must be reject or dead-letter");
}

Result<TimestampFormat> ParseTimestampFormat(std::string_view text) {
  if (text == "auto") return TimestampFormat::kAuto;
  if (text == "iso") return TimestampFormat::kIso8601;
  if (text == "s") return TimestampFormat::kEpochSeconds;
  if (text == "ms") return TimestampFormat::kEpochMillis;
  if (text == "us") return TimestampFormat::kEpochMicros;
  if (text == "ns") return TimestampFormat::kEpochNanos;
  return Status::InvalidArgument("timestamp format must be auto, iso, s, ms, us or ns");
}

namespace {

IngestFormat ResolveFormat(IngestFormat format, const std::string& name, LineReader& reader,
                           Status* status) {
  if (format != IngestFormat::kAuto) return format;
  if (EndsWith(name, ".jsonl") || EndsWith(name, ".ndjson") || EndsWith(name, ".json")) {
    return IngestFormat::kJsonLines;
  }
  if (EndsWith(name, ".csv")) return IngestFormat::kCsv;
  Result<int> first = reader.PeekNonSpace();
  if (!first.ok()) *status = first.status();
  return first.ok() && *first == '{' ? IngestFormat::kJsonLines : IngestFormat::kCsv;
}

}  // namespace

Status IngestFd(Store& store, int fd, const std::string& name, const IngestOptions& options,
                IngestReport* report) {
  *report = IngestReport();
  if (options.batch_rows == 0) return Status::InvalidArgument("ingest: batch_rows must be >= 1");
  NEMESYST_ASSIGN_OR_RETURN(StreamSchema schema, store.GetSchema(options.stream));
  Ingester ingester(store, name, options, schema, report);
  LineReader reader(fd);
  Status status;
  const IngestFormat format = ResolveFormat(options.format, name, reader, &status);
  NEMESYST_RETURN_IF_ERROR(status);
  status = format == IngestFormat::kCsv ? IngestCsv(reader, ingester, name, report)
                                        : IngestJsonLines(reader, ingester, report);
  report->bytes_read = reader.bytes_read();
  return status;
}

Result<std::vector<std::string>> ReadInputColumns(const std::string& path,
                                                  const IngestOptions& options) {
  NEMESYST_ASSIGN_OR_RETURN(const int fd, OpenInputFile(path, "input file"));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  LineReader reader(fd, 1 << 16);
  Status status;
  const IngestFormat format = ResolveFormat(options.format, path, reader, &status);
  NEMESYST_RETURN_IF_ERROR(status);
  LineReader::Item item;
  std::vector<std::string> names;
  auto add = [&](std::string_view name) {
    auto it = options.rename.find(std::string(name));
    names.push_back(it == options.rename.end() ? std::string(name) : it->second);
  };
  if (format == IngestFormat::kCsv) {
    NEMESYST_ASSIGN_OR_RETURN(bool has_header, reader.Next(true, &item));
    if (!has_header) return Status::InvalidArgument(path + ": empty input (no header row)");
    std::vector<std::string_view> fields;
    std::deque<std::string> scratch;
    std::string why;
    int why_column = 0;
    if (!stream::SplitCsv(item.text, item.has_quote, &fields, &scratch, &why, &why_column)) {
      return Status::InvalidArgument(path + ":1:" + std::to_string(why_column) + ": " + why);
    }
    for (std::string_view f : fields) add(f);
    return names;
  }
  for (;;) {
    NEMESYST_ASSIGN_OR_RETURN(bool more, reader.Next(false, &item));
    if (!more) return Status::InvalidArgument(path + ": empty input (no rows)");
    if (item.text.find_first_not_of(" \t") != std::string_view::npos) break;
  }
  nlohmann::ordered_json row = nlohmann::ordered_json::parse(item.text, nullptr, false);
  if (row.is_discarded() || !row.is_object()) {
    return Status::InvalidArgument(path + ":" + std::to_string(item.line) +
                                   ": the first row is not a JSON object");
  }
  for (const auto& [key, value] : row.items()) add(key);
  return names;
}

Status Ingest(Store& store, const std::string& path, const IngestOptions& options,
              IngestReport* report) {
  if (path == "-") return IngestFd(store, STDIN_FILENO, "<stdin>", options, report);
  Result<int> fd = OpenInputFile(path, "input file");
  if (!fd.ok()) {
    *report = IngestReport();
    return fd.status();
  }
  Status status = IngestFd(store, *fd, path, options, report);
  ::close(*fd);
  return status;
}

}  // namespace nemesyst
