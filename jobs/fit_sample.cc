#include "jobs/fit_sample.h"

#include <limits>

namespace nemesyst::jobs {

Result<std::string> PipelineStream(const std::string& pipeline_text, const std::string& given,
                                   const std::string& what) {
  NEMESYST_ASSIGN_OR_RETURN(const std::string named, Pipeline::StreamNamedBy(pipeline_text));
  if (!given.empty() && !named.empty() && named != given) {
    return Status::InvalidArgument(what + ": the pipeline reads stream '" + named +
                                   "' but the stream given is '" + given + "'");
  }
  if (given.empty() && named.empty()) {
    return Status::InvalidArgument(what +
                                   ": no stream named (neither --stream nor the pipeline's "
                                   "'stream')");
  }
  return given.empty() ? named : given;
}

Result<std::vector<Record>> ReadFitSample(const Store& store, const std::string& stream,
                                          double fit_hours, size_t fit_records,
                                          const std::string& what) {
  NEMESYST_ASSIGN_OR_RETURN(StreamInfo info, store.GetStreamInfo(stream));
  if (info.last_seq == 0) {
    return Status::FailedPrecondition(what + ": stream '" + stream + "' is empty");
  }
  int64_t first_us = std::numeric_limits<int64_t>::max();
  {
    NEMESYST_ASSIGN_OR_RETURN(auto it, store.Read(stream));
    // The stream's earliest reading: the first batch holds it for a feed; for a per-device
    // backfill every device starts at about the same time, so the first record is close enough.
    if (it->Valid()) first_us = it->record().record.timestamp_us;
    NEMESYST_RETURN_IF_ERROR(it->status());
  }
  if (first_us == std::numeric_limits<int64_t>::max()) {
    return Status::FailedPrecondition(what + ": stream '" + stream + "' has no readable records");
  }
  if (!(fit_hours > 0) || fit_hours > 24 * 366 || fit_records == 0) {
    return Status::InvalidArgument(what + ": fit hours must be in (0, 8784] and fit records > 0");
  }
  RecordQuery query;
  query.max_timestamp_us = first_us + static_cast<int64_t>(fit_hours * 3600e6);
  std::vector<Record> sample;
  // At most fit_records are ever held (not all of fit_hours, then cut).
  NEMESYST_ASSIGN_OR_RETURN(auto it, store.Read(stream, query));
  for (; it->Valid() && sample.size() < fit_records; it->Next()) {
    sample.push_back(it->record().record);
  }
  NEMESYST_RETURN_IF_ERROR(it->status());
  if (sample.empty()) {
    return Status::FailedPrecondition(what + ": no records to fit the pipeline on");
  }
  return sample;
}

}  // namespace nemesyst::jobs
