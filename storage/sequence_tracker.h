// Hands out increasing numbers (per-stream sequence numbers, change-journal positions) to
// concurrent writers and tracks which are still being written, so readers can see a contiguous
// prefix: Watermark() is the highest number such that every number <= it is finished (written or
// failed). Writers may finish out of order (concurrent RocksDB writes, group commit); a consumer
// group or replicator that only reads up to the watermark never skips a number that lands late.
//
// Thread-safety: all methods may be called concurrently.
#ifndef NEMESYST_STORAGE_SEQUENCE_TRACKER_H_
#define NEMESYST_STORAGE_SEQUENCE_TRACKER_H_

#include <cstdint>
#include <mutex>
#include <set>

namespace nemesyst::storage {

class SequenceTracker {
 public:
  explicit SequenceTracker(uint64_t next = 1) : next_(next) {}

  // Reserves `count` consecutive numbers and returns the first. Call Finish(first) afterwards,
  // whether the write succeeded or not (a failed write burns its numbers; they are never reused).
  uint64_t Allocate(uint64_t count) {
    std::lock_guard lock(mu_);
    uint64_t first = next_;
    next_ += count;
    in_flight_.insert(first);
    return first;
  }
  void Finish(uint64_t first) {
    std::lock_guard lock(mu_);
    in_flight_.erase(first);
  }
  // Every number <= Watermark() is finished.
  uint64_t Watermark() const {
    std::lock_guard lock(mu_);
    return in_flight_.empty() ? next_ - 1 : *in_flight_.begin() - 1;
  }
  uint64_t next() const {
    std::lock_guard lock(mu_);
    return next_;
  }
  // Moves the counter forward to at least `next` (recovery, replicated writes). Never backward.
  void AdvanceTo(uint64_t next) {
    std::lock_guard lock(mu_);
    if (next > next_) next_ = next;
  }

 private:
  mutable std::mutex mu_;
  uint64_t next_;
  std::set<uint64_t> in_flight_;
};

}  // namespace nemesyst::storage

#endif  // NEMESYST_STORAGE_SEQUENCE_TRACKER_H_
