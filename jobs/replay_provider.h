// A BatchProvider that reads its source once and replays what it read on later passes.
//
// Why: a consumer group hands each learner unique data once (its Rewind does not replay, it
// moves on to new data), but a learner wants several epochs over the data it claimed. The first
// pass forwards the source's batches (so a learner starts training on the first claim while other
// learners claim the next ones) and keeps a copy of every window; every later pass replays all
// windows in a fresh seeded shuffled order (Fisher–Yates over mt19937_64, reproducible on every
// standard library), in batches of the size asked for.
//
// Memory: every batch of the first pass (batch x steps x features floats each).
// Thread-safety: one consumer (like every BatchProvider).
#ifndef NEMESYST_JOBS_REPLAY_PROVIDER_H_
#define NEMESYST_JOBS_REPLAY_PROVIDER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "nemesyst/batch.h"

namespace nemesyst::jobs {

class ReplayProvider final : public BatchProvider {
 public:
  // `source` is not owned and must outlive the first pass.
  ReplayProvider(BatchProvider* source, uint64_t seed) : source_(source), seed_(seed) {}

  Result<bool> Next(int max_batch, Batch* out) override;
  Status Rewind() override;
  int steps() const override { return source_->steps(); }
  int features() const override { return source_->features(); }
  int label_width() const override { return source_->label_width(); }

  // Reads the rest of the source's current claim, or its next one (one Next call with no batch
  // limit): a coordinator calling this round-robin over several learners' providers hands out
  // claims in a deterministic order. Returns false when the source has nothing more.
  Result<bool> PullOneClaim();
  // Ends the first pass early: from now on the provider replays what it holds.
  void FinishFirstPass() { state_ = State::kReplay; }

  // Windows read in the first pass so far.
  size_t windows() const { return windows_; }

 private:
  BatchProvider* source_;
  uint64_t seed_;
  enum class State { kFresh, kFirstPass, kReplay };
  State state_ = State::kFresh;
  int pass_ = 0;
  // The first pass's windows, flat: x [n][steps][features], y [n][label_width].
  std::vector<float> x_, y_;
  std::vector<std::string> device_;
  std::vector<int64_t> end_us_;
  std::vector<size_t> order_;
  size_t next_ = 0;
  size_t windows_ = 0;
};

}  // namespace nemesyst::jobs

#endif  // NEMESYST_JOBS_REPLAY_PROVIDER_H_
