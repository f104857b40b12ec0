/* The C API of Nemesyst: an embedded store of sensor streams and versioned models, and a predictor
 * that runs a stored model on readings, for programs in C (and anything with a C FFI).
 *
 * Rules (read these first):
 *  - Plain C99. Handles are opaque pointers; nothing here is a C++ type.
 *  - Errors: every function that can fail returns an int status code — 0 on success, otherwise
 *    one of NEMESYST_* below (the library's stable codes; nemesyst_status_name names them) — and
 *    takes `char** errptr` last. Pass the address of a NULL pointer (or NULL to ignore messages):
 *    on failure it receives a message the caller frees with nemesyst_free; on success it is not
 *    touched. Nothing ever throws or aborts through this API: a null handle, a null pointer where
 *    an array is needed, a wrong array length is a status (NEMESYST_INVALID_ARGUMENT), not a crash.
 *  - Ownership: what a function returns through an out-parameter belongs to the caller —
 *    handles are released by their *_close / *_free function, strings by nemesyst_free. Arrays the
 *    caller passes in are read during the call only.
 *  - Lifetimes: close functions take the address of the handle and set it to NULL, so closing
 *    twice through the same variable is harmless. A predictor outlives the store it was opened
 *    from: what it needs is loaded at open, and a call that needs the store after the store was
 *    closed (nemesyst_predictor_rebuild) returns NEMESYST_FAILED_PRECONDITION. Records read
 *    (nemesyst_records_t) are a copy and stay valid until freed.
 *  - Threads: a store handle may be used from any number of threads at once (the store is
 *    thread-safe), but closing it must not race with calls on it. A predictor and a records set
 *    belong to one thread at a time.
 *  - Times are microseconds since the Unix epoch (int64_t); values are doubles in the stream's
 *    (or the model's input) field order.
 *
 * Example (error handling trimmed):
 *   nemesyst_store_t* store = NULL;
 *   char* err = NULL;
 *   if (nemesyst_store_open("/var/lib/fridges", &store, &err) != 0) { puts(err);
 * nemesyst_free(err); } const char* names[] = {"air_c", "power_kw"}; const int types[] =
 * {NEMESYST_FIELD_FLOAT32, NEMESYST_FIELD_FLOAT32}; nemesyst_stream_create(store, "fridges", 2,
 * names, types, &err);
 *   ...
 *   nemesyst_store_close(&store);
 */
#ifndef NEMESYST_C_H_
#define NEMESYST_C_H_

#include <stddef.h>
#include <stdint.h>

#include "nemesyst/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes (stable). */
enum {
  NEMESYST_OK = 0,
  NEMESYST_INVALID_ARGUMENT = 1,
  NEMESYST_NOT_FOUND = 2,
  NEMESYST_ALREADY_EXISTS = 3,
  NEMESYST_CORRUPTION = 4,
  NEMESYST_IO_ERROR = 5,
  NEMESYST_FAILED_PRECONDITION = 6,
  NEMESYST_OUT_OF_RANGE = 7,
  NEMESYST_RESOURCE_EXHAUSTED = 8,
  NEMESYST_WOULD_BLOCK = 9, /* an ordinary outcome: nothing to hand out now */
  NEMESYST_ABORTED = 10,
  NEMESYST_DEADLINE_EXCEEDED = 11,
  NEMESYST_UNIMPLEMENTED = 12,
  NEMESYST_INTERNAL = 13,
  NEMESYST_PERMISSION_DENIED = 14
};

/* Field types of a stream. */
enum { NEMESYST_FIELD_FLOAT32 = 1, NEMESYST_FIELD_FLOAT64 = 2, NEMESYST_FIELD_INT32 = 3 };

typedef struct nemesyst_store_t nemesyst_store_t;
typedef struct nemesyst_records_t nemesyst_records_t;
typedef struct nemesyst_predictor_t nemesyst_predictor_t;
typedef struct nemesyst_node_t nemesyst_node_t;

