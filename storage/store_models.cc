// Model registry: versioned, chunked, checksummed blobs with metadata and aliases; CommitModel
// also acknowledges consumer-group batches in the same WriteBatch.
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <set>

#include "common/coding.h"
#include "common/crc32c.h"
#include "common/sha256.h"
#include "storage/log_format.h"
#include "storage/model_format.h"
#include "storage/store_impl.h"

namespace nemesyst {

using storage::FromRocks;

namespace {

std::string ModelName(std::string_view name, uint32_t version) {
  return "model '" + std::string(name) + "' version " + std::to_string(version);
}

}  // namespace

Result<uint32_t> Store::Impl::CommitModel(std::string_view name, std::string_view blob,
                                          const ModelMetadata& metadata,
                                          std::span<const GroupAck> acks) {
  // Groups locked in name order (the store-wide order), then the model name.
  std::map<std::string, std::shared_ptr<storage::GroupState>> groups;
  std::set<std::pair<std::string, uint64_t>> seen;
  for (const GroupAck& ack : acks) {
    auto group = FindGroup(ack.group);
    if (!group) return Status::NotFound("no consumer group '" + ack.group + "'");
    if (!seen.insert({ack.group, ack.lease.batch_id}).second) {
      return Status::InvalidArgument("batch " + std::to_string(ack.lease.batch_id) + " of group '" +
                                     ack.group + "' is listed twice");
    }
    groups[ack.group] = std::move(group);
  }
  std::vector<std::unique_lock<std::mutex>> group_locks;
  for (auto& [group_name, group] : groups) group_locks.emplace_back(group->mu);
  for (auto& [group_name, group] : groups) {
    if (group->deleted) return Status::NotFound("no consumer group '" + group_name + "'");
  }

  rocksdb::WriteBatch batch;
  std::map<std::string, storage::GroupRecord> records;
  for (auto& [group_name, group] : groups) records[group_name] = group->record;
  for (const GroupAck& ack : acks) {
    NEMESYST_RETURN_IF_ERROR(PrepareAck(*groups[ack.group], ack.lease, &batch, &records[ack.group])
                                 .WithContext("commit of model '" + std::string(name) + "'"));
  }
  for (auto& [group_name, record] : records) {
    batch.Put(groups_cf_, storage::GroupKey(group_name), storage::EncodeGroupRecord(record));
  }

  auto model = ModelState(name);
  std::lock_guard model_lock(model->mu);
  if (!model->loaded) {
    std::string value;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), models_cf_, storage::ModelCounterKey(name), &value);
    if (!s.ok() && !s.IsNotFound()) return FromRocks(s);
    if (s.ok() && value.size() != 4)
      return Status::Corruption("model counter of '" + std::string(name) + "'");
    model->last_version = s.ok() ? DecodeFixed32(value.data()) : 0;
    model->loaded = true;
  }
  if (model->last_version == UINT32_MAX) return Status::ResourceExhausted("no versions left");
  uint32_t version = model->last_version + 1;

  storage::ModelHeader header;
  header.metadata = metadata;
  if (header.metadata.lineage.created_us == 0)
    header.metadata.lineage.created_us = storage::NowMicros();
  header.blob.bytes = blob.size();
  header.blob.crc32c = Crc32c(blob);
  header.blob.sha256 = Sha256Hex(blob);
  header.blob.chunk_bytes = options_.model_chunk_bytes;
  header.blob.chunks = static_cast<uint32_t>((blob.size() + options_.model_chunk_bytes - 1) /
                                             options_.model_chunk_bytes);
  for (uint32_t i = 0; i < header.blob.chunks; ++i) {
    std::string_view chunk =
        blob.substr(size_t(i) * options_.model_chunk_bytes, options_.model_chunk_bytes);
    batch.Put(models_cf_, storage::ModelChunkKey(name, version, i), storage::EncodeChunk(chunk));
  }
  batch.Put(models_cf_, storage::ModelHeaderKey(name, version), storage::EncodeModelHeader(header));
  std::string counter;
  PutFixed32(&counter, version);
  batch.Put(models_cf_, storage::ModelCounterKey(name), counter);
  storage::JournalEntry entry;
  entry.kind = storage::JournalKind::kModelPut;
  entry.name = std::string(name);
  entry.version = version;
  Status s = WriteJournaled(entry, &batch);
  NEMESYST_RETURN_IF_ERROR(s.WithContext("put " + ModelName(name, version)));
  model->last_version = version;
  for (auto& [group_name, record] : records) groups[group_name]->record = record;
  for (const GroupAck& ack : acks) groups[ack.group]->batches.erase(ack.lease.batch_id);
  options_.logger->Log(LogLevel::kInfo, "storage", "model version registered",
                       {{"model", std::string(name)},
                        {"version", std::to_string(version)},
                        {"bytes", std::to_string(blob.size())},
                        {"acked_batches", std::to_string(acks.size())}});
  return version;
}

