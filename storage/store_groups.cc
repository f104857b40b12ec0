// Consumer groups: a group over one stream hands out sequence ranges (batches) with leases.
// State per group: a cursor (first seq never handed out) and the outstanding batches (leased,
// pending redelivery, dead-lettered), all persisted in the `groups` column family; acknowledged
// batches are deleted, so progress = cursor + outstanding set.
#include <rocksdb/write_batch.h>

#include "storage/group_format.h"
#include "storage/store_impl.h"

namespace nemesyst {

using storage::BatchRecord;
using storage::BatchState;
using storage::FromRocks;

namespace {

std::string NoGroup(std::string_view group) {
  return "no consumer group '" + std::string(group) + "'";
}

}  // namespace

Result<std::shared_ptr<storage::GroupState>> Store::Impl::LockGroup(
    std::string_view name, std::unique_lock<std::mutex>* lock) const {
  auto group = FindGroup(name);
  if (!group) return Status::NotFound(NoGroup(name));
  *lock = std::unique_lock(group->mu);
  // Deleted between the lookup and the lock: whoever holds it now must not write it back.
  if (group->deleted) return Status::NotFound(NoGroup(name));
  return group;
}

Status Store::Impl::LoadGroups() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), groups_cf_));
  for (it->Seek(std::string(1, storage::kGroupKeyTag));
       it->Valid() && it->key()[0] == storage::kGroupKeyTag; it->Next()) {
    auto group = std::make_shared<storage::GroupState>();
    group->name = std::string(it->key().data() + 1, it->key().size() - 1);
    NEMESYST_RETURN_IF_ERROR(
        storage::DecodeGroupRecord({it->value().data(), it->value().size()}, &group->record)
            .WithContext("group '" + group->name + "'"));
    group->stream = FindStream(group->record.stream);
    if (!group->stream) {
      return Status::Corruption("group '" + group->name + "' reads unknown stream '" +
                                group->record.stream + "'");
    }
    std::string prefix = storage::BatchKeyPrefix(group->name);
    std::unique_ptr<rocksdb::Iterator> batches(
        db_->NewIterator(rocksdb::ReadOptions(), groups_cf_));
    for (batches->Seek(prefix); batches->Valid() && batches->key().starts_with(prefix);
         batches->Next()) {
      uint64_t id = 0;
      BatchRecord batch;
      if (!storage::ParseBatchKey({batches->key().data(), batches->key().size()}, group->name,
                                  &id)) {
        return Status::Corruption("malformed batch key in group '" + group->name + "'");
      }
      NEMESYST_RETURN_IF_ERROR(
          storage::DecodeBatchRecord({batches->value().data(), batches->value().size()}, &batch)
              .WithContext("group '" + group->name + "' batch " + std::to_string(id)));
      group->batches.emplace(id, std::move(batch));
    }
    NEMESYST_RETURN_IF_ERROR(FromRocks(batches->status()));
    groups_[group->name] = group;
  }
  return FromRocks(it->status());
}

Status Store::Impl::CreateGroup(std::string_view name, std::string_view stream, GroupStart start) {
  std::lock_guard ddl(ddl_mu_);
  auto state = FindStream(stream);
  if (!state) return Status::NotFound("no stream '" + std::string(stream) + "'");
  if (FindGroup(name))
    return Status::AlreadyExists("consumer group '" + std::string(name) + "' exists");
  auto group = std::make_shared<storage::GroupState>();
  group->name = std::string(name);
  group->stream = state;
  group->record.stream = state->name;
  group->record.created_us = storage::NowMicros();
  {
    // Under the stream lock: retention cannot delete past the cursor while it is being chosen.
    std::lock_guard lock(state->mu);
    group->record.cursor =
        start == GroupStart::kLatest ? state->seqs.Watermark() + 1 : state->deleted_through + 1;
  }
  rocksdb::WriteBatch batch;
  batch.Put(groups_cf_, storage::GroupKey(name), storage::EncodeGroupRecord(group->record));
  NEMESYST_RETURN_IF_ERROR(Write(&batch, true));
  std::unique_lock lock(groups_mu_);
  groups_[group->name] = std::move(group);
  return Status::OK();
}