/* ---- Basics ---------------------------------------------------------------------------------- */
NEMESYST_EXPORT const char* nemesyst_version(void);         /* "0.1.0", static */
NEMESYST_EXPORT const char* nemesyst_status_name(int code); /* "not_found", static */
NEMESYST_EXPORT void nemesyst_free(void* ptr);              /* strings this API returned */

/* ---- Store ----------------------------------------------------------------------------------- */
/* Opens (creating if needed) the store in directory `path`. */
NEMESYST_EXPORT int nemesyst_store_open(const char* path, nemesyst_store_t** store, char** errptr);
NEMESYST_EXPORT void nemesyst_store_close(nemesyst_store_t** store);

/* A stream of `field_count` fields (names [A-Za-z0-9_.-]{1,64}, types NEMESYST_FIELD_*). */
NEMESYST_EXPORT int nemesyst_stream_create(nemesyst_store_t* store, const char* stream,
                                           size_t field_count, const char* const* field_names,
                                           const int* field_types, char** errptr);
NEMESYST_EXPORT int nemesyst_stream_field_count(nemesyst_store_t* store, const char* stream,
                                                size_t* field_count, char** errptr);

/* Appends `count` readings as ONE atomic batch: devices[i], timestamps_us[i] and the row
 * values[i * F .. i * F + F - 1], F the stream's field count; `values_len` must be count * F.
 * The sequence numbers they got are [*first_seq, *last_seq] (either pointer may be NULL). A
 * batch that fails validation (a value outside its field's range, ...) writes nothing. */
NEMESYST_EXPORT int nemesyst_append(nemesyst_store_t* store, const char* stream, size_t count,
                                    const char* const* devices, const int64_t* timestamps_us,
                                    const double* values, size_t values_len, uint64_t* first_seq,
                                    uint64_t* last_seq, char** errptr);

/* What to read: a sequence range and a time range (both inclusive), one device or all, and at
 * most max_records (0 = no limit). nemesyst_query_init sets "everything". */
typedef struct {
  uint64_t first_seq;
  uint64_t last_seq;
  int64_t min_timestamp_us;
  int64_t max_timestamp_us;
  const char* device; /* NULL: every device */
  size_t max_records;
} nemesyst_query_t;
NEMESYST_EXPORT void nemesyst_query_init(nemesyst_query_t* query);

/* Reads the matching records, in sequence order, into a set the caller frees. */
NEMESYST_EXPORT int nemesyst_read(nemesyst_store_t* store, const char* stream,
                                  const nemesyst_query_t* query, nemesyst_records_t** records,
                                  char** errptr);
NEMESYST_EXPORT size_t nemesyst_records_count(const nemesyst_records_t* records);
NEMESYST_EXPORT size_t nemesyst_records_field_count(const nemesyst_records_t* records);
/* Record i's fields; out of range (or a NULL set): 0 / NULL. */
NEMESYST_EXPORT uint64_t nemesyst_records_seq(const nemesyst_records_t* records, size_t i);
NEMESYST_EXPORT int64_t nemesyst_records_timestamp_us(const nemesyst_records_t* records, size_t i);
NEMESYST_EXPORT const char* nemesyst_records_device(const nemesyst_records_t* records, size_t i);
NEMESYST_EXPORT const double* nemesyst_records_values(const nemesyst_records_t* records, size_t i);
NEMESYST_EXPORT void nemesyst_records_free(nemesyst_records_t** records);

/* ---- Consumer groups (each batch of a stream to exactly one member of a group) ----------------
 */
NEMESYST_EXPORT int nemesyst_group_create(nemesyst_store_t* store, const char* group,
                                          const char* stream, int from_latest, char** errptr);
typedef struct {
  uint64_t first_seq; /* the batch: read it with nemesyst_read */
  uint64_t last_seq;
  uint64_t batch_id; /* its lease */
  uint32_t delivery;
  int64_t lease_expires_ms; /* wall clock, ms since the Unix epoch */
} nemesyst_claim_t;
/* NEMESYST_WOULD_BLOCK when there is nothing to hand out. */
NEMESYST_EXPORT int nemesyst_group_claim(nemesyst_store_t* store, const char* group,
                                         const char* member, uint32_t max_records, int64_t lease_ms,
                                         nemesyst_claim_t* claim, char** errptr);
