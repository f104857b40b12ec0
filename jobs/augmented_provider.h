// Training data augmented with a conditional GAN: after every real batch, a batch of synthetic
// windows generated for labels drawn from that real batch (the GAN's condition is the label), so
// the synthetic data follow the real label distribution of what the learner claimed.
//
// Deterministic: the k-th synthetic batch uses noise seed `seed + k`.
// Thread-safety: one consumer; the GAN model is used by this provider only.
#ifndef NEMESYST_JOBS_AUGMENTED_PROVIDER_H_
#define NEMESYST_JOBS_AUGMENTED_PROVIDER_H_

#include <cstdint>

#include "nemesyst/batch.h"
#include "nemesyst/model.h"

namespace nemesyst::jobs {

class AugmentedProvider final : public BatchProvider {
 public:
  // Neither pointer is owned. `fraction` synthetic windows per real window (rounded per batch).
  // The GAN's window shape and condition width must equal the real data's (checked by Check()).
  AugmentedProvider(BatchProvider* real, Model* gan, double fraction, uint64_t seed)
      : real_(real), gan_(gan), fraction_(fraction), seed_(seed) {}

  // InvalidArgument when the GAN cannot generate windows of this data's shape.
  Status Check() const;

  Result<bool> Next(int max_batch, Batch* out) override;
  Status Rewind() override;
  int steps() const override { return real_->steps(); }
  int features() const override { return real_->features(); }
  int label_width() const override { return real_->label_width(); }

  uint64_t synthetic_windows() const { return synthetic_windows_; }

 private:
  BatchProvider* real_;
  Model* gan_;
  double fraction_;
  uint64_t seed_;
  Batch pending_real_;
  bool synthetic_due_ = false;
  uint64_t generated_batches_ = 0;
  uint64_t synthetic_windows_ = 0;
};

}  // namespace nemesyst::jobs

#endif  // NEMESYST_JOBS_AUGMENTED_PROVIDER_H_
