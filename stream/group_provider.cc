// A BatchProvider reading a stream through a store consumer group. Each claim is a range of
// sequence numbers; a window belongs to the claim holding the reading at its label row, so the
// members of a group get disjoint windows. History before the claim (window, rolling derives ...)
// is read per device from the store by time, Pipeline::LookbackSeconds() back.
#include <algorithm>
#include <chrono>
#include <unordered_map>
#include <unordered_set>

#include "nemesyst/pipeline.h"
#include "nemesyst/store.h"
#include "stream/pipeline_impl.h"

namespace nemesyst {
namespace {

class GroupProvider final : public GroupBatchProvider {
 public:
  GroupProvider(Store* store, const Pipeline* pipeline, GroupProviderOptions options)
      : store_(store), pipeline_(pipeline), options_(std::move(options)) {}

  Result<bool> Next(int max_batch, Batch* out) override {
    if (max_batch < 1) return Status::InvalidArgument("Next: max_batch must be >= 1");
    // Without this, a pass that reads claims for longer than the lease would see its own first
    // claims expire and come back to it as redeliveries (dead-lettered after max_deliveries).
    NEMESYST_RETURN_IF_ERROR(RenewLeases());
    while (cursor_ >= ready_.size() && !exhausted_) {
      NEMESYST_RETURN_IF_ERROR(FinishClaim());
      NEMESYST_RETURN_IF_ERROR(ClaimMore());
    }
    if (cursor_ >= ready_.size()) {
      NEMESYST_RETURN_IF_ERROR(FinishClaim());
      return false;
    }
    const int n = static_cast<int>(std::min<size_t>(max_batch, ready_.size() - cursor_));
    const WindowDataset& d = *data_;
    out->Resize(n, d.steps, d.features, d.label_width);
    const size_t x_stride = static_cast<size_t>(d.steps) * d.features;
    for (int b = 0; b < n; ++b) {
      const WindowDataset::WindowRef& w = d.windows[ready_[cursor_ + b]];
      d.CopyWindow(w, out->x.data() + b * x_stride,
                   out->y.data() + static_cast<size_t>(b) * d.label_width);
      out->device[b] = d.devices[w.device];
      out->end_us[b] = d.EndUs(w);
    }
    cursor_ += n;
    return true;
  }

  Status Rewind() override {
    NEMESYST_RETURN_IF_ERROR(FinishClaim());
    exhausted_ = false;
    return Status::OK();
  }
  int steps() const override { return pipeline_->steps(); }
  int features() const override { return pipeline_->features(); }
  int label_width() const override { return pipeline_->label_width(); }

  std::vector<GroupAck> TakePendingAcks() override {
    std::vector<GroupAck> out;
    out.swap(pending_);
    return out;
  }
  std::vector<SeqRange> ConsumedRanges() const override { return consumed_; }

  Status RenewLeases() override {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_renewal_ < std::chrono::milliseconds(options_.lease_ms / 3)) {
      return Status::OK();
    }
    last_renewal_ = now;
    if (claim_open_) {
      NEMESYST_RETURN_IF_ERROR(
          store_->RenewLease(options_.group, claim_.lease, options_.lease_ms).status());
    }
    for (const GroupAck& held : pending_) {
      NEMESYST_RETURN_IF_ERROR(
          store_->RenewLease(held.group, held.lease, options_.lease_ms).status());
    }
    return Status::OK();
  }

 private:
  // The current claim's windows are all handed out: ack it (or keep the lease for the caller).
  Status FinishClaim() {
    if (!claim_open_) return Status::OK();
    claim_open_ = false;
    if (options_.auto_ack) return store_->Ack(options_.group, claim_.lease);
    pending_.push_back(GroupAck{options_.group, claim_.lease});
    return Status::OK();
  }

