// Store::Impl: the state behind the public Store (include/nemesyst/store.h). Split by job over
// store.cc (open, durability, names), store_log.cc (streams, append, retention, dead-letter rows),
// record_iterator.cc (reads), store_groups.cc (consumer groups), store_models.cc (registry) and
// store_changes.cc (change journal for replication).
//
// Locking (outer before inner; never the reverse):
//   ddl_mu_ (create stream/group)  >  GroupState::mu (sorted by name)  >  ModelNameState::mu  >
//   StreamState::mu  >  streams_mu_ / groups_mu_ / models_mu_ (map lookups only)  >
//   SequenceTracker internals, sync_mu_ (kSync writes).
#ifndef NEMESYST_STORAGE_STORE_IMPL_H_
#define NEMESYST_STORAGE_STORE_IMPL_H_

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "nemesyst/store.h"
#include "storage/change_format.h"
#include "storage/group_format.h"
#include "storage/log_chunk.h"
#include "storage/meta_format.h"
#include "storage/sequence_tracker.h"

namespace nemesyst {

namespace storage {

struct StreamState {
  std::string name;
  uint64_t id = 0;
  StreamSchema schema;  // immutable after creation
  int64_t created_us = 0;
  // Serialises sequence + journal allocation of one stream (held for microseconds) so a stream's
  // journal positions increase with its sequence numbers.
  std::mutex append_mu;
  // Guards retention and deleted_through; held by ApplyRetention while it deletes.
  mutable std::mutex mu;
  RetentionPolicy retention;
  uint64_t deleted_through = 0;
  SequenceTracker seqs;
};

struct GroupState {
  std::mutex mu;
  std::string name;
  std::shared_ptr<StreamState> stream;
  GroupRecord record;
  std::map<uint64_t, BatchRecord> batches;  // outstanding: leased, pending, dead
  // Set (under mu) by DeleteGroup: whoever found the group before it went must not write it back.
  bool deleted = false;
  // Every seq <= this is acknowledged (or resolved from the dead-letter list).
  uint64_t CommittedSeq() const {
    uint64_t floor = record.cursor;
    for (const auto& [id, b] : batches) floor = std::min(floor, b.range.first);
    return floor - 1;
  }
};

struct ModelNameState {
  std::mutex mu;
  bool loaded = false;
  uint32_t last_version = 0;
};

Status FromRocks(const rocksdb::Status& s);
// Positions `it` (on the log column family) at the stream's last record key and returns that
// key's seq, the stream's last record (a chunk key names its last record); 0 when the stream has
// no record key. The caller checks it->status().
uint64_t SeekLastRecordKey(rocksdb::Iterator* it, uint64_t stream_id);
// A write or open failed for lack of space (ENOSPC, or an SstFileManager space limit).
bool IsDiskFull(const rocksdb::Status& s);
int64_t NowMicros();
int64_t NowMillis();

}  // namespace storage

namespace storage {
// Beside the database while a read-write Store with an owner_note holds it.
inline constexpr const char* kOwnerFile = "OWNER";

// A consistent view for a multi-key read, released at scope end. A read-only store (a RocksDB
// secondary, which has no snapshots) is already a frozen view: there it is nullptr, "latest".
class ScopedSnapshot {
 public:
  ScopedSnapshot(rocksdb::DB* db, bool read_only)
      : db_(db), snapshot_(read_only ? nullptr : db->GetSnapshot()) {}
  ~ScopedSnapshot() {
    if (snapshot_ != nullptr) db_->ReleaseSnapshot(snapshot_);
  }
  ScopedSnapshot(const ScopedSnapshot&) = delete;
  ScopedSnapshot& operator=(const ScopedSnapshot&) = delete;
  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};
}  // namespace storage

class Store::Impl {
 public:
  Impl(const StoreOptions& options, std::string path);
  ~Impl();

  Status Open();

  // ---- store.cc
  // Writes `batch` atomically with the configured durability (`durable` false: never fsync, for
  // lease bookkeeping whose loss only causes a redelivery).
  Status Write(rocksdb::WriteBatch* batch, bool durable);
  std::shared_ptr<storage::StreamState> FindStream(std::string_view name) const;
  std::shared_ptr<storage::StreamState> FindStreamById(uint64_t id) const;
  std::shared_ptr<storage::GroupState> FindGroup(std::string_view name) const;
  std::shared_ptr<storage::ModelNameState> ModelState(std::string_view name);
  Status LoadStream(std::string_view name, std::string_view def_value);
  Status LoadGroups();