NEMESYST_EXPORT int nemesyst_group_ack(nemesyst_store_t* store, const char* group,
                                       const nemesyst_claim_t* claim, char** errptr);
NEMESYST_EXPORT int nemesyst_group_nack(nemesyst_store_t* store, const char* group,
                                        const nemesyst_claim_t* claim, char** errptr);
/* Extends the lease to now + lease_ms; the claim's lease_expires_ms becomes the new expiry. */
NEMESYST_EXPORT int nemesyst_group_renew(nemesyst_store_t* store, const char* group,
                                         nemesyst_claim_t* claim, int64_t lease_ms, char** errptr);

/* ---- Model registry ---------------------------------------------------------------------------
 */
/* Registers a model file (the bytes of a Nemesyst model file, checked whole before anything is
 * written) as the next version of `name`; `metadata_json` (may be NULL) is the registry's
 * metadata object (docs/model-format.md). */
NEMESYST_EXPORT int nemesyst_model_import(nemesyst_store_t* store, const char* name,
                                          const void* blob, size_t blob_len,
                                          const char* metadata_json, uint32_t* version,
                                          char** errptr);
/* `name`, `name@version` or `name:alias` → the model's name (freed by the caller) and version. */
NEMESYST_EXPORT int nemesyst_model_resolve(nemesyst_store_t* store, const char* reference,
                                           char** name, uint32_t* version, char** errptr);
NEMESYST_EXPORT int nemesyst_model_set_alias(nemesyst_store_t* store, const char* name,
                                             const char* alias, uint32_t version, char** errptr);
/* Every model as JSON (freed by the caller): [{"name", "versions": [{"version", "aliases",
 * "kind", "blob_bytes", "sha256"}]}]. */
NEMESYST_EXPORT int nemesyst_model_list(nemesyst_store_t* store, char** json, char** errptr);

/* ---- Predictor --------------------------------------------------------------------------------
 */
/* A stored regressor with its pipeline, loaded and checked once; per-device streaming state. */
NEMESYST_EXPORT int nemesyst_predictor_open(nemesyst_store_t* store, const char* model_reference,
                                            nemesyst_predictor_t** predictor, char** errptr);
NEMESYST_EXPORT void nemesyst_predictor_close(nemesyst_predictor_t** predictor);
/* The fields a reading gives, in order ("air_on_c", ...): what values[] holds below. */
NEMESYST_EXPORT size_t nemesyst_predictor_field_count(const nemesyst_predictor_t* predictor);
NEMESYST_EXPORT const char* nemesyst_predictor_field_name(const nemesyst_predictor_t* predictor,
                                                          size_t i);
/* The version loaded ("lstm@3"); static while the predictor lives. */
NEMESYST_EXPORT const char* nemesyst_predictor_model(const nemesyst_predictor_t* predictor);
/* One new reading of `device` (values_len = the field count): advances its state one step. Once
 * the device has a full window, *ready = 1 and *prediction_s is its predicted safe off-time in
 * seconds; before, *ready = 0. An older reading than the device's last is ignored (*ready = 0). */
NEMESYST_EXPORT int nemesyst_predictor_tick(nemesyst_predictor_t* predictor, const char* device,
                                            int64_t timestamp_us, const double* values,
                                            size_t values_len, double* prediction_s, int* ready,
                                            char** errptr);
/* The prediction for a given window of `steps` readings of one device (values_len = steps times
 * the field count; the window must be full and contiguous); no state is touched. */
NEMESYST_EXPORT int nemesyst_predictor_window(nemesyst_predictor_t* predictor, const char* device,
                                              size_t steps, const int64_t* timestamps_us,
                                              const double* values, size_t values_len,
                                              double* prediction_s, char** errptr);
/* nemesyst_predictor_tick and nemesyst_predictor_window, also giving the calibrated lower bound of
 * the safe off-time at the model's risk (docs/calibration.md: the true safe off-time falls below
 * it in about that share of windows) in *lower_s, seconds: NaN when the model was trained without
 * a calibration; lower_s may be NULL. */
