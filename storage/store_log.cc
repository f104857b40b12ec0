// Streams: creation, append (validation, encoding, sequence numbers, batch summaries), retention
// and the dead-letter rows ingest keeps.
#include <rocksdb/write_batch.h>

#include <algorithm>

#include "common/coding.h"
#include "storage/log_chunk.h"
#include "storage/log_format.h"
#include "storage/store_impl.h"

namespace nemesyst {

using storage::FromRocks;

Status Store::Impl::CreateStream(std::string_view name, const StreamSchema& schema,
                                 const RetentionPolicy& retention) {
  NEMESYST_RETURN_IF_ERROR(storage::ValidateSchema(schema));
  if (retention.max_age_us < 0) return Status::InvalidArgument("retention max_age_us < 0");
  std::lock_guard ddl(ddl_mu_);
  if (FindStream(name)) return Status::AlreadyExists("stream '" + std::string(name) + "' exists");
  uint64_t id = storage::StreamId(name);
  if (auto other = FindStreamById(id)) {
    return Status::AlreadyExists("stream '" + std::string(name) + "' hashes to the id of '" +
                                 other->name + "'; choose another name");
  }
  storage::StreamDef def{schema, retention, storage::NowMicros()};
  std::string value = storage::EncodeStreamDef(def);
  rocksdb::WriteBatch batch;
  batch.Put(meta_cf_, storage::NamedKey(storage::kStreamDefTag, name), value);
  Status s = WriteJournaled({storage::JournalKind::kStreamDef, std::string(name)}, &batch);
  NEMESYST_RETURN_IF_ERROR(s);
  return LoadStream(name, value);
}

Status Store::Impl::PresentRange(const storage::StreamState& stream,
                                 const rocksdb::Snapshot* snapshot, uint64_t* first,
                                 uint64_t* last) const {
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, log_cf_));
  uint64_t id = 0, first_key = 0;
  *first = *last = 0;
  it->Seek(storage::LogKey(storage::kRecordKeyTag, stream.id, 0));
  if (it->Valid() &&
      storage::ParseLogKey({it->key().data(), it->key().size()}, storage::kRecordKeyTag, &id,
                           &first_key) &&
      id == stream.id) {
    // The first chunk's key is its last seq; its header says where it starts.
    storage::ChunkReader chunk;
    NEMESYST_RETURN_IF_ERROR(
        chunk.Open(stream.schema, {it->value().data(), it->value().size()}, first_key)
            .WithContext("stream '" + stream.name + "' chunk ending at seq " +
                         std::to_string(first_key)));
    *first = chunk.first_seq();
    *last = storage::SeekLastRecordKey(it.get(), stream.id);
    if (*last == 0) {
      NEMESYST_RETURN_IF_ERROR(FromRocks(it->status()));
      return Status::Internal("stream range vanished under a snapshot");
    }
  }
  return FromRocks(it->status());
}

Result<StreamInfo> Store::Impl::GetStreamInfo(std::string_view name) const {
  auto state = FindStream(name);
  if (!state) return Status::NotFound("no stream '" + std::string(name) + "'");
  StreamInfo info;
  info.name = state->name;
  info.schema = state->schema;
  info.created_us = state->created_us;
  {
    std::lock_guard lock(state->mu);
    info.retention = state->retention;
  }
  info.next_seq = state->seqs.next();
  NEMESYST_RETURN_IF_ERROR(PresentRange(*state, nullptr, &info.first_seq, &info.last_seq));
  return info;
}

Result<std::vector<std::string>> Store::Impl::ListStreams() const {
  std::shared_lock lock(streams_mu_);
  std::vector<std::string> names;
  for (const auto& [name, state] : streams_) names.push_back(name);
  return names;
}

