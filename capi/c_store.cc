// The C API's basics, the store handle, streams and appends (include/nemesyst/c.h).
#include <cstdlib>
#include <cstring>
#include <span>

#include "capi/c_handles.h"
#include "nemesyst/version.h"

namespace nemesyst::capi {

char* CopyString(std::string_view text) {
  char* out = static_cast<char*>(std::malloc(text.size() + 1));
  if (out == nullptr) return nullptr;
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return out;
}

int Fail(char** errptr, const Status& status) {
  if (errptr != nullptr) *errptr = CopyString(status.ToString());
  const int code = static_cast<int>(status.code());
  return code == NEMESYST_OK ? NEMESYST_INTERNAL : code;  // a failure is never 0
}

Status NullArgument(std::string_view name) {
  return Status::InvalidArgument(std::string(name) + " is NULL");
}

}  // namespace nemesyst::capi

using nemesyst::Status;
using nemesyst::capi::Guard;
using nemesyst::capi::NullArgument;
using nemesyst::capi::WithStore;

extern "C" {

const char* nemesyst_version(void) { return NEMESYST_VERSION_STRING; }

const char* nemesyst_status_name(int code) {
  if (code < 0 || code > NEMESYST_PERMISSION_DENIED) return "unknown";
  // StatusCodeName returns views of string literals: NUL-terminated, static.
  return nemesyst::StatusCodeName(static_cast<nemesyst::StatusCode>(code)).data();
}

void nemesyst_free(void* ptr) { std::free(ptr); }

int nemesyst_store_open(const char* path, nemesyst_store_t** store, char** errptr) {
  return Guard(errptr, "nemesyst_store_open", [&]() -> Status {
    if (path == nullptr) return NullArgument("path");
    if (store == nullptr) return NullArgument("store");
    auto state = std::make_shared<nemesyst::capi::StoreState>();
    NEMESYST_RETURN_IF_ERROR(nemesyst::Store::Open({}, path, &state->store));
    *store = new nemesyst_store_t{std::move(state)};
    return Status::OK();
  });
}

void nemesyst_store_close(nemesyst_store_t** store) {
  if (store == nullptr || *store == nullptr) return;
  try {
    std::unique_lock lock((*store)->state->mu);
    (*store)->state->store.reset();
  } catch (...) {  // closing must not throw into C; the handle is freed regardless
  }
  delete *store;
  *store = nullptr;
}

int nemesyst_stream_create(nemesyst_store_t* store, const char* stream, size_t field_count,
                           const char* const* field_names, const int* field_types, char** errptr) {
  return Guard(errptr, "nemesyst_stream_create", [&]() -> Status {
    if (stream == nullptr) return NullArgument("stream");
    if (field_count > 0 && (field_names == nullptr || field_types == nullptr)) {
      return NullArgument(field_names == nullptr ? "field_names" : "field_types");
    }
    nemesyst::StreamSchema schema;
    for (size_t i = 0; i < field_count; ++i) {
      if (field_names[i] == nullptr) return NullArgument("a field name");
      const int t = field_types[i];
      if (t < NEMESYST_FIELD_FLOAT32 || t > NEMESYST_FIELD_INT32) {
        return Status::InvalidArgument("field '" + std::string(field_names[i]) + "': type " +
                                       std::to_string(t) + " is not a NEMESYST_FIELD_* value");
      }
      schema.fields.push_back(
          {field_names[i], static_cast<nemesyst::FieldType>(t), "", std::nullopt, std::nullopt});
    }
    return WithStore(store, [&](nemesyst::Store& s) { return s.CreateStream(stream, schema); });
  });
}

int nemesyst_stream_field_count(nemesyst_store_t* store, const char* stream, size_t* field_count,
                                char** errptr) {
  return Guard(errptr, "nemesyst_stream_field_count", [&]() -> Status {
    if (stream == nullptr) return NullArgument("stream");
    if (field_count == nullptr) return NullArgument("field_count");
    return WithStore(store, [&](nemesyst::Store& s) -> Status {
      NEMESYST_ASSIGN_OR_RETURN(nemesyst::StreamSchema schema, s.GetSchema(stream));
      *field_count = schema.fields.size();
      return Status::OK();
    });
  });
}

int nemesyst_append(nemesyst_store_t* store, const char* stream, size_t count,
                    const char* const* devices, const int64_t* timestamps_us, const double* values,
                    size_t values_len, uint64_t* first_seq, uint64_t* last_seq, char** errptr) {
  return Guard(errptr, "nemesyst_append", [&]() -> Status {
    if (stream == nullptr) return NullArgument("stream");
    if (count > 0 && (devices == nullptr || timestamps_us == nullptr)) {
      return NullArgument(devices == nullptr ? "devices" : "timestamps_us");
    }
    return WithStore(store, [&](nemesyst::Store& s) -> Status {
      NEMESYST_ASSIGN_OR_RETURN(nemesyst::StreamSchema schema, s.GetSchema(stream));
      const size_t fields = schema.fields.size();
      if (values_len != count * fields) {
        return Status::InvalidArgument("values_len is " + std::to_string(values_len) + ", but " +
                                       std::to_string(count) + " readings of stream '" + stream +
                                       "' hold " + std::to_string(count * fields) + " values");
      }
      if (values_len > 0 && values == nullptr) return NullArgument("values");
      std::vector<nemesyst::Record> records(count);
      for (size_t i = 0; i < count; ++i) {
        if (devices[i] == nullptr) return NullArgument("devices[" + std::to_string(i) + "]");
        records[i].device_id = devices[i];
        records[i].timestamp_us = timestamps_us[i];
        records[i].values.assign(values + i * fields, values + (i + 1) * fields);
      }
      NEMESYST_ASSIGN_OR_RETURN(nemesyst::SeqRange seqs,
                                s.Append(stream, std::span<const nemesyst::Record>(records)));
      if (first_seq != nullptr) *first_seq = seqs.first;
      if (last_seq != nullptr) *last_seq = seqs.last;
      return Status::OK();
    });
  });
}

}  // extern "C"
