/* The C API used from C (compiled as C99, -pedantic): a store, a stream, an atomic append, reads
 * by sequence, time and device, a consumer group's claim / nack / renew / ack, the registry listed
 * empty. Returns 0, or the line of the first check that failed (the gtest reports it). */
#include <stdio.h>
#include <string.h>

#include "nemesyst/c.h"

#define CHECK(cond)                                       \
  do {                                                    \
    if (!(cond)) {                                        \
      fprintf(stderr, "c_roundtrip: %s failed\n", #cond); \
      return __LINE__;                                    \
    }                                                     \
  } while (0)

int nemesyst_test_c_roundtrip(const char* dir) {
  nemesyst_store_t* store = NULL;
  char* err = NULL;
  const char* names[] = {"air_c", "power_kw"};
  const int types[] = {NEMESYST_FIELD_FLOAT32, NEMESYST_FIELD_FLOAT64};
  const char* devices[] = {"case-1", "case-2", "case-1"};
  const int64_t times[] = {1000000, 1000000, 61000000};
  const double values[] = {3.5, 0.8, 4.0, 1.2, 3.75, 0.9};
  uint64_t first = 0, last = 0;
  size_t fields = 0;
  nemesyst_query_t query;
  nemesyst_records_t* records = NULL;
  nemesyst_claim_t claim;
  char* json = NULL;
  int64_t expires_before = 0;

  CHECK(strlen(nemesyst_version()) > 0);
  CHECK(strcmp(nemesyst_status_name(NEMESYST_NOT_FOUND), "not_found") == 0);
  CHECK(nemesyst_store_open(dir, &store, &err) == NEMESYST_OK && err == NULL);
  CHECK(nemesyst_stream_create(store, "fridges", 2, names, types, &err) == NEMESYST_OK);
  CHECK(nemesyst_stream_field_count(store, "fridges", &fields, &err) == NEMESYST_OK && fields == 2);
  CHECK(nemesyst_append(store, "fridges", 3, devices, times, values, 6, &first, &last, &err) ==
        NEMESYST_OK);
  CHECK(first == 1 && last == 3);

  nemesyst_query_init(&query);
  query.device = "case-1";
  CHECK(nemesyst_read(store, "fridges", &query, &records, &err) == NEMESYST_OK);
  CHECK(nemesyst_records_count(records) == 2 && nemesyst_records_field_count(records) == 2);
  CHECK(nemesyst_records_seq(records, 1) == 3);
  CHECK(nemesyst_records_timestamp_us(records, 1) == 61000000);
  CHECK(strcmp(nemesyst_records_device(records, 0), "case-1") == 0);
  CHECK(nemesyst_records_values(records, 1)[0] == 3.75 &&
        nemesyst_records_values(records, 1)[1] == 0.9);
  CHECK(nemesyst_records_values(records, 2) == NULL && nemesyst_records_seq(records, 2) == 0);
  nemesyst_records_free(&records);
  CHECK(records == NULL);
  nemesyst_records_free(&records); /* twice: harmless */

  nemesyst_query_init(&query);
  query.min_timestamp_us = 2000000;
  CHECK(nemesyst_read(store, "fridges", &query, &records, &err) == NEMESYST_OK);
  CHECK(nemesyst_records_count(records) == 1);
  nemesyst_records_free(&records);

  CHECK(nemesyst_group_create(store, "trainers", "fridges", 0, &err) == NEMESYST_OK);
  CHECK(nemesyst_group_claim(store, "trainers", "m1", 100, 60000, &claim, &err) == NEMESYST_OK);
  CHECK(claim.first_seq == 1 && claim.last_seq == 3 && claim.delivery == 1);
  CHECK(nemesyst_group_nack(store, "trainers", &claim, &err) == NEMESYST_OK);
  CHECK(nemesyst_group_claim(store, "trainers", "m2", 100, 60000, &claim, &err) == NEMESYST_OK);
  CHECK(claim.delivery == 2);
  expires_before = claim.lease_expires_ms;
  CHECK(nemesyst_group_renew(store, "trainers", &claim, 120000, &err) == NEMESYST_OK);
  CHECK(claim.lease_expires_ms > expires_before);
  CHECK(nemesyst_group_ack(store, "trainers", &claim, &err) == NEMESYST_OK);
  CHECK(nemesyst_group_claim(store, "trainers", "m1", 100, 60000, &claim, &err) ==
        NEMESYST_WOULD_BLOCK);
  CHECK(err != NULL);
  nemesyst_free(err);
  err = NULL;

  CHECK(nemesyst_model_list(store, &json, &err) == NEMESYST_OK && strcmp(json, "[]") == 0);
  nemesyst_free(json);
  nemesyst_store_close(&store);
  CHECK(store == NULL);
  nemesyst_store_close(&store); /* twice: harmless */
  return 0;
}