Status Store::Impl::SetRetention(std::string_view name, const RetentionPolicy& retention) {
  if (retention.max_age_us < 0) return Status::InvalidArgument("retention max_age_us < 0");
  std::lock_guard ddl(ddl_mu_);
  auto state = FindStream(name);
  if (!state) return Status::NotFound("no stream '" + std::string(name) + "'");
  storage::StreamDef def{state->schema, retention, state->created_us};
  rocksdb::WriteBatch batch;
  batch.Put(meta_cf_, storage::NamedKey(storage::kStreamDefTag, name),
            storage::EncodeStreamDef(def));
  Status s = WriteJournaled({storage::JournalKind::kStreamDef, std::string(name)}, &batch);
  NEMESYST_RETURN_IF_ERROR(s);
  std::lock_guard lock(state->mu);
  state->retention = retention;
  return Status::OK();
}

Result<SeqRange> Store::Impl::Append(std::string_view stream, std::span<const Record> records) {
  auto state = FindStream(stream);
  if (!state) return Status::NotFound("no stream '" + std::string(stream) + "'");
  if (records.empty()) return Status::InvalidArgument("append of an empty batch");
  if (records.size() > options_.max_batch_records) {
    return Status::ResourceExhausted("batch of " + std::to_string(records.size()) +
                                     " records exceeds max_batch_records " +
                                     std::to_string(options_.max_batch_records));
  }
  // Validate and encode everything before taking a sequence number: a refused batch burns none.
  // Records are encoded straight into their chunks (storage/log_chunk.h): one RocksDB key per
  // chunk of up to max_records_per_chunk records, not one per record.
  storage::ChunkBuilder chunks(state->schema, options_.max_records_per_chunk, records.size());
  storage::BatchSummary summary;
  summary.min_timestamp_us = records[0].timestamp_us;
  summary.max_timestamp_us = records[0].timestamp_us;
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& record = records[i];
    NEMESYST_RETURN_IF_ERROR(
        storage::ValidateRecord(state->schema, record, records.size() > 1 ? int64_t(i) : -1));
    const size_t bytes = chunks.Add(record);
    if (bytes > options_.max_record_bytes) {
      return Status::ResourceExhausted(
          "record " + std::to_string(i) + " is " + std::to_string(bytes) +
          " bytes encoded, over max_record_bytes " + std::to_string(options_.max_record_bytes));
    }
    summary.min_timestamp_us = std::min(summary.min_timestamp_us, record.timestamp_us);
    summary.max_timestamp_us = std::max(summary.max_timestamp_us, record.timestamp_us);
    // Readings of one device usually come in runs: hash each run once.
    if (i == 0 || record.device_id != records[i - 1].device_id) summary.AddDevice(record.device_id);
  }
  chunks.Finish();

  uint64_t first = 0, position = 0;
  const std::string& values = chunks.out();
  rocksdb::WriteBatch batch(values.size() + chunks.chunks().size() * 32 + 256);
  {
    std::lock_guard lock(state->append_mu);
    first = state->seqs.Allocate(records.size());
    position = journal_.Allocate(1);
  }
  uint64_t last = first + records.size() - 1;
  // Each chunk's key holds the seq of its last record (storage/log_chunk.h).
  std::string key = storage::LogKey(storage::kRecordKeyTag, state->id, first);
  for (const storage::ChunkBuilder::Chunk& chunk : chunks.chunks()) {
    // Overwrite the big-endian seq in place rather than building a new key per chunk.
    const uint64_t seq = first + chunk.last_index;
    for (int b = 0; b < 8; ++b) key[9 + b] = static_cast<char>(seq >> (8 * (7 - b)));
    batch.Put(log_cf_, key, rocksdb::Slice(values.data() + chunk.begin, chunk.end - chunk.begin));
  }
  summary.last_seq = last;
  batch.Put(log_cf_, storage::LogKey(storage::kSummaryKeyTag, state->id, first),
            storage::EncodeSummary(summary));
  storage::JournalEntry entry;
  entry.kind = storage::JournalKind::kAppend;
  entry.stream_id = state->id;
  entry.first_seq = first;
  entry.last_seq = last;
  StampJournalEntry(position, batch.GetDataSize(), &entry);
  batch.Put(meta_cf_, storage::NumberedKey(storage::kJournalTag, position),
            storage::EncodeJournalEntry(entry));
  Status s = Write(&batch, true);
  state->seqs.Finish(first);
  journal_.Finish(position);
  if (!s.ok()) {
    if (s.code() == StatusCode::kResourceExhausted) {
      // Say what did commit (reads work on a full disk): the caller reports it and loses nothing.
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
      const uint64_t committed = storage::SeekLastRecordKey(it.get(), state->id);
      return s.WithContext("append to '" + state->name + "': seqs " + std::to_string(first) + ".." +
                           std::to_string(last) +
                           " were not written; the stream's last committed seq is " +
                           std::to_string(committed));
    }
    return s.WithContext("append to '" + state->name + "'");
  }
  return SeqRange{first, last};
}

