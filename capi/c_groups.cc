// The C API's consumer groups: claim, ack, nack, renew (include/nemesyst/c.h).
#include "capi/c_handles.h"

using nemesyst::Status;
using nemesyst::capi::Guard;
using nemesyst::capi::NullArgument;
using nemesyst::capi::WithStore;

namespace {

nemesyst::LeaseId LeaseOf(const nemesyst_claim_t& claim) {
  return {claim.batch_id, claim.delivery};
}

}  // namespace

extern "C" {

int nemesyst_group_create(nemesyst_store_t* store, const char* group, const char* stream,
                          int from_latest, char** errptr) {
  return Guard(errptr, "nemesyst_group_create", [&]() -> Status {
    if (group == nullptr || stream == nullptr) return NullArgument(group ? "stream" : "group");
    return WithStore(store, [&](nemesyst::Store& s) {
      return s.CreateGroup(
          group, stream,
          from_latest ? nemesyst::GroupStart::kLatest : nemesyst::GroupStart::kEarliest);
    });
  });
}

int nemesyst_group_claim(nemesyst_store_t* store, const char* group, const char* member,
                         uint32_t max_records, int64_t lease_ms, nemesyst_claim_t* claim,
                         char** errptr) {
  return Guard(errptr, "nemesyst_group_claim", [&]() -> Status {
    if (group == nullptr || member == nullptr) return NullArgument(group ? "member" : "group");
    if (claim == nullptr) return NullArgument("claim");
    return WithStore(store, [&](nemesyst::Store& s) -> Status {
      NEMESYST_ASSIGN_OR_RETURN(nemesyst::ClaimedBatch b,
                                s.Claim(group, member, max_records, lease_ms));
      *claim = {b.range.first, b.range.last, b.lease.batch_id, b.lease.delivery,
                b.lease_expires_ms};
      return Status::OK();
    });
  });
}

int nemesyst_group_ack(nemesyst_store_t* store, const char* group, const nemesyst_claim_t* claim,
                       char** errptr) {
  return Guard(errptr, "nemesyst_group_ack", [&]() -> Status {
    if (group == nullptr || claim == nullptr) return NullArgument(group ? "claim" : "group");
    return WithStore(store, [&](nemesyst::Store& s) { return s.Ack(group, LeaseOf(*claim)); });
  });
}

int nemesyst_group_nack(nemesyst_store_t* store, const char* group, const nemesyst_claim_t* claim,
                        char** errptr) {
  return Guard(errptr, "nemesyst_group_nack", [&]() -> Status {
    if (group == nullptr || claim == nullptr) return NullArgument(group ? "claim" : "group");
    return WithStore(store, [&](nemesyst::Store& s) { return s.Nack(group, LeaseOf(*claim)); });
  });
}

int nemesyst_group_renew(nemesyst_store_t* store, const char* group, nemesyst_claim_t* claim,
                         int64_t lease_ms, char** errptr) {
  return Guard(errptr, "nemesyst_group_renew", [&]() -> Status {
    if (group == nullptr || claim == nullptr) return NullArgument(group ? "claim" : "group");
    return WithStore(store, [&](nemesyst::Store& s) -> Status {
      NEMESYST_ASSIGN_OR_RETURN(claim->lease_expires_ms,
                                s.RenewLease(group, LeaseOf(*claim), lease_ms));
      return Status::OK();
    });
  });
}

}  // extern "C"
