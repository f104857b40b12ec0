// The embedded store at the heart of every node: a sensor log of schema'd streams, consumer groups
// that hand unique batches of a stream to many workers, and a versioned model registry — all in one
// RocksDB database (column families `log`, `groups`, `models`, `meta`; the key layout and value
// encodings are documented in docs/storage.md and storage/*_format.h).
//
//   std::unique_ptr<Store> store;
//   NEMESYST_RETURN_IF_ERROR(Store::Open(StoreOptions{}, Store::kDefaultPath, &store));
//   NEMESYST_RETURN_IF_ERROR(store->CreateStream("fridges", schema));
//   NEMESYST_ASSIGN_OR_RETURN(SeqRange seqs, store->Append("fridges", records));
//
// Thread-safety: a Store is safe to share across threads; every method may be called concurrently
// (many appenders on one or many streams, many group members claiming and acking at once). Per
// method notes below say what is serialised. One process may open a path at a time (RocksDB's
// LOCK file); a second Open of the same path fails with IOError.
//
// Crash safety: every mutating call is one atomic RocksDB WriteBatch: after a crash it is entirely
// there or entirely absent. Under Durability::kSync and kGroup a call that returned OK is on disk.
#ifndef NEMESYST_STORE_H_
#define NEMESYST_STORE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/export.h"
#include "nemesyst/logger.h"
#include "nemesyst/status.h"
#include "nemesyst/store_types.h"

namespace nemesyst {

// When a mutating call returns, how safe is what it wrote? (Measured costs: docs/bench/storage.md.)
enum class Durability : uint8_t {
  // Each write is fsynced before the call returns, one write at a time: survives power loss.
  // Cost: one fsync per call (~0.1-10 ms by device) — about 1 000 calls/s on an SSD, fewer on
  // spinning disks or VMs; batch records per call to amortise.
  kSync = 0,
  // As safe as kSync, but concurrent writers share one fsync: RocksDB's write group makes one
  // leader write and fsync the WAL for every writer queued behind it. A lone writer pays the same
  // as kSync; N concurrent writers pay about one fsync per group instead of N.
  kGroup = 1,
  // Written to the OS (WAL write(2), no fsync) before returning: survives a crash of the process
  // (kill -9) but not of the machine. Cost: a memcpy and a system call.
  kAsync = 2,
};

NEMESYST_EXPORT std::string_view DurabilityName(Durability durability);  // "sync"|"group"|"async"
NEMESYST_EXPORT Result<Durability> ParseDurability(std::string_view text);

struct StoreOptions {
  // Default kGroup: acknowledged writes survive power loss, concurrent appenders stay fast.
  Durability durability = Durability::kGroup;
  // Create the directory and database when missing (default). false: Open fails with NotFound.
  bool create_if_missing = true;
  // Where the store reports what it does (opened, recovered counters, retention). Not owned; must
  // outlive the Store. Default: dropped.
  Logger* logger = NullLogger();
  // A record's encoded size limit (device id + timestamp + fields). Larger records are refused
  // with ResourceExhausted. Default 64 KiB.
  uint32_t max_record_bytes = 64 * 1024;
  // Records per Append call. More is refused with ResourceExhausted (one WriteBatch is held in
  // memory). Default 100 000.
  uint32_t max_batch_records = 100'000;
  // Consecutive records of one Append are stored together, up to this many (and ~16 KiB) under
  // one RocksDB key: RocksDB's per-key cost then stops dominating appends (docs/storage.md).
  // 1..4096; 1 = one key per record. Changing it never affects reading existing data.
  // Default 64.
  uint32_t max_records_per_chunk = 64;
  // Read-only: reads work (also while another process — a running node — holds the store: the
  // store is then opened as a RocksDB secondary and sees what that process has written up to the
  // Open), every write fails with FailedPrecondition, and nothing is ever created.
  bool read_only = false;
  // Written next to the database (file OWNER) while this Store holds it read-write, and quoted in
  // the error another process gets when it tries to open the same store for writing ("in use by
  // node 'store-1' (pid 123) ..."). Empty: no note.
  std::string owner_note;
  // Model blobs are stored in chunks of this size, each with its own CRC32C. Default 1 MiB.
  uint32_t model_chunk_bytes = 1 << 20;
  // A group batch delivered this many times without an Ack goes to the group's dead-letter list
  // instead of being delivered again. Default 5.
  uint32_t max_deliveries = 5;
};

// Reads records of one stream in sequence order, a few at a time (never the whole stream).
// It sees a consistent snapshot taken when it was created.
// Thread-safety: one thread at a time per iterator; iterators of one store are independent.
// An iterator must be destroyed before its Store.
class NEMESYST_EXPORT RecordIterator {
 public:
  virtual ~RecordIterator() = default;
  // True when positioned on a record. False at the end or on error: check status().
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  virtual const StoredRecord& record() const = 0;  // only while Valid()
  // Corruption if a stored record fails its checksum (iteration stops there).
  virtual Status status() const = 0;
};

// Where a group starts reading its stream when created.
enum class GroupStart : uint8_t { kEarliest = 0, kLatest = 1 };

class NEMESYST_EXPORT Store {
 public:
  static constexpr const char* kDefaultPath = "./nemesyst-data";