Status Store::Impl::DeleteGroup(std::string_view name, bool force) {
  std::lock_guard ddl(ddl_mu_);
  std::unique_lock<std::mutex> lock;
  NEMESYST_ASSIGN_OR_RETURN(auto group, LockGroup(name, &lock));
  if (!force && !group->batches.empty()) {
    // Every outstanding batch is unacknowledged (acknowledged ones are deleted): name the first.
    const size_t open = group->batches.size();
    const auto& [id, b] = *group->batches.begin();
    return Status::FailedPrecondition(
        "consumer group '" + group->name + "' has " + std::to_string(open) +
        " unacknowledged batch" + (open == 1 ? "" : "es") + ", e.g. batch " + std::to_string(id) +
        " (seq " + std::to_string(b.range.first) + ".." + std::to_string(b.range.last) + ", " +
        (b.state == BatchState::kDead ? "dead-lettered" : "claimed by '" + b.member + "'") +
        "); acknowledge them or delete with force (their records become free for retention)");
  }
  rocksdb::WriteBatch batch;
  batch.Delete(groups_cf_, storage::GroupKey(group->name));
  for (const auto& [id, b] : group->batches) {
    batch.Delete(groups_cf_, storage::BatchKey(group->name, id));
  }
  NEMESYST_RETURN_IF_ERROR(Write(&batch, true));
  // Callers that found the group before this point see `deleted` once they hold its mutex.
  group->deleted = true;
  std::unique_lock map_lock(groups_mu_);
  groups_.erase(group->name);
  return Status::OK();
}

Result<std::vector<std::string>> Store::Impl::ListGroups() const {
  std::shared_lock lock(groups_mu_);
  std::vector<std::string> names;
  for (const auto& [name, group] : groups_) names.push_back(name);
  return names;
}

Result<ClaimedBatch> Store::Impl::Claim(std::string_view name, std::string_view member,
                                        uint32_t max_records, int64_t lease_ms) {
  if (member.empty() || member.size() > 256) {
    return Status::InvalidArgument("member name must be 1..256 bytes");
  }
  if (max_records == 0) return Status::InvalidArgument("max_records must be > 0");
  if (lease_ms <= 0) return Status::InvalidArgument("lease_ms must be > 0");
  std::unique_lock<std::mutex> lock;
  NEMESYST_ASSIGN_OR_RETURN(auto group, LockGroup(name, &lock));
  int64_t now_ms = storage::NowMillis();
  rocksdb::WriteBatch batch;
  storage::GroupRecord record = group->record;
  std::map<uint64_t, BatchRecord> changed;  // installed in memory after the write succeeds
  uint64_t chosen_id = 0;
  BatchRecord chosen;

  // Redeliveries first: a nacked batch, or one whose lease ran out.
  for (const auto& [id, b] : group->batches) {
    bool redeliverable = b.state == BatchState::kPending ||
                         (b.state == BatchState::kLeased && b.lease_expires_ms <= now_ms);
    if (!redeliverable) continue;
    BatchRecord next = b;
    if (b.delivery >= options_.max_deliveries) {
      next.state = BatchState::kDead;
      batch.Put(groups_cf_, storage::BatchKey(group->name, id), storage::EncodeBatchRecord(next));
      changed[id] = next;
      options_.logger->Log(LogLevel::kWarn, "storage", "batch dead-lettered",
                           {{"group", group->name},
                            {"batch", std::to_string(id)},
                            {"deliveries", std::to_string(b.delivery)}});
      continue;
    }
    next.state = BatchState::kLeased;
    next.delivery = b.delivery + 1;
    next.member = std::string(member);
    next.lease_expires_ms = now_ms + lease_ms;
    record.redeliveries_total++;
    chosen_id = id;
    chosen = std::move(next);
    break;
  }
  if (chosen_id == 0) {
    uint64_t available = group->stream->seqs.Watermark();
    if (record.cursor <= available) {
      chosen_id = record.next_batch_id++;
      chosen.range.first = record.cursor;
      chosen.range.last = std::min<uint64_t>(available, record.cursor + max_records - 1);
      chosen.state = BatchState::kLeased;
      chosen.delivery = 1;
      chosen.member = std::string(member);
      chosen.lease_expires_ms = now_ms + lease_ms;
      record.cursor = chosen.range.last + 1;
    }
  }
  if (chosen_id != 0) {
    batch.Put(groups_cf_, storage::BatchKey(group->name, chosen_id),
              storage::EncodeBatchRecord(chosen));
    changed[chosen_id] = chosen;
  }
  if (batch.Count() > 0) {
    batch.Put(groups_cf_, storage::GroupKey(group->name), storage::EncodeGroupRecord(record));
    // Lease bookkeeping is not fsynced: losing it in a power cut only causes a redelivery.
    NEMESYST_RETURN_IF_ERROR(Write(&batch, false));
    group->record = record;
    for (auto& [id, b] : changed) group->batches[id] = std::move(b);
  }
  if (chosen_id == 0) {
    return Status::WouldBlock("consumer group '" + group->name + "' has nothing to hand out");
  }
  ClaimedBatch claimed;
  claimed.group = group->name;
  claimed.stream = group->stream->name;
  claimed.range = chosen.range;
  claimed.lease = {chosen_id, chosen.delivery};
  claimed.lease_expires_ms = chosen.lease_expires_ms;
  return claimed;
}

