// Store: opening the RocksDB database, durability, name lookups, and the public methods, which
// validate names and forward to Store::Impl.
#include "nemesyst/store.h"

#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/coding.h"
#include "storage/change_format.h"
#include "storage/log_chunk.h"
#include "storage/log_format.h"
#include "storage/meta_format.h"
#include "storage/rocks_hooks.h"
#include "storage/store_impl.h"

namespace nemesyst {

using storage::FromRocks;

namespace storage {

uint64_t SeekLastRecordKey(rocksdb::Iterator* it, uint64_t stream_id) {
  it->SeekForPrev(LogKey(kRecordKeyTag, stream_id, UINT64_MAX));
  uint64_t id = 0, seq = 0;
  if (it->Valid() && ParseLogKey({it->key().data(), it->key().size()}, kRecordKeyTag, &id, &seq) &&
      id == stream_id) {
    return seq;
  }
  return 0;
}

bool IsDiskFull(const rocksdb::Status& s) {
  return s.IsNoSpace() || (s.IsIOError() && s.subcode() == rocksdb::Status::kSpaceLimit);
}

Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::OK();
  if (s.IsNotFound()) return Status::NotFound(s.ToString());
  if (s.IsCorruption()) return Status::Corruption(s.ToString());
  if (s.IsInvalidArgument()) return Status::InvalidArgument(s.ToString());
  if (s.IsBusy() || s.IsTryAgain()) return Status::Aborted(s.ToString());
  if (storage::IsDiskFull(s)) {
    return Status::ResourceExhausted("the store's disk is full (" + s.ToString() + ")");
  }
  return Status::IOError(s.ToString());
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t NowMillis() { return NowMicros() / 1000; }

}  // namespace storage

std::string_view DurabilityName(Durability durability) {
  switch (durability) {
    case Durability::kSync:
      return "sync";
    case Durability::kGroup:
      return "group";
    case Durability::kAsync:
      return "async";
  }
  return "unknown";
}

Result<Durability> ParseDurability(std::string_view text) {
  if (text == "sync") return Durability::kSync;
  if (text == "group") return Durability::kGroup;
  if (text == "async") return Durability::kAsync;
  return Status::InvalidArgument("durability '" + std::string(text) +
                                 "' is not one of sync, group, async");
}

std::string_view FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kFloat32:
      return "float32";
    case FieldType::kFloat64:
      return "float64";
    case FieldType::kInt32:
      return "int32";
  }
  return "unknown";
}

Result<FieldType> ParseFieldType(std::string_view text) {
  if (text == "float32" || text == "float") return FieldType::kFloat32;
  if (text == "float64" || text == "double") return FieldType::kFloat64;
  if (text == "int32" || text == "int") return FieldType::kInt32;
  return Status::InvalidArgument("field type '" + std::string(text) +
                                 "' is not one of float32, float64, int32");
}

// ---- Impl: open and shared helpers
// ---------------------------------------------------------------

Store::Impl::Impl(const StoreOptions& options, std::string path)
    : options_(options), path_(std::move(path)) {
  if (options_.logger == nullptr) options_.logger = NullLogger();
}

Store::Impl::~Impl() {
  if (db_) {
    for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    db_->Close().PermitUncheckedError();
    std::error_code ignored;
    if (!options_.read_only && !options_.owner_note.empty()) {
      std::filesystem::remove(std::filesystem::path(path_) / storage::kOwnerFile, ignored);
    }
  }
  if (!secondary_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(secondary_dir_, ignored);
  }
}

namespace {

// RocksDB reports a LOCK held by another process (or by this one) as an IOError with one of
// these texts; there is no dedicated code.
bool IsLockHeld(const rocksdb::Status& s) {
  const std::string text = s.ToString();
  return s.IsIOError() && (text.find("While lock file") != std::string::npos ||
                           text.find("lock hold by current process") != std::string::npos);
}

std::string ReadOwnerNote(const std::string& path) {
  std::ifstream in(std::filesystem::path(path) / storage::kOwnerFile);
  std::string note;
  std::getline(in, note);
  return note;
}

}  // namespace