Result<RetentionReport> Store::Impl::ApplyRetention(std::string_view stream, int64_t now_us) {
  auto state = FindStream(stream);
  if (!state) return Status::NotFound("no stream '" + std::string(stream) + "'");
  if (now_us == 0) now_us = storage::NowMicros();
  RetentionReport report;
  report.stream = state->name;

  // Groups of this stream, locked (in name order, as everywhere) so none claims or acks while
  // its floor is being honoured.
  std::vector<std::shared_ptr<storage::GroupState>> groups;
  {
    std::shared_lock lock(groups_mu_);
    for (const auto& [name, group] : groups_) {
      if (group->stream == state) groups.push_back(group);
    }
  }
  std::vector<std::unique_lock<std::mutex>> group_locks;
  for (auto& group : groups) group_locks.emplace_back(group->mu);
  std::lock_guard lock(state->mu);

  uint64_t first = 0, last = 0;
  NEMESYST_RETURN_IF_ERROR(PresentRange(*state, nullptr, &first, &last));
  last = std::min(last, state->seqs.Watermark());
  if (first == 0 || last < first) return report;
  uint64_t wanted = 0;
  if (state->retention.max_records > 0 && last - first + 1 > state->retention.max_records) {
    wanted = last - state->retention.max_records;
  }
  if (state->retention.max_age_us > 0) {
    // The prefix of records older than the cut-off (stops at the first newer one).
    int64_t cutoff = now_us - state->retention.max_age_us;
    Record record;
    NEMESYST_RETURN_IF_ERROR(ForEachChunk(
        *state, first, [&](storage::ChunkReader& chunk, const rocksdb::Slice&) -> Result<bool> {
          while (!chunk.done()) {
            const uint64_t seq = chunk.next_seq();
            NEMESYST_RETURN_IF_ERROR(chunk.Next(&record));
            if (seq > last || record.timestamp_us >= cutoff) return false;
            wanted = std::max(wanted, seq);
          }
          return true;
        }));
  }
  report.wanted_through_seq = wanted;
  if (wanted == 0) return report;
  uint64_t through = wanted;
  for (const auto& group : groups) {
    uint64_t committed = group->CommittedSeq();
    if (committed < wanted) {
      report.held_back.push_back({group->name, committed + 1});
      through = std::min(through, committed);
    }
  }
  if (through < first) return report;

  rocksdb::WriteBatch batch;
  batch.DeleteRange(log_cf_, storage::LogKey(storage::kRecordKeyTag, state->id, 0),
                    storage::LogKey(storage::kRecordKeyTag, state->id, through + 1));
  // Summaries of batches wholly deleted.
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
    storage::BatchSummary summary;
    for (it->Seek(storage::LogKey(storage::kSummaryKeyTag, state->id, 0)); it->Valid();
         it->Next()) {
      uint64_t id = 0, batch_first = 0;
      if (!storage::ParseLogKey({it->key().data(), it->key().size()}, storage::kSummaryKeyTag, &id,
                                &batch_first) ||
          id != state->id || batch_first > through) {
        break;
      }
      NEMESYST_RETURN_IF_ERROR(
          storage::DecodeSummary({it->value().data(), it->value().size()}, &summary));
      if (summary.last_seq <= through) batch.Delete(log_cf_, it->key());
    }
    NEMESYST_RETURN_IF_ERROR(FromRocks(it->status()));
  }
  std::string floor;
  PutFixed64(&floor, std::max(through, state->deleted_through));
  batch.Put(meta_cf_, storage::NumberedKey(storage::kDeletedThroughTag, state->id), floor);
  // Count what goes (holes make through - first an over-estimate). The chunk that straddles the
  // cut, if any, is rewritten with its records after it, under the same key (its last seq).
  uint64_t deleted = 0;
  NEMESYST_RETURN_IF_ERROR(ForEachChunk(
      *state, first, [&](storage::ChunkReader& chunk, const rocksdb::Slice& key) -> Result<bool> {
        if (chunk.first_seq() > through) return false;
        if (chunk.last_seq() <= through) {
          deleted += chunk.count();
          return true;
        }
        deleted += through - chunk.first_seq() + 1;
        NEMESYST_ASSIGN_OR_RETURN(std::string rest,
                                  storage::TrimChunk(state->schema, chunk, through + 1));
        batch.Put(log_cf_, key, rest);
        return false;
      }));
  NEMESYST_RETURN_IF_ERROR(Write(&batch, true));
  state->deleted_through = std::max(through, state->deleted_through);
  report.deleted_through_seq = through;
  report.records_deleted = deleted;
  options_.logger->Log(LogLevel::kInfo, "storage", "retention applied",
                       {{"stream", state->name},
                        {"deleted_through", std::to_string(through)},
                        {"records", std::to_string(deleted)},
                        {"held_back_by", std::to_string(report.held_back.size())}});
  return report;
}

