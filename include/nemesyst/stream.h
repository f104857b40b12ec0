// The stream module in one include: ingest (files of readings into a store stream) and the
// per-consumer pipelines that turn a stream into training and prediction windows.
#ifndef NEMESYST_STREAM_H_
#define NEMESYST_STREAM_H_

#include "nemesyst/ingest.h"
#include "nemesyst/pipeline.h"
#include "nemesyst/timestamp.h"

#endif  // NEMESYST_STREAM_H_
