#include "storage/rocks_hooks.h"

#include <cstdarg>
#include <cstdio>
#include <string>

namespace nemesyst::storage {
namespace {

class RocksDiagnosticsLogger final : public rocksdb::Logger {
 public:
  explicit RocksDiagnosticsLogger(nemesyst::Logger* out)
      : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), out_(out) {}

  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::WARN_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel() || level == rocksdb::InfoLogLevel::HEADER_LEVEL) return;
    char line[1024];
    const int n = std::vsnprintf(line, sizeof line, format, ap);
    if (n < 0) return;
    // Every failure of a call reaches its caller as a Status, so RocksDB's own warnings about it
    // (a held LOCK, the write that hit a full disk) are debug detail; its errors (a background
    // compaction or flush that failed with no caller to tell) are warnings.
    out_->Log(level >= rocksdb::InfoLogLevel::ERROR_LEVEL ? LogLevel::kWarn : LogLevel::kDebug,
              "rocksdb", line);
  }

 private:
  nemesyst::Logger* out_;
};

class ManualRecovery final : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

}  // namespace

std::shared_ptr<rocksdb::Logger> RocksDiagnostics(nemesyst::Logger* logger) {
  return std::make_shared<RocksDiagnosticsLogger>(logger);
}

std::shared_ptr<rocksdb::EventListener> ManualRecoveryListener() {
  return std::make_shared<ManualRecovery>();
}

}  // namespace nemesyst::storage