Status Store::Impl::Open() {
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) {
    if (!options_.create_if_missing || options_.read_only) {
      return Status::NotFound("no store at '" + path_ + "'");
    }
    std::filesystem::create_directories(path_, ec);
    if (ec) return Status::IOError("cannot create '" + path_ + "': " + ec.message());
  }
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options_.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  // No LOG file (storage/rocks_hooks.h says why): RocksDB's warnings go to our logger.
  db_options.info_log = storage::RocksDiagnostics(options_.logger);
  db_options.listeners.push_back(storage::ManualRecoveryListener());

  rocksdb::ColumnFamilyOptions log_options;
  log_options.write_buffer_size = 64 << 20;
  rocksdb::ColumnFamilyOptions small_options;
  small_options.write_buffer_size = 8 << 20;
  // Model chunks stay inline, not in blob files: RocksDB's secondary instances (how read-only
  // commands open a store, even one a node owns) do not support blob files — 7.8 segfaults
  // reading one (RocksDB wiki, BlobDB "future work"; facebook/rocksdb#13248, #13296). The
  // registry is small and written rarely, so compactions rewriting its chunks cost little.
  rocksdb::ColumnFamilyOptions model_options = small_options;

  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, small_options},
      {"log", log_options},
      {"groups", small_options},
      {"models", model_options},
      {"meta", small_options}};
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  if (options_.read_only) {
    // A secondary instance reads the database while another process (a running node) may own
    // it, and never writes it. Its scratch directory holds only its own info log.
    db_options.create_if_missing = false;
    db_options.create_missing_column_families = false;
    db_options.max_open_files = -1;
    std::string scratch =
        (std::filesystem::temp_directory_path(ec) / "nemesyst-ro-XXXXXX").string();
    if (ec || ::mkdtemp(scratch.data()) == nullptr) {
      return Status::IOError("cannot create a scratch directory for a read-only open");
    }
    secondary_dir_ = scratch;
    s = rocksdb::DB::OpenAsSecondary(db_options, path_, secondary_dir_, families, &handles_, &raw);
    if (s.ok()) s = raw->TryCatchUpWithPrimary();
  } else {
    s = rocksdb::DB::Open(db_options, path_, families, &handles_, &raw);
  }
  if (!s.ok()) {
    if (raw != nullptr) {
      for (auto* handle : handles_) raw->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
      handles_.clear();
      delete raw;
    }
    if (IsLockHeld(s)) {
      const std::string note = ReadOwnerNote(path_);
      return Status::FailedPrecondition(
          "store '" + path_ + "' is in use by another process" +
          (note.empty() ? std::string(" (its LOCK is held)") : " — " + note) +
          "; read-only commands still work on it");
    }
    if ((s.IsInvalidArgument() || s.IsNotFound() || s.IsPathNotFound()) &&
        (!options_.create_if_missing || options_.read_only)) {
      return Status::NotFound("no store at '" + path_ + "': " + s.ToString());
    }
    if (storage::IsDiskFull(s)) {
      return Status::ResourceExhausted(
          "store '" + path_ + "' cannot be opened for writing: its disk is full (opening replays " +
          "the write-ahead log into a table file); nothing was written and nothing is lost — " +
          "read-only commands still work; free space and retry (" + s.ToString() + ")");
    }
    return Status::IOError("cannot open store '" + path_ + "': " + s.ToString());
  }
  db_.reset(raw);
  if (!options_.read_only && !options_.owner_note.empty()) {
    std::ofstream owner(std::filesystem::path(path_) / storage::kOwnerFile, std::ios::trunc);
    owner << options_.owner_note << "\n";
  }
  open_nonce_ = (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}() ^
                static_cast<uint64_t>(storage::NowMicros());
  log_cf_ = handles_[1];
  groups_cf_ = handles_[2];
  models_cf_ = handles_[3];
  meta_cf_ = handles_[4];

  // Streams, with their sequence counters recovered from what is on disk.
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_cf_));
    for (it->Seek(std::string(1, storage::kStreamDefTag));
         it->Valid() && it->key()[0] == storage::kStreamDefTag; it->Next()) {
      std::string_view key(it->key().data(), it->key().size());
      NEMESYST_RETURN_IF_ERROR(
          LoadStream(key.substr(1), std::string_view(it->value().data(), it->value().size())));
    }
    NEMESYST_RETURN_IF_ERROR(FromRocks(it->status()));
    // Journal position and dead-letter ids continue after the last ones present (and after what
    // trimming removed: positions are never reused).
    uint64_t last = 0;
    it->SeekForPrev(storage::NumberedKey(storage::kJournalTag, UINT64_MAX));
    std::string_view key = it->Valid() ? std::string_view(it->key().data(), it->key().size()) : "";
    if (storage::ParseNumberedKey(key, storage::kJournalTag, &last)) journal_.AdvanceTo(last + 1);
    std::string trimmed;
    if (db_->Get(rocksdb::ReadOptions(), meta_cf_, std::string(1, storage::kJournalTrimTag),
                 &trimmed)
            .ok() &&
        trimmed.size() == 8) {
      journal_.AdvanceTo(DecodeFixed64(trimmed.data()) + 1);
    }
    it->SeekForPrev(storage::NumberedKey(storage::kDeadLetterRowTag, UINT64_MAX));
    key = it->Valid() ? std::string_view(it->key().data(), it->key().size()) : "";
    if (storage::ParseNumberedKey(key, storage::kDeadLetterRowTag, &last)) {
      next_dead_letter_id_ = last + 1;
    }
  }
  NEMESYST_RETURN_IF_ERROR(LoadGroups());
  NEMESYST_RETURN_IF_ERROR(LoadHistory());
  options_.logger->Log(LogLevel::kDebug, "storage", "store opened",
                       {{"path", path_},
                        {"streams", std::to_string(streams_.size())},
                        {"groups", std::to_string(groups_.size())},
                        {"journal_position", std::to_string(journal_.Watermark())}});
  return Status::OK();
}

