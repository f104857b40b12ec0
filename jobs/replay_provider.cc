#include "jobs/replay_provider.h"

#include <algorithm>
#include <random>

namespace nemesyst::jobs {

Result<bool> ReplayProvider::Next(int max_batch, Batch* out) {
  if (state_ != State::kReplay) {
    NEMESYST_ASSIGN_OR_RETURN(bool got, source_->Next(max_batch, out));
    if (!got) return false;
    windows_ += static_cast<size_t>(out->batch);
    x_.insert(x_.end(), out->x.begin(), out->x.end());
    y_.insert(y_.end(), out->y.begin(), out->y.end());
    device_.insert(device_.end(), out->device.begin(), out->device.end());
    end_us_.insert(end_us_.end(), out->end_us.begin(), out->end_us.end());
    return true;
  }
  if (next_ >= order_.size() || max_batch < 1) return false;
  const int n = static_cast<int>(std::min<size_t>(max_batch, order_.size() - next_));
  const size_t xs = static_cast<size_t>(steps()) * features();
  const size_t ys = static_cast<size_t>(label_width());
  out->Resize(n, steps(), features(), label_width());
  for (int b = 0; b < n; ++b) {
    const size_t w = order_[next_ + b];
    std::copy_n(x_.begin() + w * xs, xs, out->x.begin() + b * xs);
    std::copy_n(y_.begin() + w * ys, ys, out->y.begin() + b * ys);
    out->device[b] = device_[w];
    out->end_us[b] = end_us_[w];
  }
  next_ += n;
  return true;
}

Result<bool> ReplayProvider::PullOneClaim() {
  if (state_ == State::kFresh) {
    NEMESYST_RETURN_IF_ERROR(source_->Rewind());
    state_ = State::kFirstPass;
  }
  Batch batch;
  return Next(1 << 30, &batch);
}

Status ReplayProvider::Rewind() {
  if (state_ == State::kFresh) {  // trainers rewind before the first pass too
    state_ = State::kFirstPass;
    return source_->Rewind();
  }
  if (state_ == State::kFirstPass) {
    // Whatever the first pass did not read (it may have been cut short) is cached now, so every
    // claimed window is trained on and its claim can be acknowledged with the model.
    Batch scratch;
    while (true) {
      NEMESYST_ASSIGN_OR_RETURN(bool got, Next(256, &scratch));
      if (!got) break;
    }
    state_ = State::kReplay;
  }
  ++pass_;
  order_.resize(windows_);
  for (size_t i = 0; i < order_.size(); ++i) order_[i] = i;
  std::mt19937_64 rng(seed_ * 1000003ULL + static_cast<uint64_t>(pass_));
  for (size_t i = order_.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(rng() % i);
    std::swap(order_[i - 1], order_[j]);
  }
  next_ = 0;
  return Status::OK();
}

}  // namespace nemesyst::jobs
