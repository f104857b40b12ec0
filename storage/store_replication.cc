// What replication needs from a store besides reading and applying changes (store_changes.cc): the
// history id, journal entries by position, trimming the journal, checkpoints for bootstrapping a
// follower, a digest of the replicated content, and the node state a node keeps with its store.
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <random>

#include "common/coding.h"
#include "common/sha256.h"
#include "storage/meta_format.h"
#include "storage/store_impl.h"

namespace nemesyst {

using storage::FromRocks;

namespace storage {

std::string NewHistoryId() {
  std::random_device device;
  char hex[33];
  for (int i = 0; i < 4; ++i) std::snprintf(hex + 8 * i, 9, "%08x", device());
  return std::string(hex, 32);
}

}  // namespace storage

Status Store::Impl::LoadHistory() {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), meta_cf_, std::string(1, storage::kHistoryTag), &value);
  if (s.ok()) {
    NEMESYST_ASSIGN_OR_RETURN(HistoryInfo history, storage::DecodeHistory(value));
    std::lock_guard lock(history_mu_);
    history_ = std::move(history);
    return Status::OK();
  }
  if (!s.IsNotFound()) return FromRocks(s);
  if (options_.read_only) return Status::OK();  // a store from before histories: none to report
  // A new store, or one from before histories: its history starts here.
  HistoryInfo history;
  history.id = storage::NewHistoryId();
  history.switch_position = journal_.Watermark();
  return WriteHistory(history);
}

Status Store::Impl::WriteHistory(const HistoryInfo& history) {
  rocksdb::WriteBatch batch;
  batch.Put(meta_cf_, std::string(1, storage::kHistoryTag), storage::EncodeHistory(history));
  NEMESYST_RETURN_IF_ERROR(Write(&batch, true).WithContext("writing the store's history"));
  std::lock_guard lock(history_mu_);
  history_ = history;
  return Status::OK();
}

uint64_t Store::Impl::FirstChangePosition() const {
  std::string floor;
  if (db_->Get(rocksdb::ReadOptions(), meta_cf_, std::string(1, storage::kJournalTrimTag), &floor)
          .ok() &&
      floor.size() == 8) {
    return DecodeFixed64(floor.data()) + 1;
  }
  return 1;
}

Result<std::vector<JournalPoint>> Store::Impl::ReadJournalPoints(uint64_t after_position,
                                                                 size_t max) const {
  const uint64_t watermark = journal_.Watermark();
  std::vector<JournalPoint> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_cf_));
  for (it->Seek(storage::NumberedKey(storage::kJournalTag, after_position + 1));
       it->Valid() && out.size() < max; it->Next()) {
    uint64_t position = 0;
    if (!storage::ParseNumberedKey({it->key().data(), it->key().size()}, storage::kJournalTag,
                                   &position) ||
        position > watermark) {
      break;
    }
    storage::JournalEntry entry;
    NEMESYST_RETURN_IF_ERROR(
        storage::DecodeJournalEntry({it->value().data(), it->value().size()}, &entry)
            .WithContext("journal position " + std::to_string(position)));
    out.push_back({position, entry.written_us, entry.stamp, entry.bytes});
  }
  NEMESYST_RETURN_IF_ERROR(FromRocks(it->status()));
  return out;
}

Result<JournalPoint> Store::Impl::JournalPointAt(uint64_t position) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_,
                               storage::NumberedKey(storage::kJournalTag, position), &value);
  if (s.IsNotFound()) {
    return Status::NotFound("no journal entry at position " + std::to_string(position));
  }
  NEMESYST_RETURN_IF_ERROR(FromRocks(s));
  storage::JournalEntry entry;
  NEMESYST_RETURN_IF_ERROR(storage::DecodeJournalEntry(value, &entry)
                               .WithContext("journal position " + std::to_string(position)));
  return JournalPoint{position, entry.written_us, entry.stamp, entry.bytes};
}

Status Store::Impl::TrimJournal(uint64_t through_position) {
  through_position = std::min(through_position, journal_.Watermark());
  if (through_position == 0) return Status::OK();
  rocksdb::WriteBatch batch;
  // The floor first: positions at or below it are never handed out again, even once every entry
  // is gone (Open continues after max(last entry, floor)).
  std::string floor;
  PutFixed64(&floor, through_position);
  batch.Put(meta_cf_, std::string(1, storage::kJournalTrimTag), floor);
  batch.DeleteRange(meta_cf_, storage::NumberedKey(storage::kJournalTag, 0),
                    storage::NumberedKey(storage::kJournalTag, through_position + 1));
  return Write(&batch, true).WithContext("trimming the change journal");
}

Result<uint64_t> Store::Impl::CreateCheckpoint(const std::string& dir) const {
  const uint64_t position = journal_.Watermark();
  rocksdb::Checkpoint* raw = nullptr;
  NEMESYST_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw)));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush = 0: flush first, so the copy is SST files only (no WAL to replay).
  NEMESYST_RETURN_IF_ERROR(FromRocks(checkpoint->CreateCheckpoint(dir, 0))
                               .WithContext("checkpoint of '" + path_ + "' into '" + dir + "'"));
  return position;
}

Result<std::string> Store::Impl::ReplicatedDigest() const {
  const storage::ScopedSnapshot scoped(db_.get(), options_.read_only);
  const rocksdb::Snapshot* snapshot = scoped.get();
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot;
  Sha256 digest;
  // Length-prefixed keys and values, so no two different contents hash the same text.
  auto add = [&digest](char cf, const rocksdb::Slice& key, const rocksdb::Slice& value) {
    std::string frame(1, cf);
    PutFixed64(&frame, key.size());
    PutFixed64(&frame, value.size());
    digest.Update(frame);
    digest.Update({key.data(), key.size()});
    digest.Update({value.data(), value.size()});
  };
  for (auto [cf, handle] : {std::pair{'l', log_cf_}, std::pair{'m', models_cf_}}) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, handle));
    for (it->SeekToFirst(); it->Valid(); it->Next()) add(cf, it->key(), it->value());
    NEMESYST_RETURN_IF_ERROR(FromRocks(it->status()));
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, meta_cf_));
  const std::string defs(1, storage::kStreamDefTag);
  for (it->Seek(defs); it->Valid() && it->key().starts_with(defs); it->Next()) {
    add('s', it->key(), it->value());
  }
  NEMESYST_RETURN_IF_ERROR(FromRocks(it->status()));
  return digest.HexDigest();
}

Status Store::Impl::PutNodeState(std::string_view key, std::string_view value) {
  rocksdb::WriteBatch batch;
  batch.Put(meta_cf_, storage::NamedKey(storage::kNodeStateTag, key), value);
  return Write(&batch, true);
}

Result<std::string> Store::Impl::GetNodeState(std::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_,
                               storage::NamedKey(storage::kNodeStateTag, key), &value);
  if (s.IsNotFound()) return Status::NotFound("no node state '" + std::string(key) + "'");
  NEMESYST_RETURN_IF_ERROR(FromRocks(s));
  return value;
}

}  // namespace nemesyst