Status Store::Impl::ForEachChunk(const storage::StreamState& stream, uint64_t first,
                                 const ChunkVisitor& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
  storage::ChunkReader chunk;
  for (it->Seek(storage::LogKey(storage::kRecordKeyTag, stream.id, first)); it->Valid();
       it->Next()) {
    uint64_t id = 0, key_seq = 0;
    if (!storage::ParseLogKey({it->key().data(), it->key().size()}, storage::kRecordKeyTag, &id,
                              &key_seq) ||
        id != stream.id) {
      break;
    }
    NEMESYST_RETURN_IF_ERROR(
        chunk.Open(stream.schema, {it->value().data(), it->value().size()}, key_seq));
    NEMESYST_ASSIGN_OR_RETURN(const bool more, visit(chunk, it->key()));
    if (!more) return Status::OK();
  }
  return FromRocks(it->status());
}

Result<uint64_t> Store::Impl::AppendDeadLetterRow(std::string_view stream, std::string_view source,
                                                  std::string_view reason, std::string_view raw) {
  DeadLetterRow row;
  row.stream = std::string(stream);
  row.source = std::string(source);
  row.reason = std::string(reason);
  row.raw = std::string(raw.substr(0, kMaxDeadLetterRawBytes));
  row.raw_bytes = raw.size();
  row.received_us = storage::NowMicros();
  uint64_t id = next_dead_letter_id_.fetch_add(1);
  rocksdb::WriteBatch batch;
  batch.Put(meta_cf_, storage::NumberedKey(storage::kDeadLetterRowTag, id),
            storage::EncodeDeadLetterRow(row));
  NEMESYST_RETURN_IF_ERROR(Write(&batch, true));
  return id;
}

Result<std::vector<DeadLetterRow>> Store::Impl::ListDeadLetterRows(std::string_view stream,
                                                                   uint64_t after_id,
                                                                   size_t max_rows) const {
  std::vector<DeadLetterRow> rows;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_cf_));
  for (it->Seek(storage::NumberedKey(storage::kDeadLetterRowTag, after_id + 1));
       it->Valid() && rows.size() < max_rows; it->Next()) {
    uint64_t id = 0;
    if (!storage::ParseNumberedKey({it->key().data(), it->key().size()}, storage::kDeadLetterRowTag,
                                   &id)) {
      break;
    }
    Result<DeadLetterRow> row =
        storage::DecodeDeadLetterRow({it->value().data(), it->value().size()});
    if (!row.ok()) return row.status().WithContext("dead-letter row " + std::to_string(id));
    if (!stream.empty() && row->stream != stream) continue;
    row->id = id;
    rows.push_back(std::move(*row));
  }
  NEMESYST_RETURN_IF_ERROR(FromRocks(it->status()));
  return rows;
}

}  // namespace nemesyst