  // Opens (or creates) the store at `path`. Recovers per-stream sequence counters from what is on
  // disk, so numbers are never reused after a crash. FailedPrecondition if another process has it
  // open for writing (the message quotes that process's owner_note when it left one).
  static Status Open(const StoreOptions& options, const std::string& path,
                     std::unique_ptr<Store>* store);

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const StoreOptions& options() const;

  // ---- Streams ----------------------------------------------------------------------------------
  // Names of streams, groups and models: 1..128 characters of [A-Za-z0-9_.-/]. Unknown names give
  // NotFound. These calls are serialised with each other; they do not block appenders of other
  // streams.

  // AlreadyExists if the name is taken (even with the same schema). InvalidArgument names the
  // offending field of a bad schema (empty/duplicate name, min > max, no fields).
  Status CreateStream(std::string_view name, const StreamSchema& schema,
                      const RetentionPolicy& retention = {});
  Result<StreamSchema> GetSchema(std::string_view stream) const;
  Result<StreamInfo> GetStreamInfo(std::string_view stream) const;
  Result<std::vector<std::string>> ListStreams() const;  // sorted
  Status SetRetention(std::string_view stream, const RetentionPolicy& retention);

  // Appends one record / a batch atomically (all or nothing) and returns the sequence numbers the
  // records got (a batch gets consecutive numbers). InvalidArgument naming the record index and
  // field on a schema violation, ResourceExhausted for an oversized record or batch; on any error
  // nothing is written. Concurrent appenders of one stream are serialised only while numbers are
  // assigned; their writes (and, under kGroup, fsyncs) proceed together.
  Result<uint64_t> Append(std::string_view stream, const Record& record);
  Result<SeqRange> Append(std::string_view stream, std::span<const Record> records);

  // Iterates the records matching `query`, in sequence order. Time and device filters skip whole
  // append batches using a per-batch summary (min/max timestamp, device Bloom filter) and filter
  // the rest record by record.
  Result<std::unique_ptr<RecordIterator>> Read(std::string_view stream,
                                               const RecordQuery& query = {}) const;

  // Deletes the prefix of the stream the retention policy allows, but never a record that a group
  // of this stream has not acknowledged (the report says which groups held it back). `now_us` 0 =
  // the wall clock. Serialised with Claim/Ack of the stream's groups.
  Result<RetentionReport> ApplyRetention(std::string_view stream, int64_t now_us = 0);

  // Keeps a raw input row that could not be appended (the stream need not exist); a row over
  // kMaxDeadLetterRawBytes is kept as its prefix plus its size. Returns its id.
  Result<uint64_t> AppendDeadLetterRow(std::string_view stream, std::string_view source,
                                       std::string_view reason, std::string_view raw);
  // Rows with id > after_id, oldest first, at most max_rows; `stream` empty = every stream.
  Result<std::vector<DeadLetterRow>> ListDeadLetterRows(std::string_view stream, uint64_t after_id,
                                                        size_t max_rows) const;

