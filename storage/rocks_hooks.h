// What the store hands RocksDB so that RocksDB never writes files of its own beside the data and
// never decides alone when writes resume after a full disk.
//
// Why: librocksdb 7.8 (Debian 12) aborts the process on the second line of its info LOG after
// that file hit ENOSPC (an assertion in WritableFileWriter reached from EnvLogger, fixed upstream
// in RocksDB 8.3). With a full disk every write path, and a read-only open whose scratch directory
// is on the same disk, died with exit 134. Routing RocksDB's diagnostics to our Logger removes
// the LOG file, and so the abort.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/listener.h>

#include <memory>

#include "nemesyst/logger.h"

namespace nemesyst::storage {

// RocksDB's warnings (as debug lines) and errors (as warnings) through our Logger, component
// "rocksdb"; its info-level chatter (options dumps, flush and compaction progress) is dropped.
// Thread-safe as the Logger is; `logger` must outlive the database.
std::shared_ptr<rocksdb::Logger> RocksDiagnostics(Logger* logger);

// After a write fails for lack of space RocksDB stops all writes ("background error") and, by
// default, retries on its own only once free space reaches the largest memtable (64 MiB here),
// refusing a manual DB::Resume() meanwhile. This listener turns that automatic recovery off; the
// store calls Resume() itself on the next write (Store::Impl::ResumeWrites).
std::shared_ptr<rocksdb::EventListener> ManualRecoveryListener();

}  // namespace nemesyst::storage