  Status ClaimMore() {
    Result<ClaimedBatch> claim = store_->Claim(options_.group, options_.member,
                                               options_.records_per_claim, options_.lease_ms);
    if (!claim.ok()) {
      if (claim.status().IsWouldBlock()) {
        exhausted_ = true;
        return Status::OK();
      }
      return claim.status();
    }
    claim_ = *claim;
    claim_open_ = true;
    consumed_.push_back(claim_.range);
    RecordQuery query;
    query.first_seq = claim_.range.first;
    query.last_seq = claim_.range.last;
    NEMESYST_ASSIGN_OR_RETURN(std::vector<Record> claimed,
                              ReadRecords(*store_, pipeline_->stream(), query));
    // Per device: the claimed timestamps and the time span to read with history.
    struct Span {
      int64_t lo = INT64_MAX, hi = INT64_MIN;
      std::unordered_set<int64_t> times;
    };
    std::unordered_map<std::string, Span> spans;
    std::vector<std::string> order;
    for (const Record& r : claimed) {
      auto [it, inserted] = spans.try_emplace(r.device_id);
      if (inserted) order.push_back(r.device_id);
      it->second.lo = std::min(it->second.lo, r.timestamp_us);
      it->second.hi = std::max(it->second.hi, r.timestamp_us);
      it->second.times.insert(r.timestamp_us);
    }
    const Pipeline::Impl& impl = PipelineInternals::Of(*pipeline_);
    std::shared_ptr<WindowDataset> data = stream::EmptyDataset(impl.compiled);
    data->devices = order;
    data->rows.resize(order.size());
    const int64_t lookback_us = static_cast<int64_t>(pipeline_->LookbackSeconds() * 1e6);
    ready_.clear();
    cursor_ = 0;
    for (size_t d = 0; d < order.size(); ++d) {
      const Span& span = spans[order[d]];
      RecordQuery history;
      history.device_id = order[d];
      history.min_timestamp_us = span.lo - lookback_us;
      history.max_timestamp_us = span.hi;
      history.last_seq = claim_.range.last;  // what this claim can see, never later appends
      NEMESYST_ASSIGN_OR_RETURN(std::vector<Record> records,
                                ReadRecords(*store_, pipeline_->stream(), history));
      std::stable_sort(records.begin(), records.end(), [](const Record& a, const Record& b) {
        return a.timestamp_us < b.timestamp_us;
      });
      stream::DeviceProcessor processor(&impl.compiled, order[d]);
      stream::WindowAssembler assembler(&impl.compiled, data.get(), static_cast<uint32_t>(d));
      for (const Record& r : records) {
        processor.Push(r.timestamp_us, r.values.data(), [&](const stream::ProcessedRow& row) {
          const long w = assembler.Add(row);
          if (w < 0) return;
          const WindowDataset::WindowRef& ref = data->windows[w];
          const int64_t label_us = data->rows[d].time_us[ref.last_row + data->horizon];
          const bool mine = span.times.count(label_us) > 0;
          const bool wanted = options_.split == DataSplit::kAll ||
                              ref.split == static_cast<uint8_t>(options_.split);
          if (mine && wanted) ready_.push_back(static_cast<size_t>(w));
        });
      }
    }
    data_ = std::move(data);
    return Status::OK();
  }

  Store* store_;
  const Pipeline* pipeline_;
  GroupProviderOptions options_;
  ClaimedBatch claim_;
  bool claim_open_ = false;
  bool exhausted_ = false;
  std::shared_ptr<WindowDataset> data_;
  std::vector<size_t> ready_;
  size_t cursor_ = 0;
  std::vector<GroupAck> pending_;
  std::vector<SeqRange> consumed_;
  // The last RenewLeases sweep (or the start): every lease held is younger than this plus a
  // claim's own, so sweeping every lease_ms / 3 keeps each at least 2/3 of lease_ms from expiry.
  std::chrono::steady_clock::time_point last_renewal_ = std::chrono::steady_clock::now();
};

}  // namespace

Result<std::unique_ptr<GroupBatchProvider>> MakeGroupProvider(Store* store,
                                                              const Pipeline* pipeline,
                                                              const GroupProviderOptions& options) {
  if (store == nullptr || pipeline == nullptr) {
    return Status::InvalidArgument("group provider: store and pipeline are required");
  }
  if (!pipeline->fitted()) return Status::FailedPrecondition("group provider: pipeline not fitted");
  if (pipeline->stream().empty()) {
    return Status::InvalidArgument("group provider: the pipeline names no stream");
  }
  if (options.group.empty() || options.member.empty()) {
    return Status::InvalidArgument("group provider: group and member are required");
  }
  if (options.records_per_claim == 0) {
    return Status::InvalidArgument("group provider: records_per_claim must be >= 1");
  }
  if (options.lease_ms <= 0) return Status::InvalidArgument("group provider: lease_ms must be > 0");
  Status created = store->CreateGroup(options.group, pipeline->stream(), GroupStart::kEarliest);
  if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return created;
  return std::unique_ptr<GroupBatchProvider>(new GroupProvider(store, pipeline, options));
}

}  // namespace nemesyst
