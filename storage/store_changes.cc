// The store-wide change journal: every mutation that replication carries (stream definitions,
// appends, model versions, retirements, aliases) writes a small descriptor under 'J' position in
// the same WriteBatch. ReadChanges turns descriptors into self-contained changes (the keys and
// values as they are now); ApplyChange writes them on another store.
#include <rocksdb/write_batch.h>

#include <optional>

#include "common/coding.h"
#include "common/random.h"
#include "common/sha256.h"
#include "storage/change_format.h"
#include "storage/log_format.h"
#include "storage/model_format.h"
#include "storage/store_impl.h"

namespace nemesyst {

using storage::ChangeCf;
using storage::ChangeOp;
using storage::ChangeOpKind;
using storage::FromRocks;
using storage::JournalKind;

void Store::Impl::StampJournalEntry(uint64_t position, size_t bytes,
                                    storage::JournalEntry* entry) const {
  entry->written_us = storage::NowMicros();
  entry->stamp = MixKeys(open_nonce_, position, static_cast<uint64_t>(entry->written_us));
  entry->bytes = bytes;
}

uint64_t Store::Impl::AddJournalEntry(const storage::JournalEntry& entry,
                                      rocksdb::WriteBatch* batch) {
  uint64_t position = journal_.Allocate(1);
  storage::JournalEntry stamped = entry;
  StampJournalEntry(position, batch->GetDataSize(), &stamped);
  batch->Put(meta_cf_, storage::NumberedKey(storage::kJournalTag, position),
             storage::EncodeJournalEntry(stamped));
  return position;
}

Status Store::Impl::WriteJournaled(const storage::JournalEntry& entry, rocksdb::WriteBatch* batch) {
  const uint64_t position = AddJournalEntry(entry, batch);
  Status s = Write(batch, true);
  journal_.Finish(position);
  return s;
}

namespace {

// Adds a put of the current value of `key` (or a delete when it is absent).
Status AddCurrent(rocksdb::DB* db, const rocksdb::ReadOptions& read_options,
                  rocksdb::ColumnFamilyHandle* handle, ChangeCf cf, const std::string& key,
                  std::vector<ChangeOp>* ops) {
  std::string value;
  rocksdb::Status s = db->Get(read_options, handle, key, &value);
  if (s.IsNotFound()) {
    ops->push_back({cf, ChangeOpKind::kDelete, key, {}});
    return Status::OK();
  }
  NEMESYST_RETURN_IF_ERROR(FromRocks(s));
  ops->push_back({cf, ChangeOpKind::kPut, key, std::move(value)});
  return Status::OK();
}

// Adds puts of every key in [begin, end).
Status AddRange(rocksdb::DB* db, const rocksdb::ReadOptions& read_options,
                rocksdb::ColumnFamilyHandle* handle, ChangeCf cf, const std::string& begin,
                const std::string& end, std::vector<ChangeOp>* ops) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read_options, handle));
  for (it->Seek(begin); it->Valid() && it->key().compare(end) < 0; it->Next()) {
    ops->push_back({cf, ChangeOpKind::kPut, it->key().ToString(), it->value().ToString()});
  }
  return FromRocks(it->status());
}

}  // namespace

