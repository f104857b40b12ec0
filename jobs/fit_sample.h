// The readings a pipeline is fitted on: a stream's first `fit_hours` of readings (every device's),
// at most `fit_records` records, never more held. Shared by the train job and the ONNX import
// (which fits a pipeline the same way a training run would).
#ifndef NEMESYST_JOBS_FIT_SAMPLE_H_
#define NEMESYST_JOBS_FIT_SAMPLE_H_

#include <cstddef>
#include <string>
#include <vector>

#include "nemesyst/pipeline.h"
#include "nemesyst/status.h"
#include "nemesyst/store.h"

namespace nemesyst::jobs {

// The stream a pipeline is fitted on: `given` (a flag), else the one the spec names. A spec that
// names another stream than the one given is a mistake to report; so is neither naming one.
// `what` prefixes errors ("train").
Result<std::string> PipelineStream(const std::string& pipeline_text, const std::string& given,
                                   const std::string& what);

// FailedPrecondition when the stream is empty; `what` prefixes errors ("train").
Result<std::vector<Record>> ReadFitSample(const Store& store, const std::string& stream,
                                          double fit_hours, size_t fit_records,
                                          const std::string& what);

}  // namespace nemesyst::jobs

#endif  // NEMESYST_JOBS_FIT_SAMPLE_H_
