#include "jobs/augmented_provider.h"

#include <algorithm>
#include <cmath>

namespace nemesyst::jobs {

Status AugmentedProvider::Check() const {
  if (gan_->kind() != "gan") {
    return Status::InvalidArgument("augmentation model is a " + std::string(gan_->kind()) +
                                   ", not a gan");
  }
  if (gan_->steps() != real_->steps() || gan_->features() != real_->features()) {
    return Status::InvalidArgument(
        "augmentation GAN generates windows of " + std::to_string(gan_->steps()) + " x " +
        std::to_string(gan_->features()) + " but the pipeline makes " +
        std::to_string(real_->steps()) + " x " + std::to_string(real_->features()));
  }
  if (gan_->label_width() != real_->label_width()) {
    return Status::InvalidArgument(
        "augmentation GAN's condition width " + std::to_string(gan_->label_width()) +
        " differs from the label width " + std::to_string(real_->label_width()));
  }
  if (!(fraction_ > 0) || !std::isfinite(fraction_)) {
    return Status::InvalidArgument("augmentation fraction must be > 0");
  }
  return Status::OK();
}

Result<bool> AugmentedProvider::Next(int max_batch, Batch* out) {
  if (synthetic_due_) {
    synthetic_due_ = false;
    const Batch& real = pending_real_;
    const int n = std::clamp(static_cast<int>(std::lround(real.batch * fraction_)), 1, max_batch);
    const int w = real.label_width;
    std::vector<float> condition(static_cast<size_t>(n) * w);
    for (int i = 0; i < n; ++i) {
      const int src = i % real.batch;
      for (int k = 0; k < w; ++k) condition[i * w + k] = real.y[src * w + k];
    }
    std::vector<float> windows;
    NEMESYST_RETURN_IF_ERROR(gan_->Generate(n, seed_ + generated_batches_++, condition, &windows));
    out->Resize(n, real.steps, real.features, w);
    out->x = std::move(windows);
    out->y = std::move(condition);
    for (int i = 0; i < n; ++i) {
      out->device[i] = "synthetic";
      out->end_us[i] = 0;
    }
    synthetic_windows_ += static_cast<uint64_t>(n);
    return true;
  }
  NEMESYST_ASSIGN_OR_RETURN(bool got, real_->Next(max_batch, out));
  if (!got) return false;
  pending_real_ = *out;
  synthetic_due_ = true;
  return true;
}

Status AugmentedProvider::Rewind() {
  synthetic_due_ = false;
  return real_->Rewind();
}

}  // namespace nemesyst::jobs
