// RecordIterator over one stream: a RocksDB iterator on the record chunks (storage/log_chunk.h),
// decoded one record at a time, plus (when the query filters by time or device) one on the batch
// summaries, used to skip whole append batches that cannot match. Both read the same snapshot.
#include <rocksdb/db.h>

#include "storage/log_chunk.h"
#include "storage/log_format.h"
#include "storage/store_impl.h"

namespace nemesyst {
namespace {

class StreamIterator final : public RecordIterator {
 public:
  StreamIterator(rocksdb::DB* db, bool read_only, rocksdb::ColumnFamilyHandle* log_cf,
                 std::shared_ptr<storage::StreamState> stream, const RecordQuery& query)
      : snapshot_(db, read_only), stream_(std::move(stream)), query_(query) {
    rocksdb::ReadOptions read_options;
    read_options.snapshot = snapshot_.get();
    records_.reset(db->NewIterator(read_options, log_cf));
    filtered_ = query_.device_id.size() > 0 ||
                query_.min_timestamp_us != std::numeric_limits<int64_t>::min() ||
                query_.max_timestamp_us != std::numeric_limits<int64_t>::max();
    if (filtered_) {
      summaries_.reset(db->NewIterator(read_options, log_cf));
      // The batch holding first_seq may start before it: look back one summary.
      summaries_->SeekForPrev(
          storage::LogKey(storage::kSummaryKeyTag, stream_->id, query_.first_seq));
      if (!SummaryValid()) {
        summaries_->Seek(storage::LogKey(storage::kSummaryKeyTag, stream_->id, query_.first_seq));
      }
      span_end_ = 0;
      next_seq_ = query_.first_seq;
      NextSpan();
    } else {
      span_end_ = query_.last_seq;
      span_from_ = query_.first_seq;
      records_->Seek(storage::LogKey(storage::kRecordKeyTag, stream_->id, query_.first_seq));
    }
    Advance();
  }

  ~StreamIterator() override {
    records_.reset();  // before the snapshot they read
    summaries_.reset();
  }

  bool Valid() const override { return valid_; }
  void Next() override {
    if (!valid_) return;
    Advance();
  }
  const StoredRecord& record() const override { return current_; }
  Status status() const override { return status_; }

 private:
  bool SummaryValid() {
    uint64_t id = 0;
    return summaries_->Valid() &&
           storage::ParseLogKey({summaries_->key().data(), summaries_->key().size()},
                                storage::kSummaryKeyTag, &id, &span_first_) &&
           id == stream_->id;
  }

  // Positions `records_` at the start of the next batch whose summary may match; sets span_end_.
  // Returns false when there is none.
  bool NextSpan() {
    for (; SummaryValid(); summaries_->Next()) {
      storage::BatchSummary summary;
      status_ = storage::DecodeSummary({summaries_->value().data(), summaries_->value().size()},
                                       &summary);
      if (!status_.ok()) return false;
      if (span_first_ > query_.last_seq) break;
      if (summary.last_seq < next_seq_) continue;
      if (summary.max_timestamp_us < query_.min_timestamp_us ||
          summary.min_timestamp_us > query_.max_timestamp_us) {
        continue;
      }
      if (!query_.device_id.empty() && !summary.MayContainDevice(query_.device_id)) continue;
      uint64_t from = std::max(span_first_, next_seq_);
      span_end_ = std::min(summary.last_seq, query_.last_seq);
      span_from_ = from;
      next_seq_ = span_end_ + 1;
      // Lands on the chunk holding `from` (chunk keys are their last seq).
      records_->Seek(storage::LogKey(storage::kRecordKeyTag, stream_->id, from));
      in_chunk_ = false;
      summaries_->Next();
      return true;
    }
    status_ = storage::FromRocks(summaries_->status());
    return false;
  }

  // Moves to the next matching record: on in the current chunk, then in the chunk at the
  // records_ position, then (filtered) in the next batch whose summary may match.
  void Advance() {
    valid_ = false;
    while (status_.ok()) {
      if (in_chunk_ && !chunk_.done()) {
        const uint64_t seq = chunk_.next_seq();
        if (seq > span_end_) {
          in_chunk_ = false;
          if (!filtered_ || !NextSpan()) return;
          continue;
        }
        status_ = seq < span_from_ ? chunk_.Skip() : chunk_.Next(&current_.record);
        if (!status_.ok()) {
          status_ =
              status_.WithContext("stream '" + stream_->name + "' seq " + std::to_string(seq));
          return;
        }
        if (seq < span_from_) continue;
        const Record& r = current_.record;
        if (r.timestamp_us >= query_.min_timestamp_us &&
            r.timestamp_us <= query_.max_timestamp_us &&
            (query_.device_id.empty() || r.device_id == query_.device_id)) {
          current_.seq = seq;
          valid_ = true;
          return;
        }
        continue;
      }
      if (in_chunk_) {  // finished this chunk
        records_->Next();
        in_chunk_ = false;
      }
      uint64_t id = 0, last = 0;
      const bool in_stream = records_->Valid() &&
                             storage::ParseLogKey({records_->key().data(), records_->key().size()},
                                                  storage::kRecordKeyTag, &id, &last) &&
                             id == stream_->id;
      if (in_stream) {
        status_ = chunk_.Open(stream_->schema, {records_->value().data(), records_->value().size()},
                              last);
        if (!status_.ok()) {
          status_ = status_.WithContext("stream '" + stream_->name + "' chunk ending at seq " +
                                        std::to_string(last));
          return;
        }
        if (chunk_.first_seq() <= span_end_) {
          in_chunk_ = true;
          continue;
        }
      }
      if (!records_->status().ok()) {
        status_ = storage::FromRocks(records_->status());
        return;
      }
      if (!filtered_ || !NextSpan()) return;
    }
  }

  storage::ScopedSnapshot snapshot_;  // declared first: outlives the iterators below
  std::shared_ptr<storage::StreamState> stream_;
  RecordQuery query_;
  std::unique_ptr<rocksdb::Iterator> records_;
  std::unique_ptr<rocksdb::Iterator> summaries_;
  bool filtered_ = false;
  uint64_t span_first_ = 0;
  uint64_t span_end_ = 0;
  uint64_t span_from_ = 0;  // records before it in the current chunk are skipped
  uint64_t next_seq_ = 0;
  storage::ChunkReader chunk_;  // reads records_->value(), valid until records_ moves
  bool in_chunk_ = false;
  bool valid_ = false;
  StoredRecord current_;
  Status status_;
};

}  // namespace

Result<std::unique_ptr<RecordIterator>> Store::Impl::Read(std::string_view stream,
                                                          const RecordQuery& query) const {
  auto state = FindStream(stream);
  if (!state) return Status::NotFound("no stream '" + std::string(stream) + "'");
  if (query.first_seq > query.last_seq || query.min_timestamp_us > query.max_timestamp_us) {
    return Status::InvalidArgument("empty query range (first > last)");
  }
  RecordQuery q = query;
  if (q.first_seq == 0) q.first_seq = 1;
  return std::unique_ptr<RecordIterator>(std::make_unique<StreamIterator>(
      db_.get(), options_.read_only, log_cf_, std::move(state), q));
}

}  // namespace nemesyst
