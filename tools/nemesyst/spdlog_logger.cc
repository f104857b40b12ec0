#include "tools/nemesyst/spdlog_logger.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace nemesyst::cli {
namespace {

spdlog::level::level_enum ToSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

class SpdlogLogger final : public Logger {
 public:
  SpdlogLogger(LogLevel min_level, LogFormat format) : min_level_(min_level), format_(format) {
    logger_ = std::make_shared<spdlog::logger>(
        "nemesyst", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    logger_->set_level(ToSpdlog(min_level));
    if (format == LogFormat::kJson) {
      logger_->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})",
                           spdlog::pattern_time_type::utc);
    } else {
      logger_->set_pattern("%H:%M:%S.%e %^%-5l%$ %v");
    }
  }

  void Log(LogLevel level, std::string_view component, std::string_view message,
           std::initializer_list<LogField> fields) override {
    if (level < min_level_) return;
    std::string line;
    if (format_ == LogFormat::kJson) {
      nlohmann::ordered_json body = {{"component", component}, {"msg", message}};
      for (const LogField& f : fields) body[std::string(f.key)] = f.value;
      line = body.dump();
      line = line.substr(1, line.size() - 2);  // members only: the pattern adds ts and level
    } else {
      line = "[" + std::string(component) + "] " + std::string(message);
      for (const LogField& f : fields) line += " " + std::string(f.key) + "=" + f.value;
    }
    logger_->log(ToSpdlog(level), "{}", line);
  }

  LogLevel min_level() const override { return min_level_; }

 private:
  LogLevel min_level_;
  LogFormat format_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace

std::unique_ptr<Logger> MakeStderrLogger(LogLevel min_level, LogFormat format) {
  return std::make_unique<SpdlogLogger>(min_level, format);
}

}  // namespace nemesyst::cli
