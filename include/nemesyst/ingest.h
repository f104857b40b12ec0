// Ingest: CSV (RFC 4180, header row) and JSON lines, from a file or standard input, validated
// against a stream's schema and appended in atomic batches (docs/ingest.md).
//
// Every bad row is reported with file, line, column and reason: wrong column count, unparsable
// number or timestamp, unknown field, value outside the schema's range, a timestamp that does not
// advance for its device, a truncated last line (input that does not end with a line break).
//   OnError::kReject (default): the batch holding the first bad row is not written; ingest stops;
//     the report says how many rows earlier batches committed.
//   OnError::kDeadLetter: bad rows go, with their reason, to the store's dead-letter rows for the
//     stream (Store::ListDeadLetterRows); good rows go in.
// Either way a batch is appended whole or not at all (one Store::Append per batch).
//
// Thread-safety: Ingest may run concurrently with other writers of the same store.
#ifndef NEMESYST_INGEST_H_
#define NEMESYST_INGEST_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nemesyst/export.h"
#include "nemesyst/status.h"
#include "nemesyst/store_types.h"

namespace nemesyst {

class Store;

enum class IngestFormat { kAuto, kCsv, kJsonLines };
enum class OnError { kReject, kDeadLetter };
// How timestamps are written. kAuto: ISO-8601 when the text has a '-' after its first digit or a
// 'T', otherwise epoch seconds.
enum class TimestampFormat {
  kAuto,
  kIso8601,
  kEpochSeconds,
  kEpochMillis,
  kEpochMicros,
  kEpochNanos
};

NEMESYST_EXPORT Result<IngestFormat> ParseIngestFormat(std::string_view text);  // auto|csv|jsonl
NEMESYST_EXPORT Result<OnError> ParseOnError(std::string_view text);  // reject|dead-letter
NEMESYST_EXPORT Result<TimestampFormat> ParseTimestampFormat(
    std::string_view text);  // auto|iso|s|ms|us|ns

struct IngestOptions {
  std::string stream;                         // must exist (its schema is the contract)
  IngestFormat format = IngestFormat::kAuto;  // kAuto: by extension (.jsonl/.ndjson/.json), else
                                              // by the first byte ('{' = JSON lines)
  std::string device_column = "device";
  std::string timestamp_column = "timestamp";
  TimestampFormat timestamp_format = TimestampFormat::kAuto;
  // Input column/key -> schema field, for sources whose names differ. Unmapped names are used
  // as they are.
  std::map<std::string, std::string> rename;
  // Columns/keys that are neither the device, the timestamp nor a schema field are an error
  // (default), or ignored when true.
  bool ignore_unknown = false;
  uint32_t batch_rows = 10000;  // rows per atomic append
  OnError on_error = OnError::kReject;
  // Parse and validate only: nothing is written (rows_committed counts the rows that would be).
  bool dry_run = false;
  // Stop collecting error details after this many (counts go on).
  size_t max_reported_errors = 100;
};

struct IngestError {
  std::string file;   // the path, or "<stdin>"
  uint64_t line = 0;  // 1-based physical line where the row starts
  int column = 0;     // 1-based column (CSV field index; JSON: key position), 0 = whole row
  std::string reason;
  std::string ToString() const;  // "file:line:column: reason"
};

struct IngestReport {
  uint64_t rows_read = 0;       // data rows seen (header excluded)
  uint64_t rows_committed = 0;  // appended to the stream
  uint64_t rows_dead_lettered = 0;
  uint64_t batches_committed = 0;
  uint64_t bytes_read = 0;
  uint64_t errors = 0;  // bad rows seen (all, even beyond max_reported_errors)
  std::vector<IngestError> error_details;
  bool rejected = false;  // kReject stopped on a bad row (the first error_details entry)
  // The sequence numbers each committed batch got, in order (other writers of the stream may
  // interleave between batches).
  std::vector<SeqRange> appended;
};

// Reads `path` ("-" = standard input) into `options.stream`. A rejected input returns OK with
// report.rejected set (the CLI exits 1); a non-OK Status means ingest could not run at all
// (unknown stream, unreadable file, a bad header, a store write failure) — with the report of
// what was committed before in `*report`.
NEMESYST_EXPORT Status Ingest(Store& store, const std::string& path, const IngestOptions& options,
                              IngestReport* report);
// The same from a file descriptor (not closed); `name` is used in error reports.
NEMESYST_EXPORT Status IngestFd(Store& store, int fd, const std::string& name,
                                const IngestOptions& options, IngestReport* report);

// IngestOptions as a JSON object (what `ingest --connect` sends a node with the rows; the "op"
// key is left to the caller): {"stream", "format", "device_column", "timestamp_column",
// "timestamp_format", "map": {...}, "ignore_unknown", "batch_rows", "on_error", "dry_run"}.
// FromJson takes missing keys at their defaults; errors name the key.
NEMESYST_EXPORT std::string IngestOptionsToJson(const IngestOptions& options);
NEMESYST_EXPORT Result<IngestOptions> IngestOptionsFromJson(std::string_view json_text);

// The names an input file offers, after `options.rename`: the CSV header's columns, or the keys
// of the first JSON-lines row. Reads only that first row (format chosen as Ingest does); lets a
// caller pick the schema to ingest with (e.g. `predict --input` with or without the label).
NEMESYST_EXPORT Result<std::vector<std::string>> ReadInputColumns(const std::string& path,
                                                                  const IngestOptions& options);

}  // namespace nemesyst

#endif  // NEMESYST_INGEST_H_