namespace {

Result<storage::ModelHeader> ReadHeader(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                                        const rocksdb::Snapshot* snapshot, std::string_view name,
                                        uint32_t version) {
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot;
  std::string value;
  rocksdb::Status s = db->Get(read_options, cf, storage::ModelHeaderKey(name, version), &value);
  if (s.IsNotFound()) return Status::NotFound("no " + ModelName(name, version));
  if (!s.ok()) return FromRocks(s);
  Result<storage::ModelHeader> header = storage::DecodeModelHeader(value);
  if (!header.ok()) return header.status().WithContext(ModelName(name, version));
  return header;
}

// alias -> version for every alias of `name`.
Result<std::map<std::string, uint32_t>> ReadAliases(rocksdb::DB* db,
                                                    rocksdb::ColumnFamilyHandle* cf,
                                                    std::string_view name) {
  std::map<std::string, uint32_t> aliases;
  std::string prefix = storage::ModelAliasPrefix(name);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->value().size() != 4) {
      return Status::Corruption("alias value of model '" + std::string(name) + "' malformed");
    }
    aliases[std::string(it->key().data() + prefix.size(), it->key().size() - prefix.size())] =
        DecodeFixed32(it->value().data());
  }
  NEMESYST_RETURN_IF_ERROR(FromRocks(it->status()));
  return aliases;
}

ModelInfo MakeInfo(std::string_view name, uint32_t version, storage::ModelHeader header,
                   const std::map<std::string, uint32_t>& aliases) {
  ModelInfo info;
  info.name = std::string(name);
  info.version = version;
  info.metadata = std::move(header.metadata);
  info.blob_bytes = header.blob.bytes;
  info.blob_sha256 = header.blob.sha256;
  info.retired = header.retired;
  for (const auto& [alias, v] : aliases) {
    if (v == version) info.aliases.push_back(alias);
  }
  return info;
}

}  // namespace

Result<ModelInfo> Store::Impl::GetModelInfo(std::string_view name, uint32_t version) const {
  NEMESYST_ASSIGN_OR_RETURN(storage::ModelHeader header,
                            ReadHeader(db_.get(), models_cf_, nullptr, name, version));
  NEMESYST_ASSIGN_OR_RETURN(auto aliases, ReadAliases(db_.get(), models_cf_, name));
  return MakeInfo(name, version, std::move(header), aliases);
}

Result<std::string> Store::Impl::ReadModelBlob(std::string_view name, uint32_t version) const {
  const storage::ScopedSnapshot scoped(db_.get(), options_.read_only);
  const rocksdb::Snapshot* snapshot = scoped.get();
  NEMESYST_ASSIGN_OR_RETURN(storage::ModelHeader header,
                            ReadHeader(db_.get(), models_cf_, snapshot, name, version));
  std::string what = ModelName(name, version);
  std::string blob;
  blob.reserve(header.blob.bytes);
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot;
  std::string prefix = storage::ModelChunkPrefix(name, version);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, models_cf_));
  uint32_t index = 0;
  uint32_t crc = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next(), ++index) {
    if (it->key().size() != prefix.size() + 4 ||
        DecodeBigEndian32(it->key().data() + prefix.size()) != index) {
      return Status::Corruption(what + ": chunk " + std::to_string(index) + " is missing");
    }
    std::string_view data;
    NEMESYST_RETURN_IF_ERROR(storage::DecodeChunk({it->value().data(), it->value().size()}, &data)
                                 .WithContext(what + " chunk " + std::to_string(index)));
    bool last = index + 1 == header.blob.chunks;
    uint64_t expected = last ? header.blob.bytes - uint64_t(index) * header.blob.chunk_bytes
                             : header.blob.chunk_bytes;
    if (index >= header.blob.chunks || data.size() != expected) {
      return Status::Corruption(what + ": chunk " + std::to_string(index) + " has " +
                                std::to_string(data.size()) + " bytes, expected " +
                                std::to_string(index >= header.blob.chunks ? 0 : expected));
    }
    crc = Crc32cExtend(crc, data.data(), data.size());
    blob.append(data);
  }
  NEMESYST_RETURN_IF_ERROR(FromRocks(it->status()));
  if (index != header.blob.chunks) {
    return Status::Corruption(what + ": blob truncated (" + std::to_string(index) + " of " +
                              std::to_string(header.blob.chunks) + " chunks)");
  }
  // Each chunk's CRC-32C (DecodeChunk) and the lengths catch damage at rest. The SHA-256 is not
  // recomputed here (it would cut reads from ~2 GB/s to its own ~300 MB/s): it is the version's
  // identity, made on put and checked where content arrives from elsewhere (a replicated
  // version, VerifyModelContent).
  if (crc != header.blob.crc32c || blob.size() != header.blob.bytes) {
    return Status::Corruption(what + ": blob checksum mismatch");
  }
  return blob;
}

Result<uint32_t> Store::Impl::ResolveAlias(std::string_view name, std::string_view alias) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), models_cf_, storage::ModelAliasKey(name, alias), &value);
  if (s.IsNotFound()) {
    return Status::NotFound("model '" + std::string(name) + "' has no alias '" +
                            std::string(alias) + "'");
  }
  if (!s.ok()) return FromRocks(s);
  if (value.size() != 4) return Status::Corruption("alias value malformed");
  return DecodeFixed32(value.data());
}