Status Store::Impl::LoadStream(std::string_view name, std::string_view def_value) {
  Result<storage::StreamDef> def = storage::DecodeStreamDef(def_value);
  if (!def.ok()) return def.status().WithContext("stream '" + std::string(name) + "'");
  auto state = std::make_shared<storage::StreamState>();
  state->name = std::string(name);
  state->id = storage::StreamId(name);
  state->schema = std::move(def->schema);
  state->retention = def->retention;
  state->created_us = def->created_us;
  std::string floor_value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), meta_cf_,
               storage::NumberedKey(storage::kDeletedThroughTag, state->id), &floor_value);
  if (s.ok()) {
    if (floor_value.size() != 8) return Status::Corruption("stream '" + state->name + "' floor");
    state->deleted_through = DecodeFixed64(floor_value.data());
  } else if (!s.IsNotFound()) {
    return FromRocks(s);
  }
  // Only the last key is needed (it is the last record's seq): a corrupt chunk must not keep the
  // store from opening.
  uint64_t last = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
    last = storage::SeekLastRecordKey(it.get(), state->id);
    NEMESYST_RETURN_IF_ERROR(FromRocks(it->status()));
  }
  state->seqs.AdvanceTo(std::max(last, state->deleted_through) + 1);
  std::unique_lock lock(streams_mu_);
  streams_by_id_[state->id] = state;
  streams_[state->name] = std::move(state);
  return Status::OK();
}

Status Store::Impl::Write(rocksdb::WriteBatch* batch, bool durable) {
  if (options_.read_only) {
    return Status::FailedPrecondition("store '" + path_ + "' was opened read-only");
  }
  if (writes_stopped_.load(std::memory_order_acquire)) NEMESYST_RETURN_IF_ERROR(ResumeWrites());
  rocksdb::WriteOptions write_options;
  write_options.sync = durable && options_.durability != Durability::kAsync;
  rocksdb::Status s;
  if (write_options.sync && options_.durability == Durability::kSync) {
    std::lock_guard lock(sync_mu_);
    s = db_->Write(write_options, batch);
  } else {
    s = db_->Write(write_options, batch);
  }
  if (!s.ok() &&
      (storage::IsDiskFull(s) || s.severity() >= rocksdb::Status::Severity::kHardError)) {
    // RocksDB refuses every write from now on (its background error) until Resume().
    writes_stopped_.store(true, std::memory_order_release);
  }
  return FromRocks(s);
}

