// Appending a simulated fleet's feed to a store stream (fleet.h).
#include <cmath>
#include <vector>

#include "nemesyst/refrigeration/fleet.h"

namespace nemesyst::refrigeration {
namespace {

bool SameSchema(const StreamSchema& a, const StreamSchema& b) {
  if (a.fields.size() != b.fields.size()) return false;
  for (size_t i = 0; i < a.fields.size(); ++i) {
    if (a.fields[i].name != b.fields[i].name || a.fields[i].type != b.fields[i].type) return false;
  }
  return true;
}

bool AllFinite(const Record& r) {
  for (double v : r.values) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

}  // namespace

Result<FleetIngestResult> IngestSimulatedFleet(Store& store, const std::string& stream,
                                               const FleetSimulator& simulator,
                                               const FleetIngestOptions& options) {
  if (options.batch_records == 0) return Status::InvalidArgument("batch_records must be >= 1");
  Logger* logger = options.logger != nullptr ? options.logger : NullLogger();
  const StreamSchema schema = SimulatorSchema(simulator.options().labels);
  Status created = store.CreateStream(stream, schema);
  if (created.code() == StatusCode::kAlreadyExists) {
    NEMESYST_ASSIGN_OR_RETURN(StreamSchema existing, store.GetSchema(stream));
    if (!SameSchema(existing, schema)) {
      return Status::FailedPrecondition("stream '" + stream +
                                        "' exists with a schema other than the simulator's");
    }
  } else if (!created.ok()) {
    return created;
  }
  FleetIngestResult result;
  std::vector<Record> batch;
  batch.reserve(options.order == IngestOrder::kInterleaved ? options.batch_records : 1440);
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::OK();
    NEMESYST_ASSIGN_OR_RETURN(SeqRange seqs, store.Append(stream, batch));
    if (result.seqs.first == 0) result.seqs.first = seqs.first;
    result.seqs.last = seqs.last;
    result.records += batch.size();
    batch.clear();
    return Status::OK();
  };
  // A sample with a missing value is a missing reading: the store refuses holes.
  auto add = [&](const SimSample& sample) {
    Record r;
    SampleToRecord(simulator, sample, &r);
    if (AllFinite(r)) batch.push_back(std::move(r));
  };
  const auto& cases = simulator.cases();
  if (options.order == IngestOrder::kCaseDays) {
    const int64_t day_us = 86400LL * 1000000;
    const int64_t start = simulator.options().start_us;
    for (const CaseInfo& c : cases) {
      int64_t day = -1;
      Status s = simulator.GenerateCase(c.index, [&](const SimSample* samples, size_t count) {
        for (size_t i = 0; i < count; ++i) {
          const int64_t d = (samples[i].time_us - start) / day_us;
          if (d != day) {
            NEMESYST_RETURN_IF_ERROR(flush());
            day = d;
          }
          add(samples[i]);
        }
        return Status::OK();
      });
      NEMESYST_RETURN_IF_ERROR(s);
      NEMESYST_RETURN_IF_ERROR(flush());
    }
  } else {
    Status s = simulator.GenerateFleet([&](const SimSample* samples, size_t count) -> Status {
      for (size_t i = 0; i < count; ++i) {
        add(samples[i]);
        if (batch.size() >= options.batch_records) NEMESYST_RETURN_IF_ERROR(flush());
      }
      return Status::OK();
    });
    NEMESYST_RETURN_IF_ERROR(s);
    NEMESYST_RETURN_IF_ERROR(flush());
  }
  logger->Log(LogLevel::kInfo, "refrigeration.ingest", "ingested simulated fleet",
              {{"stream", stream},
               {"records", std::to_string(result.records)},
               {"cases", std::to_string(cases.size())},
               {"order", options.order == IngestOrder::kCaseDays ? "case-days" : "interleaved"}});
  return result;
}

}  // namespace nemesyst::refrigeration