Result<uint32_t> Store::Impl::BestModelVersion(std::string_view name, std::string_view metric,
                                               MetricOrder order) const {
  NEMESYST_ASSIGN_OR_RETURN(std::vector<ModelInfo> versions, ListModelVersions(name, false));
  uint32_t best = 0;
  double best_value = 0;
  for (const ModelInfo& info : versions) {  // oldest first: ">=" makes ties go to the newest
    auto it = info.metadata.metrics.find(std::string(metric));
    if (it == info.metadata.metrics.end()) continue;
    bool better = best == 0 || (order == MetricOrder::kLowerIsBetter ? it->second <= best_value
                                                                     : it->second >= best_value);
    if (better) {
      best = info.version;
      best_value = it->second;
    }
  }
  if (best == 0) {
    return Status::NotFound("no version of model '" + std::string(name) + "' has metric '" +
                            std::string(metric) + "'");
  }
  return best;
}

Status Store::Impl::SetAlias(std::string_view name, std::string_view alias, uint32_t version) {
  auto model = ModelState(name);
  std::lock_guard lock(model->mu);
  NEMESYST_ASSIGN_OR_RETURN(storage::ModelHeader header,
                            ReadHeader(db_.get(), models_cf_, nullptr, name, version));
  if (header.retired) {
    return Status::FailedPrecondition(ModelName(name, version) + " is retired");
  }
  std::string value;
  PutFixed32(&value, version);
  rocksdb::WriteBatch batch;
  batch.Put(models_cf_, storage::ModelAliasKey(name, alias), value);
  storage::JournalEntry entry;
  entry.kind = storage::JournalKind::kAlias;
  entry.name = std::string(name);
  entry.alias = std::string(alias);
  return WriteJournaled(entry, &batch);
}

Status Store::Impl::RemoveAlias(std::string_view name, std::string_view alias) {
  auto model = ModelState(name);
  std::lock_guard lock(model->mu);
  NEMESYST_RETURN_IF_ERROR(ResolveAlias(name, alias).status());
  rocksdb::WriteBatch batch;
  batch.Delete(models_cf_, storage::ModelAliasKey(name, alias));
  storage::JournalEntry entry;
  entry.kind = storage::JournalKind::kAlias;
  entry.name = std::string(name);
  entry.alias = std::string(alias);
  return WriteJournaled(entry, &batch);
}

Result<std::vector<std::string>> Store::Impl::ListModelNames() const {
  std::vector<std::string> names;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), models_cf_));
  for (it->Seek(std::string(1, storage::kModelCounterTag));
       it->Valid() && it->key()[0] == storage::kModelCounterTag; it->Next()) {
    names.emplace_back(it->key().data() + 1, it->key().size() - 1);
  }
  NEMESYST_RETURN_IF_ERROR(FromRocks(it->status()));
  return names;
}

Result<std::vector<ModelInfo>> Store::Impl::ListModelVersions(std::string_view name,
                                                              bool include_retired) const {
  NEMESYST_ASSIGN_OR_RETURN(auto aliases, ReadAliases(db_.get(), models_cf_, name));
  std::vector<ModelInfo> versions;
  std::string prefix = storage::ModelHeaderPrefix(name);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), models_cf_));
  bool any = false;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    any = true;
    std::string parsed_name;
    uint32_t version = 0;
    if (!storage::ParseModelHeaderKey({it->key().data(), it->key().size()}, &parsed_name,
                                      &version)) {
      return Status::Corruption("malformed model header key under '" + std::string(name) + "'");
    }
    Result<storage::ModelHeader> header =
        storage::DecodeModelHeader({it->value().data(), it->value().size()});
    if (!header.ok()) return header.status().WithContext(ModelName(name, version));
    if (header->retired && !include_retired) continue;
    versions.push_back(MakeInfo(name, version, std::move(*header), aliases));
  }
  NEMESYST_RETURN_IF_ERROR(FromRocks(it->status()));
  if (!any) return Status::NotFound("no model '" + std::string(name) + "'");
  return versions;
}

Status Store::Impl::RetireModel(std::string_view name, uint32_t version) {
  auto model = ModelState(name);
  std::lock_guard lock(model->mu);
  NEMESYST_ASSIGN_OR_RETURN(storage::ModelHeader header,
                            ReadHeader(db_.get(), models_cf_, nullptr, name, version));
  if (header.retired) return Status::OK();
  NEMESYST_ASSIGN_OR_RETURN(auto aliases, ReadAliases(db_.get(), models_cf_, name));
  for (const auto& [alias, v] : aliases) {
    if (v == version) {
      return Status::FailedPrecondition(ModelName(name, version) + " is aliased as '" + alias +
                                        "'; move the alias first");
    }
  }
  header.retired = true;
  rocksdb::WriteBatch batch;
  batch.Put(models_cf_, storage::ModelHeaderKey(name, version), storage::EncodeModelHeader(header));
  storage::JournalEntry entry;
  entry.kind = storage::JournalKind::kModelMeta;
  entry.name = std::string(name);
  entry.version = version;
  return WriteJournaled(entry, &batch);
}

}  // namespace nemesyst
