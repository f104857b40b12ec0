// What the C API's opaque handles are, and the boundary every entry point goes through: a
// Status (or an exception, which must not cross into C) becomes a code and a message the caller
// owns.
//
// Thread-safety: StoreState's mutex — shared by every call on the store, exclusive for close.
#ifndef NEMESYST_CAPI_C_HANDLES_H_
#define NEMESYST_CAPI_C_HANDLES_H_

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/c.h"
#include "nemesyst/live_model.h"
#include "nemesyst/status.h"
#include "nemesyst/store.h"

namespace nemesyst::capi {

// The store behind a handle; predictors keep it alive to learn that it was closed.
struct StoreState {
  std::shared_mutex mu;
  std::unique_ptr<Store> store;  // null once closed
};

// A message the caller frees with nemesyst_free (malloc'd).
char* CopyString(std::string_view text);
// Sets *errptr (when errptr is not null) and returns the status's code.
int Fail(char** errptr, const Status& status);
// Runs `body` (returning Status), turning any exception into NEMESYST_INTERNAL.
template <class Body>
int Guard(char** errptr, const char* function, Body&& body) {
  try {
    const Status s = body();
    return s.ok() ? NEMESYST_OK : Fail(errptr, s.WithContext(function));
  } catch (const std::exception& e) {
    return Fail(errptr, Status::Internal(std::string(function) + ": " + e.what()));
  } catch (...) {
    return Fail(errptr, Status::Internal(std::string(function) + ": unknown exception"));
  }
}
// InvalidArgument naming a null pointer argument.
Status NullArgument(std::string_view name);

// Runs `body(store)` under the handle's shared lock; errors for a null or closed handle.
template <class Body>
Status WithStore(nemesyst_store_t* handle, Body&& body);

}  // namespace nemesyst::capi

struct nemesyst_store_t {
  std::shared_ptr<nemesyst::capi::StoreState> state;
};

struct nemesyst_records_t {
  size_t field_count = 0;
  std::vector<nemesyst::StoredRecord> records;
};

struct nemesyst_predictor_t {
  std::shared_ptr<nemesyst::capi::StoreState> store;  // for rebuild; may have been closed
  std::unique_ptr<nemesyst::LiveModel> live;
  std::vector<std::string> fields;
};

namespace nemesyst::capi {

template <class Body>
Status WithStore(nemesyst_store_t* handle, Body&& body) {
  if (handle == nullptr || !handle->state) return NullArgument("store");
  std::shared_lock lock(handle->state->mu);
  if (!handle->state->store) return Status::FailedPrecondition("the store is closed");
  return body(*handle->state->store);
}

}  // namespace nemesyst::capi

#endif  // NEMESYST_CAPI_C_HANDLES_H_