Status Store::Impl::ResumeWrites() {
  std::lock_guard lock(resume_mu_);
  if (!writes_stopped_.load(std::memory_order_acquire)) return Status::OK();
  // On a disk that is still full every attempt starts a flush that fails: try at most once a
  // second and answer the others with the reason at once.
  const auto now = std::chrono::steady_clock::now();
  if (now - last_resume_attempt_ < std::chrono::seconds(1)) {
    return Status::ResourceExhausted(
        "writes to store '" + path_ +
        "' are stopped since a write failed for lack of space; they resume by themselves once "
        "space is freed");
  }
  last_resume_attempt_ = now;
  // Flushes the memtables, starts a new write-ahead log and clears RocksDB's background error.
  rocksdb::Status s = db_->Resume();
  if (!s.ok()) {
    return FromRocks(s).WithContext("writes to store '" + path_ + "' are still stopped");
  }
  writes_stopped_.store(false, std::memory_order_release);
  options_.logger->Log(LogLevel::kInfo, "storage", "writes resumed after the disk was full",
                       {{"path", path_}});
  return Status::OK();
}

std::shared_ptr<storage::StreamState> Store::Impl::FindStream(std::string_view name) const {
  std::shared_lock lock(streams_mu_);
  auto it = streams_.find(name);
  return it == streams_.end() ? nullptr : it->second;
}

std::shared_ptr<storage::StreamState> Store::Impl::FindStreamById(uint64_t id) const {
  std::shared_lock lock(streams_mu_);
  auto it = streams_by_id_.find(id);
  return it == streams_by_id_.end() ? nullptr : it->second;
}

std::shared_ptr<storage::GroupState> Store::Impl::FindGroup(std::string_view name) const {
  std::shared_lock lock(groups_mu_);
  auto it = groups_.find(name);
  return it == groups_.end() ? nullptr : it->second;
}

std::shared_ptr<storage::ModelNameState> Store::Impl::ModelState(std::string_view name) {
  std::lock_guard lock(models_mu_);
  auto it = models_.find(name);
  if (it != models_.end()) return it->second;
  auto state = std::make_shared<storage::ModelNameState>();
  models_.emplace(std::string(name), state);
  return state;
}

// ---- Store: public methods
// ------------------------------------------------------------------------

// Names are validated at the public boundary; Impl may assume they are well-formed.
#define NEMESYST_CHECK_NAME(what, name) NEMESYST_RETURN_IF_ERROR(storage::ValidateName(what, name))

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Status Store::Open(const StoreOptions& options, const std::string& path,
                   std::unique_ptr<Store>* store) {
  if (store == nullptr) return Status::InvalidArgument("Store::Open: null output");
  if (options.model_chunk_bytes == 0 || options.max_deliveries == 0 ||
      options.max_batch_records == 0 || options.max_record_bytes < 16) {
    return Status::InvalidArgument(
        "StoreOptions: model_chunk_bytes, max_deliveries, max_batch_records must be > 0 and "
        "max_record_bytes >= 16");
  }
  if (options.max_records_per_chunk == 0 ||
      options.max_records_per_chunk > storage::kMaxChunkRecords) {
    return Status::InvalidArgument("StoreOptions: max_records_per_chunk must be in 1.." +
                                   std::to_string(storage::kMaxChunkRecords));
  }
  auto impl = std::make_unique<Impl>(options, path.empty() ? kDefaultPath : path);
  NEMESYST_RETURN_IF_ERROR(impl->Open());
  store->reset(new Store(std::move(impl)));
  return Status::OK();
}

const StoreOptions& Store::options() const { return impl_->options_; }

Status Store::CreateStream(std::string_view name, const StreamSchema& schema,
                           const RetentionPolicy& retention) {
  NEMESYST_CHECK_NAME("stream", name);
  return impl_->CreateStream(name, schema, retention);
}