namespace {

// Is `lease` the current delivery of a batch still held (leased) in `group`?
Status CheckLease(const storage::GroupState& group, const LeaseId& lease) {
  auto it = group.batches.find(lease.batch_id);
  std::string what = "group '" + group.name + "' batch " + std::to_string(lease.batch_id);
  if (it == group.batches.end()) {
    return Status::FailedPrecondition(what + " is already acknowledged or was never handed out");
  }
  const BatchRecord& b = it->second;
  if (b.delivery != lease.delivery) {
    return Status::FailedPrecondition(what + " was redelivered (delivery " +
                                      std::to_string(b.delivery) + ", lease is for delivery " +
                                      std::to_string(lease.delivery) + ")");
  }
  if (b.state == BatchState::kPending) return Status::FailedPrecondition(what + " was nacked");
  if (b.state == BatchState::kDead) return Status::FailedPrecondition(what + " is dead-lettered");
  return Status::OK();
}

}  // namespace

Status Store::Impl::PrepareAck(storage::GroupState& group, const LeaseId& lease,
                               rocksdb::WriteBatch* batch, storage::GroupRecord* updated) const {
  NEMESYST_RETURN_IF_ERROR(CheckLease(group, lease));
  batch->Delete(groups_cf_, storage::BatchKey(group.name, lease.batch_id));
  updated->acked_total++;
  return Status::OK();
}

Status Store::Impl::Ack(std::string_view name, const LeaseId& lease) {
  std::unique_lock<std::mutex> lock;
  NEMESYST_ASSIGN_OR_RETURN(auto group, LockGroup(name, &lock));
  rocksdb::WriteBatch batch;
  storage::GroupRecord record = group->record;
  NEMESYST_RETURN_IF_ERROR(PrepareAck(*group, lease, &batch, &record));
  batch.Put(groups_cf_, storage::GroupKey(group->name), storage::EncodeGroupRecord(record));
  NEMESYST_RETURN_IF_ERROR(Write(&batch, true));
  group->record = record;
  group->batches.erase(lease.batch_id);
  return Status::OK();
}