  // ---- Consumer groups --------------------------------------------------------------------------
  // A group belongs to one stream; its name is unique in the store. Each group is serialised by
  // its own mutex (calls on different groups run in parallel). Leases use the wall clock.

  Status CreateGroup(std::string_view group, std::string_view stream,
                     GroupStart start = GroupStart::kEarliest);
  // Deletes a group and its outstanding batches, so it no longer holds back retention. Refuses
  // (FailedPrecondition, naming a batch) a group with unacknowledged batches — leased, pending or
  // dead-lettered — unless `force`. A member still holding a lease gets NotFound on its next call.
  Status DeleteGroup(std::string_view group, bool force = false);
  Result<std::vector<std::string>> ListGroups() const;  // sorted

  // Hands `member` a batch no other member holds: first a batch whose lease expired or was nacked
  // (redelivered whole, with its original range, delivery count + 1; one delivered
  // max_deliveries times goes to the dead-letter list instead), otherwise up to `max_records`
  // new sequence numbers. WouldBlock when there is nothing to hand out.
  Result<ClaimedBatch> Claim(std::string_view group, std::string_view member, uint32_t max_records,
                             int64_t lease_ms);
  // Acknowledges a batch: it is never handed out again. Accepted after the lease expired as long
  // as nobody else claimed the batch since; FailedPrecondition if it was redelivered (the other
  // delivery owns it now) or already acknowledged.
  Status Ack(std::string_view group, const LeaseId& lease);
  // Gives a batch back for immediate redelivery. Same preconditions as Ack.
  Status Nack(std::string_view group, const LeaseId& lease);
  // Extends a lease to `lease_ms` from now (a heartbeat for work that outlasts it) and returns
  // the new expiry (wall clock, ms since the Unix epoch). Same preconditions as Ack: accepted
  // after the lease ran out as long as nobody claimed the batch since.
  Result<int64_t> RenewLease(std::string_view group, const LeaseId& lease, int64_t lease_ms);
  Result<GroupStats> GetGroupStats(std::string_view group) const;
  Result<std::vector<DeadLetterBatch>> ListDeadLetterBatches(std::string_view group) const;
  // Acknowledges a dead-lettered batch (an operator decided it is handled), so retention may
  // delete its records.
  Status ResolveDeadLetterBatch(std::string_view group, uint64_t batch_id);

  // ---- Model registry ---------------------------------------------------------------------------
  // Versions are 1, 2, 3 ... per name, never reused (not even after retire). Calls on one name are
  // serialised; different names run in parallel.

  // Stores a new version and returns its number. The blob (any size) is chunked and checksummed.
  Result<uint32_t> PutModel(std::string_view name, std::string_view blob,
                            const ModelMetadata& metadata);
  // PutModel and Ack of every listed group batch in ONE atomic write: after a crash either the
  // model exists and the batches are acknowledged, or neither. Nothing is written if any ack
  // would fail (FailedPrecondition naming the group and batch).
  Result<uint32_t> CommitModel(std::string_view name, std::string_view blob,
                               const ModelMetadata& metadata, std::span<const GroupAck> acks);

  Result<ModelInfo> GetModelInfo(std::string_view name, uint32_t version) const;
  // The blob, every chunk checksum and the whole-blob checksum verified: Corruption otherwise.
  Result<std::string> ReadModelBlob(std::string_view name, uint32_t version) const;
  Result<uint32_t> ResolveAlias(std::string_view name, std::string_view alias) const;
  // `name@version`, `name:alias`, or a bare `name`: its `production` alias when set, else its
  // `candidate` alias, else NotFound naming both — never silently the newest version. NotFound
  // errors say what was missing: the model name, the version, or the alias (listing the aliases
  // that exist); a malformed reference is InvalidArgument (ParseModelRef).
  Result<ResolvedModel> ResolveModel(std::string_view reference) const;
  Result<ResolvedModel> ResolveModel(const ModelRef& reference) const;
  // The non-retired version whose final `metric` is best (ties: the newest). NotFound if no
  // version has that metric.
  Result<uint32_t> BestModelVersion(std::string_view name, std::string_view metric,
                                    MetricOrder order) const;
  // Points `alias` at `version` (creating or moving it) in one atomic write. FailedPrecondition
  // for a retired version.
  Status SetAlias(std::string_view name, std::string_view alias, uint32_t version);
  Status RemoveAlias(std::string_view name, std::string_view alias);
  Result<std::vector<std::string>> ListModelNames() const;  // sorted
  // Every version of `name`, oldest first (retired ones only when asked).
  Result<std::vector<ModelInfo>> ListModelVersions(std::string_view name,
                                                   bool include_retired = false) const;
  // Marks a version retired: kept for lineage and Get by version, excluded from best-by-metric
  // and aliases. FailedPrecondition while an alias points at it (move the alias first).
  Status RetireModel(std::string_view name, uint32_t version);