Result<StreamSchema> Store::GetSchema(std::string_view stream) const {
  auto state = impl_->FindStream(stream);
  if (!state) return Status::NotFound("no stream '" + std::string(stream) + "'");
  return state->schema;
}

Result<StreamInfo> Store::GetStreamInfo(std::string_view stream) const {
  return impl_->GetStreamInfo(stream);
}

Result<std::vector<std::string>> Store::ListStreams() const { return impl_->ListStreams(); }

Status Store::SetRetention(std::string_view stream, const RetentionPolicy& retention) {
  return impl_->SetRetention(stream, retention);
}

Result<uint64_t> Store::Append(std::string_view stream, const Record& record) {
  NEMESYST_ASSIGN_OR_RETURN(SeqRange range, impl_->Append(stream, std::span(&record, 1)));
  return range.first;
}

Result<SeqRange> Store::Append(std::string_view stream, std::span<const Record> records) {
  return impl_->Append(stream, records);
}

Result<std::unique_ptr<RecordIterator>> Store::Read(std::string_view stream,
                                                    const RecordQuery& query) const {
  return impl_->Read(stream, query);
}

Result<RetentionReport> Store::ApplyRetention(std::string_view stream, int64_t now_us) {
  return impl_->ApplyRetention(stream, now_us);
}

Result<uint64_t> Store::AppendDeadLetterRow(std::string_view stream, std::string_view source,
                                            std::string_view reason, std::string_view raw) {
  return impl_->AppendDeadLetterRow(stream, source, reason, raw);
}

Result<std::vector<DeadLetterRow>> Store::ListDeadLetterRows(std::string_view stream,
                                                             uint64_t after_id,
                                                             size_t max_rows) const {
  return impl_->ListDeadLetterRows(stream, after_id, max_rows);
}

Status Store::CreateGroup(std::string_view group, std::string_view stream, GroupStart start) {
  NEMESYST_CHECK_NAME("group", group);
  return impl_->CreateGroup(group, stream, start);
}

Status Store::DeleteGroup(std::string_view group, bool force) {
  NEMESYST_CHECK_NAME("group", group);
  return impl_->DeleteGroup(group, force);
}

Result<std::vector<std::string>> Store::ListGroups() const { return impl_->ListGroups(); }

Result<ClaimedBatch> Store::Claim(std::string_view group, std::string_view member,
                                  uint32_t max_records, int64_t lease_ms) {
  return impl_->Claim(group, member, max_records, lease_ms);
}

Status Store::Ack(std::string_view group, const LeaseId& lease) { return impl_->Ack(group, lease); }

Status Store::Nack(std::string_view group, const LeaseId& lease) {
  return impl_->Nack(group, lease);
}

Result<int64_t> Store::RenewLease(std::string_view group, const LeaseId& lease, int64_t lease_ms) {
  return impl_->RenewLease(group, lease, lease_ms);
}

Result<GroupStats> Store::GetGroupStats(std::string_view group) const {
  return impl_->GetGroupStats(group);
}

Result<std::vector<DeadLetterBatch>> Store::ListDeadLetterBatches(std::string_view group) const {
  return impl_->ListDeadLetterBatches(group);
}

Status Store::ResolveDeadLetterBatch(std::string_view group, uint64_t batch_id) {
  return impl_->ResolveDeadLetterBatch(group, batch_id);
}

Result<uint32_t> Store::PutModel(std::string_view name, std::string_view blob,
                                 const ModelMetadata& metadata) {
  NEMESYST_CHECK_NAME("model", name);
  return impl_->CommitModel(name, blob, metadata, {});
}

Result<uint32_t> Store::CommitModel(std::string_view name, std::string_view blob,
                                    const ModelMetadata& metadata, std::span<const GroupAck> acks) {
  NEMESYST_CHECK_NAME("model", name);
  return impl_->CommitModel(name, blob, metadata, acks);
}

Result<ModelInfo> Store::GetModelInfo(std::string_view name, uint32_t version) const {
  return impl_->GetModelInfo(name, version);
}