  // ---- store_log.cc
  Status CreateStream(std::string_view name, const StreamSchema& schema,
                      const RetentionPolicy& retention);
  Result<StreamInfo> GetStreamInfo(std::string_view name) const;
  Result<std::vector<std::string>> ListStreams() const;
  Status SetRetention(std::string_view name, const RetentionPolicy& retention);
  Result<SeqRange> Append(std::string_view stream, std::span<const Record> records);
  Result<RetentionReport> ApplyRetention(std::string_view stream, int64_t now_us);
  Result<uint64_t> AppendDeadLetterRow(std::string_view stream, std::string_view source,
                                       std::string_view reason, std::string_view raw);
  Result<std::vector<DeadLetterRow>> ListDeadLetterRows(std::string_view stream, uint64_t after_id,
                                                        size_t max_rows) const;
  // First and last record seq present (0, 0 when none). Reads (and checks) the first chunk.
  Status PresentRange(const storage::StreamState& stream, const rocksdb::Snapshot* snapshot,
                      uint64_t* first, uint64_t* last) const;
  // Opens the record chunks of `stream` in key order, from the one holding seq `first`, and
  // passes each (with its key) to `visit` until it returns false, an error, or the stream ends.
  using ChunkVisitor = std::function<Result<bool>(storage::ChunkReader&, const rocksdb::Slice&)>;
  Status ForEachChunk(const storage::StreamState& stream, uint64_t first,
                      const ChunkVisitor& visit) const;

  // ---- record_iterator.cc
  Result<std::unique_ptr<RecordIterator>> Read(std::string_view stream,
                                               const RecordQuery& query) const;

  // ---- store_groups.cc
  Status CreateGroup(std::string_view group, std::string_view stream, GroupStart start);
  Status DeleteGroup(std::string_view group, bool force);
  // The group named `name` with its mutex held by `*lock`; NotFound when there is none, or when it
  // was deleted between the lookup and the lock.
  Result<std::shared_ptr<storage::GroupState>> LockGroup(std::string_view name,
                                                         std::unique_lock<std::mutex>* lock) const;
  Result<std::vector<std::string>> ListGroups() const;
  Result<ClaimedBatch> Claim(std::string_view group, std::string_view member, uint32_t max_records,
                             int64_t lease_ms);
  Status Ack(std::string_view group, const LeaseId& lease);
  Status Nack(std::string_view group, const LeaseId& lease);
  Result<int64_t> RenewLease(std::string_view group, const LeaseId& lease, int64_t lease_ms);
  Result<GroupStats> GetGroupStats(std::string_view group) const;
  Result<std::vector<DeadLetterBatch>> ListDeadLetterBatches(std::string_view group) const;
  Status ResolveDeadLetterBatch(std::string_view group, uint64_t batch_id);
  // Checks that `lease` may be acked in `group` (whose mu the caller holds) and adds the ack to
  // `batch`; `updated` receives the group record to install after the write succeeds.
  Status PrepareAck(storage::GroupState& group, const LeaseId& lease, rocksdb::WriteBatch* batch,
                    storage::GroupRecord* updated) const;
  // The lease bookkeeping Nack and RenewLease share: checks that `lease` still holds its batch,
  // applies `change` to a copy of the batch's record, writes it (not fsynced: losing it in a
  // power cut only causes a redelivery) and installs it.
  Status RewriteHeldBatch(std::string_view group, const LeaseId& lease,
                          const std::function<void(storage::BatchRecord*)>& change);