  // ---- Replication (see docs/storage.md, "Replication") -----------------------------------------
  // Every mutation also appends an entry to a store-wide change journal at a increasing position.
  // ReadChanges returns self-contained changes (the keys and values written, records and model
  // chunks included) with position > after_position; ApplyChange writes one on another store.
  // Applying a change twice, or one already present, leaves the same state (keys are
  // deterministic: stream/seq, model/version/chunk).
  uint64_t LastChangePosition() const;
  struct Change {
    uint64_t position = 0;
    std::string bytes;  // opaque, self-describing, checksummed
  };
  // At most max_changes, and no more once max_bytes are read (the first change always comes).
  Result<std::vector<Change>> ReadChanges(uint64_t after_position, size_t max_changes,
                                          size_t max_bytes = SIZE_MAX) const;
  Status ApplyChange(std::string_view change_bytes);
  // Applies changes in order, as ApplyChange would one by one, but consecutive appends share one
  // write (and one fsync). On an error, `applied` says how many (a prefix) are in the store.
  Status ApplyChanges(std::span<const std::string_view> changes, size_t* applied = nullptr);
  // What a change's bytes say about it, without applying it (Corruption when it does not decode
  // or fails its checksum).
  static Result<JournalPoint> DescribeChange(std::string_view change_bytes);
  // The oldest position whose change can still be read: 1 until TrimJournal removed some, then
  // one past the trimmed ones. A follower that has applied position p can catch up from the
  // journal alone while p + 1 >= FirstChangePosition().
  uint64_t FirstChangePosition() const;
  // The journal entries after `after_position` (at most `max`, in order, finished writes only):
  // cheap — descriptors only, no data.
  Result<std::vector<JournalPoint>> ReadJournalPoints(uint64_t after_position, size_t max) const;
  // The journal entry at `position`: NotFound when there is none (never written, or trimmed).
  Result<JournalPoint> JournalPointAt(uint64_t position) const;
  // Deletes journal entries at or below `through_position` (clamped to what is finished). The
  // data they describe stays; only a follower that still needed them must now be bootstrapped.
  // Positions are never reused afterwards, even if every entry is gone.
  Status TrimJournal(uint64_t through_position);

  // The replication history (created with the store; see HistoryInfo).
  HistoryInfo History() const;
  // Starts a new history at the current position: previous_id = the current id, switch_position =
  // LastChangePosition(). After a restore from a backup, or when a follower proved that this
  // store's past differs from what it was sent.
  Status StartNewHistory();
  // A replica takes its source's history (after a bootstrap, or when first applying changes).
  Status AdoptHistory(const HistoryInfo& history);

  // A consistent copy of the whole store in `dir` (must not exist; same filesystem: files are
  // hard-linked), openable as a store. Returns the last change position it holds at least.
  Result<uint64_t> CreateCheckpoint(const std::string& dir) const;
  // SHA-256 (hex) over everything replication carries — stream definitions, records, model
  // versions and aliases, keys and values in key order — and nothing local (groups, dead letters,
  // retention floors, the journal, node state). Two stores with the same digest hold the same
  // replicated data byte for byte.
  Result<std::string> ReplicatedDigest() const;

  // Node state: small values a node keeps with its store (a follower's position bookkeeping, the
  // highest epoch it accepted). Written durably; never journaled or replicated. NotFound if unset.
  Status PutNodeState(std::string_view key, std::string_view value);
  Result<std::string> GetNodeState(std::string_view key) const;

 private:
  class Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nemesyst

#endif  // NEMESYST_STORE_H_
