// The contract between data (stream pipelines, or an integrator's own code) and training:
// a BatchProvider hands out mini-batches of fixed-shape windows with their labels.
#ifndef NEMESYST_BATCH_H_
#define NEMESYST_BATCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "nemesyst/export.h"
#include "nemesyst/status.h"

namespace nemesyst {

// One mini-batch. Tensors are float32, row-major, batch-major:
//   x      [batch][steps][features]   input windows
//   y      [batch][label_width]       targets (empty when unlabelled, e.g. GAN real windows)
//   device [batch]                    device id of each window (for evaluation by group)
//   end_us [batch]                    timestamp (µs since epoch) of each window's last reading
struct Batch {
  int batch = 0;
  int steps = 0;
  int features = 0;
  int label_width = 0;
  std::vector<float> x;
  std::vector<float> y;
  std::vector<std::string> device;
  std::vector<int64_t> end_us;

  // Sets the shape and sizes the tensors (contents unspecified).
  void Resize(int batch_size, int steps_per_window, int feature_count, int label_count) {
    batch = batch_size;
    steps = steps_per_window;
    features = feature_count;
    label_width = label_count;
    x.resize(static_cast<size_t>(batch) * steps * features);
    y.resize(static_cast<size_t>(batch) * label_width);
    device.resize(batch);
    end_us.resize(batch);
  }
};

// A source of mini-batches for one pass (epoch) at a time.
// Thread-safety: one consumer per provider (a learner thread owns its provider).
class NEMESYST_EXPORT BatchProvider {
 public:
  virtual ~BatchProvider() = default;
  // Fills `out` with up to `max_batch` windows. Returns true when it produced a batch, false at
  // the end of the pass (then `out` is untouched). Shapes are the same for every batch of a pass
  // except the batch size of the last one.
  virtual Result<bool> Next(int max_batch, Batch* out) = 0;
  // Starts a new pass. Providers that read a stream through a consumer group may hand out new,
  // unseen data on the next pass rather than the same windows again; they document which.
  virtual Status Rewind() = 0;
  // Shape of every window: steps, features, label width.
  virtual int steps() const = 0;
  virtual int features() const = 0;
  virtual int label_width() const = 0;
};

}  // namespace nemesyst

#endif  // NEMESYST_BATCH_H_
