// The stream module in one include: the fleet simulator, pipelines, ingest, and the glue that
// writes a simulated fleet as CSV / JSON lines or straight into a store stream.
#ifndef NEMESYST_STREAM_H_
#define NEMESYST_STREAM_H_

#include <cstdint>
#include <string>

#include "nemesyst/export.h"
#include "nemesyst/ingest.h"
#include "nemesyst/pipeline.h"
#include "nemesyst/simulator.h"
#include "nemesyst/status.h"
#include "nemesyst/store_types.h"

namespace nemesyst {

class Store;

// The schema of a simulated fleet stream: SimulatorFields() in order with units and valid
// ranges (cooling, defrost, case_type as int32). Without labels, safe_off_s is left out (the
// store refuses NaN).
NEMESYST_EXPORT StreamSchema SimulatorSchema(bool labels);
// A sample as a store record (device id "store-0003/case-07", values in schema order).
NEMESYST_EXPORT void SampleToRecord(const FleetSimulator& sim, const SimSample& sample,
                                    Record* record);

enum class SimOutputFormat { kCsv, kJsonLines };
struct FleetWriteOptions {
  SimOutputFormat format = SimOutputFormat::kCsv;
  // kIso8601 ("2026-01-05T00:01:00Z") or an epoch unit; kAuto means kIso8601.
  TimestampFormat timestamp = TimestampFormat::kIso8601;
};
// Writes the whole fleet (interleaved by time, as a live feed) to `fd` (not closed): CSV with a
// header "device,timestamp,<fields>", or one JSON object per line. Numbers are written in their
// shortest exact form, so ingesting the output gives back the same float values.
NEMESYST_EXPORT Status WriteFleet(const FleetSimulator& sim, int fd,
                                  const FleetWriteOptions& options, uint64_t* rows_written);
// Appends the whole fleet to `stream` (created with SimulatorSchema when missing; an existing
// stream must have the same field names) in atomic batches of `batch_rows`.
NEMESYST_EXPORT Status WriteFleetToStore(const FleetSimulator& sim, Store& store,
                                         const std::string& stream, uint32_t batch_rows,
                                         uint64_t* rows_written);

}  // namespace nemesyst

#endif  // NEMESYST_STREAM_H_
