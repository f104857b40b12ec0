// Putting a simulated fleet's sensor feed into a store stream, as a real fleet's feed would
// arrive (all cases interleaved by time), in atomic batches.
//
// Thread-safety: one call per stream at a time (the store itself is thread-safe).
#ifndef NEMESYST_NODES_FLEET_INGEST_H_
#define NEMESYST_NODES_FLEET_INGEST_H_

#include <cstdint>
#include <string>

#include "nemesyst/logger.h"
#include "nemesyst/simulator.h"
#include "nemesyst/status.h"
#include "nemesyst/store.h"

namespace nemesyst::nodes {

// The schema of the simulator's feed: SimulatorFields() in order, float32 except the case type
// (int32), with units.
StreamSchema SimulatorStreamSchema();

struct FleetIngestResult {
  uint64_t records = 0;
  SeqRange seqs;
};

// How the samples are grouped into appends.
enum class IngestOrder {
  // As a live feed arrives: every case interleaved by time, `batch_records` per append.
  kInterleaved,
  // As a backfill arrives: one append per case and day (a store server uploading each case's
  // day). Reads of one device's history then touch only that device's batches, which keeps
  // per-device history queries (consumer-group windows) linear in the data.
  kCaseDays,
};

// Creates `stream` (FailedPrecondition if it exists with another schema; an existing stream
// with this schema is appended to) and appends every sample. Each batch of `batch_records` is
// one atomic append.
Result<FleetIngestResult> IngestSimulatedFleet(Store& store, const std::string& stream,
                                               const FleetSimulator& simulator,
                                               IngestOrder order = IngestOrder::kInterleaved,
                                               uint32_t batch_records = 20000,
                                               Logger* logger = NullLogger());

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_FLEET_INGEST_H_