NEMESYST_EXPORT int nemesyst_predictor_tick_bounded(nemesyst_predictor_t* predictor,
                                                    const char* device, int64_t timestamp_us,
                                                    const double* values, size_t values_len,
                                                    double* prediction_s, double* lower_s,
                                                    int* ready, char** errptr);
NEMESYST_EXPORT int nemesyst_predictor_window_bounded(
    nemesyst_predictor_t* predictor, const char* device, size_t steps, const int64_t* timestamps_us,
    const double* values, size_t values_len, double* prediction_s, double* lower_s, char** errptr);
/* Fresh state for every device from `stream`'s last window in the store the predictor was
 * opened from (NEMESYST_FAILED_PRECONDITION once that store is closed). */
NEMESYST_EXPORT int nemesyst_predictor_rebuild(nemesyst_predictor_t* predictor, const char* stream,
                                               char** errptr);

/* ---- Node: a store or hub node run inside the host process (docs/replication.md) ------------ */
enum { NEMESYST_ROLE_STORE = 1, NEMESYST_ROLE_HUB = 2 };
enum {
  NEMESYST_LOG_DEBUG = 0,
  NEMESYST_LOG_INFO = 1,
  NEMESYST_LOG_WARN = 2,
  NEMESYST_LOG_ERROR = 3
};
/* The node's log lines: called from the node's threads, possibly several at once — it must be
 * thread-safe, return quickly, and not call back into the node. `fields_json` is a JSON object of
 * the line's fields. The strings are valid during the call only. */
typedef void (*nemesyst_log_fn)(void* context, int level, const char* component,
                                const char* message, const char* fields_json);
/* NULL strings take the defaults a `nemesyst node run` has (loopback ports 7750-7758, no HTTP);
 * "tcp://127.0.0.1:*" picks a free port (nemesyst_node_endpoint tells which). */
typedef struct {
  int role;                     /* NEMESYST_ROLE_* (default store) */
  const char* node_id;          /* default "local" */
  const char* store_path;       /* required: the node's own store */
  const char* hub_endpoint;     /* store: where its hub listens */
  const char* listen_endpoint;  /* hub: where stores connect */
  const char* client_endpoint;  /* status, appends (store), registry requests (hub) */
  const char* control_endpoint; /* hub: control ops; store: only when set */
  const char* serve_model;      /* store: the model to serve live ("lstm:production"); NULL none */
  const char* ingest_endpoint;  /* store serving: PULL for pushed readings */
  const char* predictions_endpoint; /* store serving: PUB */
  const char* predict_endpoint;     /* store serving: ROUTER */
  const char* http_endpoint;        /* "127.0.0.1:0" for /metrics; NULL: no HTTP */
  nemesyst_log_fn log;              /* NULL: the log is dropped */
  void* log_context;
  int log_level; /* lines below it are not passed (default NEMESYST_LOG_INFO) */
} nemesyst_node_options_t;
NEMESYST_EXPORT void nemesyst_node_options_init(nemesyst_node_options_t* options);
/* Starts the node's threads; returns once it serves. */
NEMESYST_EXPORT int nemesyst_node_start(const nemesyst_node_options_t* options,
                                        nemesyst_node_t** node, char** errptr);
/* "listen", "client", "control" or "http": the bound endpoint (port resolved), freed by the
 * caller; NEMESYST_NOT_FOUND when the node has none. */
NEMESYST_EXPORT int nemesyst_node_endpoint(const nemesyst_node_t* node, const char* which,
                                           char** endpoint, char** errptr);
/* The node's status as JSON (what `nemesyst node status --json` prints), freed by the caller. */
NEMESYST_EXPORT int nemesyst_node_status(nemesyst_node_t* node, char** json, char** errptr);
/* Stops the node (its threads joined, its store closed) and frees the handle; sets it NULL. */
NEMESYST_EXPORT void nemesyst_node_stop(nemesyst_node_t** node);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NEMESYST_C_H_ */