Result<std::vector<Store::Change>> Store::Impl::ReadChanges(uint64_t after_position,
                                                            size_t max_changes,
                                                            size_t max_bytes) const {
  uint64_t watermark = journal_.Watermark();  // nothing past an unfinished write
  const storage::ScopedSnapshot scoped(db_.get(), options_.read_only);
  const rocksdb::Snapshot* snapshot = scoped.get();
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot;
  rocksdb::DB* db = db_.get();

  std::vector<Store::Change> changes;
  size_t bytes = 0;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read_options, meta_cf_));
  for (it->Seek(storage::NumberedKey(storage::kJournalTag, after_position + 1));
       it->Valid() && changes.size() < max_changes && bytes < max_bytes; it->Next()) {
    uint64_t position = 0;
    if (!storage::ParseNumberedKey({it->key().data(), it->key().size()}, storage::kJournalTag,
                                   &position) ||
        position > watermark) {
      break;
    }
    storage::DecodedChange change;
    change.position = position;
    change.descriptor = it->value().ToString();
    storage::JournalEntry entry;
    NEMESYST_RETURN_IF_ERROR(storage::DecodeJournalEntry(change.descriptor, &entry)
                                 .WithContext("journal position " + std::to_string(position)));
    switch (entry.kind) {
      case JournalKind::kStreamDef:
        NEMESYST_RETURN_IF_ERROR(AddCurrent(db, read_options, meta_cf_, ChangeCf::kMeta,
                                            storage::NamedKey(storage::kStreamDefTag, entry.name),
                                            &change.ops));
        break;
      case JournalKind::kAppend:
        // Records retention has deleted since are simply absent.
        NEMESYST_RETURN_IF_ERROR(
            AddRange(db, read_options, log_cf_, ChangeCf::kLog,
                     storage::LogKey(storage::kRecordKeyTag, entry.stream_id, entry.first_seq),
                     storage::LogKey(storage::kRecordKeyTag, entry.stream_id, entry.last_seq + 1),
                     &change.ops));
        NEMESYST_RETURN_IF_ERROR(
            AddRange(db, read_options, log_cf_, ChangeCf::kLog,
                     storage::LogKey(storage::kSummaryKeyTag, entry.stream_id, entry.first_seq),
                     storage::LogKey(storage::kSummaryKeyTag, entry.stream_id, entry.first_seq + 1),
                     &change.ops));
        break;
      case JournalKind::kModelPut: {
        std::string prefix = storage::ModelChunkPrefix(entry.name, entry.version);
        std::string end = storage::ModelChunkPrefix(entry.name, entry.version + 1);
        NEMESYST_RETURN_IF_ERROR(
            AddRange(db, read_options, models_cf_, ChangeCf::kModels, prefix, end, &change.ops));
        std::string counter;
        PutFixed32(&counter, entry.version);
        change.ops.push_back(
            {ChangeCf::kModels, ChangeOpKind::kPut, storage::ModelCounterKey(entry.name), counter});
        [[fallthrough]];
      }
      case JournalKind::kModelMeta:
        NEMESYST_RETURN_IF_ERROR(AddCurrent(db, read_options, models_cf_, ChangeCf::kModels,
                                            storage::ModelHeaderKey(entry.name, entry.version),
                                            &change.ops));
        break;
      case JournalKind::kAlias:
        NEMESYST_RETURN_IF_ERROR(AddCurrent(db, read_options, models_cf_, ChangeCf::kModels,
                                            storage::ModelAliasKey(entry.name, entry.alias),
                                            &change.ops));
        break;
    }
    changes.push_back({position, storage::EncodeChange(change)});
    bytes += changes.back().bytes.size();
  }
  NEMESYST_RETURN_IF_ERROR(FromRocks(it->status()));
  return changes;
}

// The writes of one decoded change, in `batch` (the stream definition it carries, if any, in
// `stream_def`).
Status Store::Impl::AddChangeWrites(const storage::DecodedChange& change,
                                    rocksdb::WriteBatch* batch, std::string* stream_def) {
  for (const ChangeOp& op : change.ops) {
    rocksdb::ColumnFamilyHandle* cf = op.cf == ChangeCf::kLog      ? log_cf_
                                      : op.cf == ChangeCf::kModels ? models_cf_
                                                                   : meta_cf_;
    if (op.kind == ChangeOpKind::kDelete) {
      batch->Delete(cf, op.key);
      continue;
    }
    std::string value = op.value;
    if (op.cf == ChangeCf::kModels && !op.key.empty() && op.key[0] == storage::kModelCounterTag) {
      // Version counters only move forward, whatever order changes are re-applied in.
      std::string current;
      if (db_->Get(rocksdb::ReadOptions(), models_cf_, op.key, &current).ok() &&
          current.size() == 4 && value.size() == 4 &&
          DecodeFixed32(current.data()) > DecodeFixed32(value.data())) {
        value = current;
      }
    }
    if (op.cf == ChangeCf::kMeta && !op.key.empty() && op.key[0] == storage::kStreamDefTag) {
      NEMESYST_RETURN_IF_ERROR(storage::DecodeStreamDef(op.value).status());
      *stream_def = op.value;
    }
    batch->Put(cf, op.key, value);
  }
  batch->Put(meta_cf_, storage::NumberedKey(storage::kJournalTag, change.position),
             change.descriptor);
  return Status::OK();
}

namespace {

// A model version that arrives by replication is installed only if its content is what the
// registry that wrote it recorded: every chunk's CRC, the chunk count and size, and the SHA-256
// of the whole blob (end to end, from the PutModel on the hub to this store).
Status VerifyModelContent(const storage::DecodedChange& change,
                          const storage::JournalEntry& entry) {
  const std::string header_key = storage::ModelHeaderKey(entry.name, entry.version);
  const std::string chunk_prefix = storage::ModelChunkPrefix(entry.name, entry.version);
  const std::string what =
      "model '" + entry.name + "' version " + std::to_string(entry.version) + " (replicated)";
  std::optional<storage::ModelHeader> header;
  Sha256 digest;
  uint64_t bytes = 0;
  uint32_t chunks = 0;
  for (const ChangeOp& op : change.ops) {
    if (op.cf != ChangeCf::kModels || op.kind != ChangeOpKind::kPut) continue;
    if (op.key == header_key) {
      NEMESYST_ASSIGN_OR_RETURN(header, storage::DecodeModelHeader(op.value));
    } else if (op.key.starts_with(chunk_prefix)) {
      std::string_view data;
      NEMESYST_RETURN_IF_ERROR(storage::DecodeChunk(op.value, &data).WithContext(what));
      digest.Update(data);
      bytes += data.size();
      ++chunks;
    }
  }
  if (!header) return Status::Corruption(what + ": the change carries no header");
  if (header->blob.sha256.empty()) return Status::OK();  // written before digests were recorded
  if (chunks != header->blob.chunks || bytes != header->blob.bytes ||
      digest.HexDigest() != header->blob.sha256) {
    return Status::Corruption(what + ": its content does not match its recorded SHA-256 (" +
                              std::to_string(bytes) + " bytes in " + std::to_string(chunks) +
                              " chunks); not installed");
  }
  return Status::OK();
}

}  // namespace

