// The library never prints. It reports what it does through these interfaces, which the embedding
// application (or the `nemesyst` CLI, via spdlog) adapts.
//
// Thread-safety: implementations must accept calls from any thread concurrently; the library calls
// them from its worker threads. Calls must not block for long (they sit on hot-ish paths).
#ifndef NEMESYST_LOGGER_H_
#define NEMESYST_LOGGER_H_

#include <initializer_list>
#include <string>
#include <string_view>

#include "nemesyst/export.h"

namespace nemesyst {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

NEMESYST_EXPORT std::string_view LogLevelName(LogLevel level);
// Parses "debug" | "info" | "warn" | "error"; returns false when `text` is none of them.
NEMESYST_EXPORT bool ParseLogLevel(std::string_view text, LogLevel* level);

// One structured key/value attached to a log line (rendered `key=value`, or as JSON members).
struct LogField {
  std::string_view key;
  std::string value;
};

class NEMESYST_EXPORT Logger {
 public:
  virtual ~Logger() = default;
  // `component` names the module ("storage", "kernels.trainer", ...). `message` is one sentence.
  virtual void Log(LogLevel level, std::string_view component, std::string_view message,
                   std::initializer_list<LogField> fields = {}) = 0;
  // Lines below this level may be skipped by the caller before formatting them.
  virtual LogLevel min_level() const { return LogLevel::kDebug; }
};

// A logger that drops everything: the default wherever an options struct takes a Logger*.
NEMESYST_EXPORT Logger* NullLogger();

// Metrics a component exports (counters and gauges, Prometheus-style names with units:
// "nemesyst_log_appended_records_total"). An interface for the tools to adapt; nothing in the
// library reports through it yet. A running node's figures are exported differently: its
// NodeStatus, rendered as Prometheus text on its HTTP /metrics (node.h,
// NodeOptions::http_endpoint).
class NEMESYST_EXPORT MetricsSink {
 public:
  virtual ~MetricsSink() = default;
  virtual void AddCounter(std::string_view name, double delta) = 0;
  virtual void SetGauge(std::string_view name, double value) = 0;
};

NEMESYST_EXPORT MetricsSink* NullMetrics();

}  // namespace nemesyst

#endif  // NEMESYST_LOGGER_H_