Status Store::Impl::RewriteHeldBatch(std::string_view name, const LeaseId& lease,
                                     const std::function<void(BatchRecord*)>& change) {
  std::unique_lock<std::mutex> lock;
  NEMESYST_ASSIGN_OR_RETURN(auto group, LockGroup(name, &lock));
  NEMESYST_RETURN_IF_ERROR(CheckLease(*group, lease));
  BatchRecord b = group->batches[lease.batch_id];
  change(&b);
  rocksdb::WriteBatch batch;
  batch.Put(groups_cf_, storage::BatchKey(group->name, lease.batch_id),
            storage::EncodeBatchRecord(b));
  NEMESYST_RETURN_IF_ERROR(Write(&batch, false));
  group->batches[lease.batch_id] = std::move(b);
  return Status::OK();
}

Status Store::Impl::Nack(std::string_view name, const LeaseId& lease) {
  return RewriteHeldBatch(name, lease, [](BatchRecord* b) { b->state = BatchState::kPending; });
}

Result<int64_t> Store::Impl::RenewLease(std::string_view name, const LeaseId& lease,
                                        int64_t lease_ms) {
  if (lease_ms <= 0) return Status::InvalidArgument("lease_ms must be > 0");
  const int64_t expires = storage::NowMillis() + lease_ms;
  NEMESYST_RETURN_IF_ERROR(
      RewriteHeldBatch(name, lease, [expires](BatchRecord* b) { b->lease_expires_ms = expires; }));
  return expires;
}

Result<GroupStats> Store::Impl::GetGroupStats(std::string_view name) const {
  std::unique_lock<std::mutex> lock;
  NEMESYST_ASSIGN_OR_RETURN(auto group, LockGroup(name, &lock));
  GroupStats stats;
  stats.group = group->name;
  stats.stream = group->stream->name;
  stats.next_unclaimed_seq = group->record.cursor;
  stats.committed_seq = group->CommittedSeq();
  uint64_t available = group->stream->seqs.Watermark();
  stats.backlog_records =
      available >= group->record.cursor ? available - group->record.cursor + 1 : 0;
  int64_t now_ms = storage::NowMillis();
  for (const auto& [id, b] : group->batches) {
    if (b.state == BatchState::kDead) {
      stats.dead_letter_batches++;
    } else if (b.state == BatchState::kPending || b.lease_expires_ms <= now_ms) {
      stats.pending_batches++;
    } else {
      stats.leased_batches++;
    }
  }
  stats.acked_batches_total = group->record.acked_total;
  stats.redeliveries_total = group->record.redeliveries_total;
  return stats;
}

Result<std::vector<DeadLetterBatch>> Store::Impl::ListDeadLetterBatches(
    std::string_view name) const {
  std::unique_lock<std::mutex> lock;
  NEMESYST_ASSIGN_OR_RETURN(auto group, LockGroup(name, &lock));
  std::vector<DeadLetterBatch> dead;
  for (const auto& [id, b] : group->batches) {
    if (b.state == BatchState::kDead) dead.push_back({id, b.range, b.delivery, b.member});
  }
  return dead;
}

Status Store::Impl::ResolveDeadLetterBatch(std::string_view name, uint64_t batch_id) {
  std::unique_lock<std::mutex> lock;
  NEMESYST_ASSIGN_OR_RETURN(auto group, LockGroup(name, &lock));
  auto it = group->batches.find(batch_id);
  if (it == group->batches.end() || it->second.state != BatchState::kDead) {
    return Status::NotFound("group '" + group->name + "' has no dead-lettered batch " +
                            std::to_string(batch_id));
  }
  storage::GroupRecord record = group->record;
  record.acked_total++;
  rocksdb::WriteBatch batch;
  batch.Delete(groups_cf_, storage::BatchKey(group->name, batch_id));
  batch.Put(groups_cf_, storage::GroupKey(group->name), storage::EncodeGroupRecord(record));
  NEMESYST_RETURN_IF_ERROR(Write(&batch, true));
  group->record = record;
  group->batches.erase(it);
  return Status::OK();
}

}  // namespace nemesyst