Status Store::Impl::ApplyChange(std::string_view bytes) {
  storage::DecodedChange change;
  NEMESYST_RETURN_IF_ERROR(storage::DecodeChange(bytes, &change));
  storage::JournalEntry entry;
  NEMESYST_RETURN_IF_ERROR(storage::DecodeJournalEntry(change.descriptor, &entry));
  if (entry.kind == JournalKind::kModelPut) {
    NEMESYST_RETURN_IF_ERROR(VerifyModelContent(change, entry));
  }
  std::shared_ptr<storage::StreamState> stream;
  if (entry.kind == JournalKind::kAppend) {
    stream = FindStreamById(entry.stream_id);
    if (!stream) {
      return Status::FailedPrecondition("change " + std::to_string(change.position) +
                                        " appends to a stream this store does not have; apply "
                                        "its definition first");
    }
  }
  std::lock_guard ddl(ddl_mu_);  // stream definitions change under it
  rocksdb::WriteBatch batch;
  std::string stream_def;
  NEMESYST_RETURN_IF_ERROR(AddChangeWrites(change, &batch, &stream_def));
  NEMESYST_RETURN_IF_ERROR(Write(&batch, true));

  journal_.AdvanceTo(change.position + 1);
  switch (entry.kind) {
    case JournalKind::kStreamDef:
      if (auto existing = FindStream(entry.name)) {
        Result<storage::StreamDef> def = storage::DecodeStreamDef(stream_def);
        if (def.ok()) {
          std::lock_guard lock(existing->mu);
          existing->retention = def->retention;
        }
      } else if (!stream_def.empty()) {
        NEMESYST_RETURN_IF_ERROR(LoadStream(entry.name, stream_def));
      }
      break;
    case JournalKind::kAppend:
      stream->seqs.AdvanceTo(entry.last_seq + 1);
      break;
    case JournalKind::kModelPut: {
      auto model = ModelState(entry.name);
      std::lock_guard lock(model->mu);
      model->loaded = false;  // re-read the counter on the next put
      break;
    }
    default:
      break;
  }
  return Status::OK();
}

// Consecutive appends to known streams share one write (one fsync); anything else — a stream
// definition, a model, an alias — is applied alone, in order, since what follows may depend on
// it. Appends carry only record and summary keys, so batching them changes nothing they write.
Status Store::Impl::ApplyChanges(std::span<const std::string_view> changes, size_t* applied) {
  *applied = 0;
  struct Batched {
    std::shared_ptr<storage::StreamState> stream;
    uint64_t last_seq = 0, position = 0;
  };
  std::vector<Batched> batched;
  rocksdb::WriteBatch batch;
  auto flush = [&]() -> Status {
    if (batched.empty()) return Status::OK();
    {
      std::lock_guard ddl(ddl_mu_);
      NEMESYST_RETURN_IF_ERROR(Write(&batch, true));
    }
    for (const Batched& b : batched) {
      journal_.AdvanceTo(b.position + 1);
      b.stream->seqs.AdvanceTo(b.last_seq + 1);
    }
    *applied += batched.size();
    batched.clear();
    batch.Clear();
    return Status::OK();
  };
  for (std::string_view bytes : changes) {
    storage::DecodedChange change;
    storage::JournalEntry entry;
    NEMESYST_RETURN_IF_ERROR(storage::DecodeChange(bytes, &change));
    NEMESYST_RETURN_IF_ERROR(storage::DecodeJournalEntry(change.descriptor, &entry));
    std::shared_ptr<storage::StreamState> stream =
        entry.kind == JournalKind::kAppend ? FindStreamById(entry.stream_id) : nullptr;
    if (stream == nullptr) {
      NEMESYST_RETURN_IF_ERROR(flush());
      NEMESYST_RETURN_IF_ERROR(ApplyChange(bytes));
      ++*applied;
      continue;
    }
    std::string no_def;
    NEMESYST_RETURN_IF_ERROR(AddChangeWrites(change, &batch, &no_def));
    batched.push_back({std::move(stream), entry.last_seq, change.position});
  }
  return flush();
}

}  // namespace nemesyst