Result<std::string> Store::ReadModelBlob(std::string_view name, uint32_t version) const {
  return impl_->ReadModelBlob(name, version);
}

Result<uint32_t> Store::ResolveAlias(std::string_view name, std::string_view alias) const {
  return impl_->ResolveAlias(name, alias);
}

Result<uint32_t> Store::BestModelVersion(std::string_view name, std::string_view metric,
                                         MetricOrder order) const {
  return impl_->BestModelVersion(name, metric, order);
}

Status Store::SetAlias(std::string_view name, std::string_view alias, uint32_t version) {
  NEMESYST_CHECK_NAME("alias", alias);
  return impl_->SetAlias(name, alias, version);
}

Status Store::RemoveAlias(std::string_view name, std::string_view alias) {
  return impl_->RemoveAlias(name, alias);
}

Result<std::vector<std::string>> Store::ListModelNames() const { return impl_->ListModelNames(); }

Result<std::vector<ModelInfo>> Store::ListModelVersions(std::string_view name,
                                                        bool include_retired) const {
  return impl_->ListModelVersions(name, include_retired);
}

Status Store::RetireModel(std::string_view name, uint32_t version) {
  return impl_->RetireModel(name, version);
}

uint64_t Store::LastChangePosition() const { return impl_->LastChangePosition(); }

Result<std::vector<Store::Change>> Store::ReadChanges(uint64_t after_position, size_t max_changes,
                                                      size_t max_bytes) const {
  return impl_->ReadChanges(after_position, max_changes, max_bytes);
}

Status Store::ApplyChange(std::string_view change_bytes) {
  return impl_->ApplyChange(change_bytes);
}

Status Store::ApplyChanges(std::span<const std::string_view> changes, size_t* applied) {
  size_t ignored = 0;
  return impl_->ApplyChanges(changes, applied != nullptr ? applied : &ignored);
}

Result<JournalPoint> Store::DescribeChange(std::string_view change_bytes) {
  storage::DecodedChange change;
  NEMESYST_RETURN_IF_ERROR(storage::DecodeChange(change_bytes, &change));
  storage::JournalEntry entry;
  NEMESYST_RETURN_IF_ERROR(storage::DecodeJournalEntry(change.descriptor, &entry));
  return JournalPoint{change.position, entry.written_us, entry.stamp, entry.bytes};
}

uint64_t Store::FirstChangePosition() const { return impl_->FirstChangePosition(); }
Result<std::vector<JournalPoint>> Store::ReadJournalPoints(uint64_t after_position,
                                                           size_t max) const {
  return impl_->ReadJournalPoints(after_position, max);
}
Result<JournalPoint> Store::JournalPointAt(uint64_t position) const {
  return impl_->JournalPointAt(position);
}
Status Store::TrimJournal(uint64_t through_position) {
  return impl_->TrimJournal(through_position);
}
HistoryInfo Store::History() const {
  std::lock_guard lock(impl_->history_mu_);
  return impl_->history_;
}
Status Store::StartNewHistory() {
  HistoryInfo next;
  {
    std::lock_guard lock(impl_->history_mu_);
    next.previous_id = impl_->history_.id;
  }
  next.id = storage::NewHistoryId();
  next.switch_position = LastChangePosition();
  return impl_->WriteHistory(next);
}
Status Store::AdoptHistory(const HistoryInfo& history) {
  if (history.id.empty()) return Status::InvalidArgument("AdoptHistory: empty history id");
  return impl_->WriteHistory(history);
}
Result<uint64_t> Store::CreateCheckpoint(const std::string& dir) const {
  return impl_->CreateCheckpoint(dir);
}
Result<std::string> Store::ReplicatedDigest() const { return impl_->ReplicatedDigest(); }
Status Store::PutNodeState(std::string_view key, std::string_view value) {
  NEMESYST_CHECK_NAME("node state key", key);
  return impl_->PutNodeState(key, value);
}
Result<std::string> Store::GetNodeState(std::string_view key) const {
  NEMESYST_CHECK_NAME("node state key", key);
  return impl_->GetNodeState(key);
}

}  // namespace nemesyst
