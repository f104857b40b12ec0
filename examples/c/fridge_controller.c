/* A store server's control loop in C, embedding Nemesyst through its C API (include/nemesyst/c.h):
 * open the store, open the production model as a streaming predictor, warm every case's state
 * from the last hour of its readings, then — as each new reading arrives — append it to the store
 * (atomically) and advance that case's prediction of how long it could stay switched off.
 *
 *   fridge_controller STORE_DIR MODEL_REFERENCE STREAM
 *   fridge_controller /var/lib/nemesyst/store lstm:production fleet
 *
 * Here "arriving readings" are the last hour replayed a minute later (a real loop would read its
 * sensors). Prints each case's latest prediction; exits 1 on an error, with the message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nemesyst/c.h"

static int fail(const char* what, char* err) {
  fprintf(stderr, "fridge_controller: %s: %s\n", what, err ? err : "?");
  nemesyst_free(err);
  return 1;
}

int main(int argc, char** argv) {
  nemesyst_store_t* store = NULL;
  nemesyst_predictor_t* predictor = NULL;
  nemesyst_records_t* recent = NULL;
  nemesyst_query_t query;
  char* err = NULL;
  size_t i, n, fields, stream_fields = 0, predictions = 0;
  int64_t newest = 0;
  if (argc != 4) {
    fprintf(stderr, "usage: %s STORE_DIR MODEL_REFERENCE STREAM\n", argv[0]);
    return 2;
  }
  if (nemesyst_store_open(argv[1], &store, &err) != NEMESYST_OK) return fail("open", err);
  if (nemesyst_predictor_open(store, argv[2], &predictor, &err) != NEMESYST_OK) {
    nemesyst_store_close(&store);
    return fail("model", err);
  }
  fields = nemesyst_predictor_field_count(predictor);
  if (nemesyst_stream_field_count(store, argv[3], &stream_fields, &err) != NEMESYST_OK ||
      stream_fields != fields) {
    nemesyst_predictor_close(&predictor);
    nemesyst_store_close(&store);
    return fail("stream", err ? err : NULL);
  }
  printf("model %s, %zu input fields, nemesyst %s\n", nemesyst_predictor_model(predictor), fields,
         nemesyst_version());

  /* The newest reading's time, then the hour before it. */
  nemesyst_query_init(&query);
  if (nemesyst_read(store, argv[3], &query, &recent, &err) != NEMESYST_OK) return fail("read", err);
  n = nemesyst_records_count(recent);
  for (i = 0; i < n; ++i) {
    if (nemesyst_records_timestamp_us(recent, i) > newest)
      newest = nemesyst_records_timestamp_us(recent, i);
  }
  nemesyst_records_free(&recent);
  query.min_timestamp_us = newest - 3600LL * 1000000;
  if (nemesyst_read(store, argv[3], &query, &recent, &err) != NEMESYST_OK) return fail("read", err);
  n = nemesyst_records_count(recent);

  /* The control loop: each reading stored, then predicted. */
  for (i = 0; i < n; ++i) {
    const char* device = nemesyst_records_device(recent, i);
    const int64_t t = nemesyst_records_timestamp_us(recent, i) + 3600LL * 1000000;
    const double* values = nemesyst_records_values(recent, i);
    double safe_off_s = 0;
    int ready = 0;
    if (nemesyst_append(store, argv[3], 1, &device, &t, values, fields, NULL, NULL, &err) !=
        NEMESYST_OK) {
      return fail("append", err);
    }
    if (nemesyst_predictor_tick(predictor, device, t, values, fields, &safe_off_s, &ready, &err) !=
        NEMESYST_OK) {
      return fail("predict", err);
    }
    if (ready) {
      ++predictions;
      if (i + 1 == n || strcmp(device, nemesyst_records_device(recent, i + 1)) != 0) {
        printf("%s: safe off for %.0f s\n", device, safe_off_s);
      }
    }
  }
  printf("%zu readings stored, %zu predictions\n", n, predictions);
  nemesyst_records_free(&recent);
  nemesyst_predictor_close(&predictor);
  nemesyst_store_close(&store);
  return predictions > 0 ? 0 : 1;
}
