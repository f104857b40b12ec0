// Adapts the library's Logger interface to spdlog on stderr, as human-readable lines or as JSON
// lines (one object per line: {"ts","level","component","msg", fields...}).
#ifndef NEMESYST_TOOLS_SPDLOG_LOGGER_H_
#define NEMESYST_TOOLS_SPDLOG_LOGGER_H_

#include <memory>

#include "nemesyst/logger.h"

namespace nemesyst::cli {

enum class LogFormat { kHuman, kJson };

std::unique_ptr<Logger> MakeStderrLogger(LogLevel min_level, LogFormat format);

}  // namespace nemesyst::cli

#endif  // NEMESYST_TOOLS_SPDLOG_LOGGER_H_