  // ---- store_models.cc
  Result<uint32_t> CommitModel(std::string_view name, std::string_view blob,
                               const ModelMetadata& metadata, std::span<const GroupAck> acks);
  Result<ModelInfo> GetModelInfo(std::string_view name, uint32_t version) const;
  Result<std::string> ReadModelBlob(std::string_view name, uint32_t version) const;
  Result<uint32_t> ResolveAlias(std::string_view name, std::string_view alias) const;
  Result<uint32_t> BestModelVersion(std::string_view name, std::string_view metric,
                                    MetricOrder order) const;
  Status SetAlias(std::string_view name, std::string_view alias, uint32_t version);
  Status RemoveAlias(std::string_view name, std::string_view alias);
  Result<std::vector<std::string>> ListModelNames() const;
  Result<std::vector<ModelInfo>> ListModelVersions(std::string_view name,
                                                   bool include_retired) const;
  Status RetireModel(std::string_view name, uint32_t version);

  // ---- store_changes.cc
  uint64_t LastChangePosition() const { return journal_.Watermark(); }
  // Fills the journal trailer of an entry about to be written at `position` with `bytes` of data.
  void StampJournalEntry(uint64_t position, size_t bytes, storage::JournalEntry* entry) const;
  Result<std::vector<Store::Change>> ReadChanges(uint64_t after_position, size_t max_changes,
                                                 size_t max_bytes) const;
  Status ApplyChange(std::string_view change_bytes);
  Status ApplyChanges(std::span<const std::string_view> changes, size_t* applied);
  Status AddChangeWrites(const storage::DecodedChange& change, rocksdb::WriteBatch* batch,
                         std::string* stream_def);
  // Adds the journal entry for a mutation to `batch`; returns the allocated position, which the
  // caller must Finish() on journal_ after writing.
  uint64_t AddJournalEntry(const storage::JournalEntry& entry, rocksdb::WriteBatch* batch);
  // AddJournalEntry, then a durable Write(batch), then Finish() of the position whether or not the
  // write succeeded (readers of the journal wait for every allocated position).
  Status WriteJournaled(const storage::JournalEntry& entry, rocksdb::WriteBatch* batch);

  StoreOptions options_;
  std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* log_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* groups_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* models_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;

  std::mutex sync_mu_;  // kSync: one fsynced write at a time
  // Set when a write failed in a way after which RocksDB refuses all writes (a full disk); the next
  // Write() calls ResumeWrites() first, so writes resume by themselves once space is freed.
  Status ResumeWrites();
  std::atomic<bool> writes_stopped_{false};
  std::mutex resume_mu_;  // guards last_resume_attempt_; serialises Resume()
  std::chrono::steady_clock::time_point last_resume_attempt_{};
  std::mutex ddl_mu_;  // CreateStream / SetRetention / CreateGroup

  mutable std::shared_mutex streams_mu_;
  std::map<std::string, std::shared_ptr<storage::StreamState>, std::less<>> streams_;
  std::map<uint64_t, std::shared_ptr<storage::StreamState>> streams_by_id_;

  mutable std::shared_mutex groups_mu_;
  std::map<std::string, std::shared_ptr<storage::GroupState>, std::less<>> groups_;

  mutable std::mutex models_mu_;
  std::map<std::string, std::shared_ptr<storage::ModelNameState>, std::less<>> models_;

  storage::SequenceTracker journal_;
  std::atomic<uint64_t> next_dead_letter_id_{1};

  // ---- store_replication.cc
  Status LoadHistory();  // at open: read it, or create it (read-write only)
  Status WriteHistory(const HistoryInfo& history);
  uint64_t FirstChangePosition() const;
  Result<std::vector<JournalPoint>> ReadJournalPoints(uint64_t after_position, size_t max) const;
  Result<JournalPoint> JournalPointAt(uint64_t position) const;
  Status TrimJournal(uint64_t through_position);
  Result<uint64_t> CreateCheckpoint(const std::string& dir) const;
  Result<std::string> ReplicatedDigest() const;
  Status PutNodeState(std::string_view key, std::string_view value);
  Result<std::string> GetNodeState(std::string_view key) const;

  mutable std::mutex history_mu_;
  HistoryInfo history_;
  // Random per Open: mixed into every journal stamp, so the same position written by two
  // histories (a store and its restored backup) gets different stamps.
  uint64_t open_nonce_ = 0;
  std::string secondary_dir_;  // read-only opens: RocksDB secondary's scratch directory
};

}  // namespace nemesyst

#endif  // NEMESYST_STORAGE_STORE_IMPL_H_
