// A simulated fleet's sensor feed as data: its stream schema, its rows as store records, written
// to a file (CSV / JSON lines, as `nemesyst simulate --out` does) or appended to a store stream
// in atomic batches (as `nemesyst simulate --into-stream` and the demo do).
//
// Thread-safety: pure functions, except that one ingest per stream should run at a time (the
// store itself is thread-safe).
#ifndef NEMESYST_REFRIGERATION_FLEET_H_
#define NEMESYST_REFRIGERATION_FLEET_H_

#include <cstdint>
#include <span>
#include <string>

#include "nemesyst/ingest.h"
#include "nemesyst/logger.h"
#include "nemesyst/refrigeration/simulator.h"
#include "nemesyst/status.h"
#include "nemesyst/store.h"

namespace nemesyst::refrigeration {

// The schema of a simulated fleet stream: SimulatorFields() in order with units and valid
// ranges (cooling, defrost, case_type as int32). Without labels, safe_off_s is left out (the
// store refuses NaN).
StreamSchema SimulatorSchema(bool labels);
// A sample as a store record (device id "store-0003/case-07", values in schema order).
void SampleToRecord(const FleetSimulator& sim, const SimSample& sample, Record* record);

enum class SimOutputFormat { kCsv, kJsonLines };
struct FleetWriteOptions {
  SimOutputFormat format = SimOutputFormat::kCsv;
  // kIso8601 ("2026-01-05T00:01:00Z") or an epoch unit; kAuto means kIso8601.
  TimestampFormat timestamp = TimestampFormat::kIso8601;
};
// Writes the whole fleet (interleaved by time, as a live feed) to `fd` (not closed): CSV with a
// header "device,timestamp,<fields>", or one JSON object per line. Numbers are written in their
// shortest exact form, so ingesting the output gives back the same float values.
Status WriteFleet(const FleetSimulator& sim, int fd, const FleetWriteOptions& options,
                  uint64_t* rows_written);

// Records of SimulatorSchema(true) (values in SimulatorFields() order) as CSV with the header
// "device,timestamp,<fields>" and epoch-microsecond timestamps (ingest option timestamp_format
// "us"), numbers in their shortest exact form: what a live feed pushes to a store node.
std::string RecordsToCsv(std::span<const Record> records);

// How the samples are grouped into appends.
enum class IngestOrder {
  // As a live feed arrives: every case interleaved by time, `batch_records` per append.
  kInterleaved,
  // As a backfill arrives: one append per case and day (a store server uploading each case's
  // day). Reads of one device's history then touch only that device's batches, which keeps
  // per-device history queries (consumer-group windows) linear in the data.
  kCaseDays,
};

struct FleetIngestOptions {
  IngestOrder order = IngestOrder::kInterleaved;
  uint32_t batch_records = 20000;  // records per atomic append (kInterleaved), ≥ 1
  Logger* logger = nullptr;        // NullLogger() when null
};

struct FleetIngestResult {
  uint64_t records = 0;
  SeqRange seqs;
};

// Creates `stream` with SimulatorSchema (an existing stream must have the same field names and
// types: FailedPrecondition otherwise) and appends every sample. A sample with a missing value is
// a missing reading and is skipped (the store refuses holes).
Result<FleetIngestResult> IngestSimulatedFleet(Store& store, const std::string& stream,
                                               const FleetSimulator& simulator,
                                               const FleetIngestOptions& options = {});

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_FLEET_H_
