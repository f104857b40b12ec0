// The C API's reads: a query into a records set the caller owns (include/nemesyst/c.h).
#include <limits>

#include "capi/c_handles.h"

using nemesyst::Status;
using nemesyst::capi::Guard;
using nemesyst::capi::NullArgument;
using nemesyst::capi::WithStore;

namespace {

const nemesyst::StoredRecord* At(const nemesyst_records_t* records, size_t i) {
  if (records == nullptr || i >= records->records.size()) return nullptr;
  return &records->records[i];
}

}  // namespace

extern "C" {

void nemesyst_query_init(nemesyst_query_t* query) {
  if (query == nullptr) return;
  query->first_seq = 1;
  query->last_seq = std::numeric_limits<uint64_t>::max();
  query->min_timestamp_us = std::numeric_limits<int64_t>::min();
  query->max_timestamp_us = std::numeric_limits<int64_t>::max();
  query->device = nullptr;
  query->max_records = 0;
}

int nemesyst_read(nemesyst_store_t* store, const char* stream, const nemesyst_query_t* query,
                  nemesyst_records_t** records, char** errptr) {
  return Guard(errptr, "nemesyst_read", [&]() -> Status {
    if (stream == nullptr) return NullArgument("stream");
    if (query == nullptr) return NullArgument("query");
    if (records == nullptr) return NullArgument("records");
    return WithStore(store, [&](nemesyst::Store& s) -> Status {
      nemesyst::RecordQuery q;
      q.first_seq = query->first_seq;
      q.last_seq = query->last_seq;
      q.min_timestamp_us = query->min_timestamp_us;
      q.max_timestamp_us = query->max_timestamp_us;
      if (query->device != nullptr) q.device_id = query->device;
      NEMESYST_ASSIGN_OR_RETURN(nemesyst::StreamSchema schema, s.GetSchema(stream));
      NEMESYST_ASSIGN_OR_RETURN(std::unique_ptr<nemesyst::RecordIterator> it, s.Read(stream, q));
      auto out = std::make_unique<nemesyst_records_t>();
      out->field_count = schema.fields.size();
      for (; it->Valid(); it->Next()) {
        if (query->max_records > 0 && out->records.size() >= query->max_records) break;
        out->records.push_back(it->record());
      }
      NEMESYST_RETURN_IF_ERROR(it->status());
      *records = out.release();
      return Status::OK();
    });
  });
}

size_t nemesyst_records_count(const nemesyst_records_t* records) {
  return records == nullptr ? 0 : records->records.size();
}

size_t nemesyst_records_field_count(const nemesyst_records_t* records) {
  return records == nullptr ? 0 : records->field_count;
}

uint64_t nemesyst_records_seq(const nemesyst_records_t* records, size_t i) {
  const nemesyst::StoredRecord* r = At(records, i);
  return r == nullptr ? 0 : r->seq;
}

int64_t nemesyst_records_timestamp_us(const nemesyst_records_t* records, size_t i) {
  const nemesyst::StoredRecord* r = At(records, i);
  return r == nullptr ? 0 : r->record.timestamp_us;
}

const char* nemesyst_records_device(const nemesyst_records_t* records, size_t i) {
  const nemesyst::StoredRecord* r = At(records, i);
  return r == nullptr ? nullptr : r->record.device_id.c_str();
}

const double* nemesyst_records_values(const nemesyst_records_t* records, size_t i) {
  const nemesyst::StoredRecord* r = At(records, i);
  return r == nullptr ? nullptr : r->record.values.data();
}

void nemesyst_records_free(nemesyst_records_t** records) {
  if (records == nullptr) return;
  delete *records;
  *records = nullptr;
}

}  // extern "C"
