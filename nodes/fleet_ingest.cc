#include "nodes/fleet_ingest.h"

#include <cmath>
#include <vector>

namespace nemesyst::nodes {
namespace {

bool SameSchema(const StreamSchema& a, const StreamSchema& b) {
  if (a.fields.size() != b.fields.size()) return false;
  for (size_t i = 0; i < a.fields.size(); ++i) {
    if (a.fields[i].name != b.fields[i].name || a.fields[i].type != b.fields[i].type) return false;
  }
  return true;
}

}  // namespace

StreamSchema SimulatorStreamSchema() {
  StreamSchema schema;
  const auto& names = SimulatorFields();
  for (size_t i = 0; i < names.size(); ++i) {
    FieldSpec f;
    f.name = names[i];
    f.type = i == kCaseType ? FieldType::kInt32 : FieldType::kFloat32;
    f.unit = names[i].ends_with("_c")    ? "degC"
             : names[i].ends_with("_kw") ? "kW"
             : names[i].ends_with("_s")  ? "s"
                                         : "";
    schema.fields.push_back(std::move(f));
  }
  return schema;
}

Result<FleetIngestResult> IngestSimulatedFleet(Store& store, const std::string& stream,
                                               const FleetSimulator& simulator, IngestOrder order,
                                               uint32_t batch_records, Logger* logger) {
  const StreamSchema schema = SimulatorStreamSchema();
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
  batch.reserve(batch_records);
  const auto& cases = simulator.cases();
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::OK();
    NEMESYST_ASSIGN_OR_RETURN(SeqRange seqs, store.Append(stream, batch));
    if (result.seqs.first == 0) result.seqs.first = seqs.first;
    result.seqs.last = seqs.last;
    result.records += batch.size();
    batch.clear();
    return Status::OK();
  };
  auto to_record = [&](const SimSample& sample, Record* r) {
    r->device_id = cases[sample.case_index].device;
    r->timestamp_us = sample.time_us;
    r->values.clear();
    bool finite = true;
    for (float v : sample.values) {
      finite = finite && std::isfinite(v);
      r->values.push_back(v);
    }
    return finite;  // the store refuses holes; a missing value is a missing reading
  };
  if (order == IngestOrder::kCaseDays) {
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
          Record r;
          if (to_record(samples[i], &r)) batch.push_back(std::move(r));
        }
        return Status::OK();
      });
      NEMESYST_RETURN_IF_ERROR(s);
      NEMESYST_RETURN_IF_ERROR(flush());
    }
    logger->Log(LogLevel::kInfo, "nodes.ingest", "ingested simulated fleet",
                {{"stream", stream},
                 {"records", std::to_string(result.records)},
                 {"cases", std::to_string(cases.size())},
                 {"order", "case-days"}});
    return result;
  }
  Status s = simulator.GenerateFleet([&](const SimSample* samples, size_t count) -> Status {
    for (size_t i = 0; i < count; ++i) {
      const SimSample& sample = samples[i];
      Record r;
      r.device_id = cases[sample.case_index].device;
      r.timestamp_us = sample.time_us;
      r.values.reserve(kSimFieldCount);
      bool finite = true;
      for (float v : sample.values) {
        finite = finite && std::isfinite(v);
        r.values.push_back(v);
      }
      if (!finite) continue;  // the store refuses holes; a missing value is a missing reading
      batch.push_back(std::move(r));
      if (batch.size() >= batch_records) NEMESYST_RETURN_IF_ERROR(flush());
    }
    return Status::OK();
  });
  NEMESYST_RETURN_IF_ERROR(s);
  NEMESYST_RETURN_IF_ERROR(flush());
  logger->Log(LogLevel::kInfo, "nodes.ingest", "ingested simulated fleet",
              {{"stream", stream},
               {"records", std::to_string(result.records)},
               {"cases", std::to_string(cases.size())}});
  return result;
}

}  // namespace nemesyst::nodes
