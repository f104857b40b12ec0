#include "nemesyst/logger.h"

namespace nemesyst {
namespace {

class DiscardingLogger final : public Logger {
 public:
  void Log(LogLevel, std::string_view, std::string_view, std::initializer_list<LogField>) override {
  }
  LogLevel min_level() const override { return LogLevel::kError; }
};

class DiscardingMetrics final : public MetricsSink {
 public:
  void AddCounter(std::string_view, double) override {}
  void SetGauge(std::string_view, double) override {}
};

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

bool ParseLogLevel(std::string_view text, LogLevel* level) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (text == LogLevelName(l)) {
      *level = l;
      return true;
    }
  }
  return false;
}

Logger* NullLogger() {
  static DiscardingLogger logger;
  return &logger;
}

MetricsSink* NullMetrics() {
  static DiscardingMetrics sink;
  return &sink;
}

}  // namespace nemesyst
