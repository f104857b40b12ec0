// The readings a pipeline is fitted on: a stream's first `fit_hours` of readings (every device's),
// at most `fit_records` records, never more held. Shared by the train job and the ONNX import
// (which fits a pipeline the same way a training run would).
#ifndef NEMESYST_JOBS_FIT_SAMPLE_H_
#define NEMESYST_JOBS_FIT_SAMPLE_H_

#include <cstddef>
#include <string>
#include <vector>

#include "nemesyst/status.h"
#include "nemesyst/store.h"

namespace nemesyst::jobs {

// FailedPrecondition when the stream is empty; `what` prefixes errors ("train").
Result<std::vector<Record>> ReadFitSample(const Store& store, const std::string& stream,
                                          double fit_hours, size_t fit_records,
                                          const std::string& what);

}  // namespace nemesyst::jobs

#endif  // NEMESYST_JOBS_FIT_SAMPLE_H_
