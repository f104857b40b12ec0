// Pipelines: each consumer's own view of a stream (docs/pipelines.md). A spec in TOML or JSON
// declares record-level steps (filter, select, derive, fill, normalise, in order), then how
// readings become windows (length, stride, horizon; per device, never across a gap), what the label
// is, and how windows split into train/validation/test (by store, device or time; deterministic).
//
//   auto pipeline = Pipeline::Create(spec_text, SimulatorFields());      // refuses bad specs
//   NEMESYST_RETURN_IF_ERROR(pipeline->Fit(records));                    // stats on train range
//   std::string resolved = pipeline->Serialize();                       // store with the model
//   auto data = pipeline->Apply(records);                                // windows, all splits
//   auto train = MakeDatasetProvider(*data, {.split = DataSplit::kTrain});
//   // at inference: Pipeline::Create(resolved, fields) re-applies exactly the same numbers.
//
// Thread-safety: a Pipeline is immutable after Fit; const methods may run concurrently. A
// WindowDataset is immutable. Providers and StreamingFeaturizers belong to one thread each.
#ifndef NEMESYST_PIPELINE_H_
#define NEMESYST_PIPELINE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nemesyst/batch.h"
#include "nemesyst/export.h"
#include "nemesyst/status.h"
#include "nemesyst/store_types.h"

namespace nemesyst {

class Store;

enum class DataSplit : uint8_t { kTrain = 0, kValidation = 1, kTest = 2, kAll = 3 };
NEMESYST_EXPORT std::string_view DataSplitName(DataSplit split);  // "train" | ... | "all"
// The bucket a pipeline with `split.by = "store"` or `"device"` puts `key` (a store or device id)
// in, for these fractions and split seed: lets a tool pick a seed that gives the stores it wants
// in each bucket (docs/pipelines.md, "Splits").
NEMESYST_EXPORT DataSplit HashSplitOf(std::string_view key, double train, double validation,
                                      double test, uint64_t seed);

// Processed readings of every device and the windows over them. Windows reference rows (no
// copy), so a dataset costs about rows x features floats, not windows x steps x features.
struct NEMESYST_EXPORT WindowDataset {
  int steps = 0, features = 0, label_width = 0, horizon = 0;
  std::vector<std::string> devices;
  struct DeviceRows {
    std::vector<float> x;          // rows x features (normalised features)
    std::vector<float> y;          // rows x label_width
    std::vector<int64_t> time_us;  // per row
  };
  std::vector<DeviceRows> rows;  // parallel to devices
  struct WindowRef {
    uint32_t device = 0;
    uint32_t last_row = 0;  // the window's last row; its label is at last_row + horizon
    uint8_t split = 0;      // DataSplit
  };
  std::vector<WindowRef> windows;  // in device order, then time order

  size_t Count(DataSplit split) const;
  // Copies window `w` into x (steps x features) and y (label_width).
  void CopyWindow(const WindowRef& w, float* x, float* y) const;
  int64_t EndUs(const WindowRef& w) const { return rows[w.device].time_us[w.last_row]; }
};

struct DatasetProviderOptions {
  DataSplit split = DataSplit::kTrain;
  // Visit windows in a seeded random order (reshuffled every pass with seed + pass). false: in
  // dataset order (device, then time) — what evaluation wants.
  bool shuffle = true;
  uint64_t seed = 1;
  // In-process parallel learners: learner `shard` of `shard_count` gets every shard_count-th
  // window of the (shuffled) pass, so learners see disjoint windows.
  int shard = 0;
  int shard_count = 1;
};

// A BatchProvider over a dataset (shared, not copied). Rewind starts a new pass over the same
// windows (reshuffled).
NEMESYST_EXPORT Result<std::unique_ptr<BatchProvider>> MakeDatasetProvider(
    std::shared_ptr<const WindowDataset> dataset, const DatasetProviderOptions& options);

class StreamingFeaturizer;

class NEMESYST_EXPORT Pipeline {
 public:
  // Parses `spec_text` (TOML, or JSON when it starts with '{'; a resolved pipeline from
  // Serialize() is JSON) and binds it to the input fields, in record-value order. Every key and
  // field reference is checked: InvalidArgument names the key path and the reason.
  static Result<std::unique_ptr<Pipeline>> Create(std::string_view spec_text,
                                                  std::vector<std::string> input_fields);
  // The same, with the input fields (and the stream when the spec names none) taken from a
  // store's stream schema.
  static Result<std::unique_ptr<Pipeline>> CreateForStream(std::string_view spec_text,
                                                           const Store& store,
                                                           std::string_view stream = {});
  // The stream a spec names (its `stream` key; empty when it names none). InvalidArgument for a
  // spec that does not parse.
  static Result<std::string> StreamNamedBy(std::string_view spec_text);
  ~Pipeline();

  // Resolves the statistics (normalise) and cut times (time split) on `records`: statistics only
  // from rows of the training range. Records may come in any order (grouped by device and sorted
  // by time inside). Refits a fitted pipeline.
  Status Fit(std::span<const Record> records);
  // True once fitted, or when there is nothing to fit.
  bool fitted() const;
  // The resolved pipeline as JSON (stable for a given spec and fit): stored with a model.
  std::string Serialize() const;

  // Windows over `records` (any order, as for Fit). FailedPrecondition if not fitted.
  Result<std::shared_ptr<const WindowDataset>> Apply(std::span<const Record> records) const;
  // Inference one reading at a time (see StreamingFeaturizer).
  std::unique_ptr<StreamingFeaturizer> MakeStreaming() const;

  int steps() const;
  int features() const;
  int label_width() const;
  int horizon() const;
  const std::string& stream() const;
  const std::vector<std::string>& input_fields() const;
  std::vector<std::string> feature_names() const;
  std::vector<std::string> label_names() const;
  // Inverts the normalisation of label `index` (identity when the label is not normalised):
  // a model predicting normalised labels reports seconds again.
  double LabelToOriginal(int index, double value) const;
  // Split bucket of a window of `device` ending at `end_us`.
  DataSplit SplitOf(std::string_view device, int64_t end_us) const;
  // Seconds of history before a reading that the pipeline needs to reproduce its windows exactly
  // (window, horizon, rolling derives, fill, since_defrost cap).
  double LookbackSeconds() const;

  class Impl;  // private (stream/pipeline_impl.h)

 private:
  friend struct PipelineInternals;  // stream/pipeline_impl.h: the group provider reads Impl
  explicit Pipeline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The streaming form: feed each new reading of a device, get that device's feature vector (the
// same numbers the dataset path produces), so a recurrent kernel can advance one step.
class NEMESYST_EXPORT StreamingFeaturizer {
 public:
  struct Update {
    // True when continuity with the device's previous reading is broken (a gap, a reading with
    // missing values): recurrent state for this device must restart.
    bool reset = false;
    // Processed rows, usually one; zero when filtered out or incomplete (e.g. rolling warm-up),
    // several when `fill` inserted rows for a short gap. Each has features() floats.
    std::vector<std::vector<float>> rows;
  };
  virtual ~StreamingFeaturizer() = default;
  // `record.values` in the pipeline's input-field order. InvalidArgument on a wrong value count;
  // a reading not after the device's previous one is ignored (empty update).
  virtual Result<Update> Push(const Record& record) = 0;
  // The device's last `steps` feature rows if they are contiguous: fills `x` (steps x features)
  // and returns true; false when not enough history yet.
  virtual bool LatestWindow(std::string_view device, float* x) const = 0;
};

// Reading a stream through a consumer group, so several learners (each its own provider and
// member name) get unique windows: a window belongs to the claim that holds its label reading.
struct GroupProviderOptions {
  std::string group;   // created on the pipeline's stream if missing (from the earliest record)
  std::string member;  // this learner's name in the group
  DataSplit split = DataSplit::kTrain;  // windows of other splits are skipped
  uint32_t records_per_claim = 8192;
  int64_t lease_ms = 10 * 60 * 1000;
  // Ack a claim as soon as all its windows were handed out. false: keep the leases so the caller
  // acknowledges them atomically with a model (TakePendingAcks + Store::CommitModel).
  bool auto_ack = true;
};

class NEMESYST_EXPORT GroupBatchProvider : public BatchProvider {
 public:
  // Leases of claims whose windows were all handed out and not yet acknowledged (auto_ack off).
  virtual std::vector<GroupAck> TakePendingAcks() = 0;
  // Sequence ranges of the claims read so far (for the model's lineage).
  virtual std::vector<SeqRange> ConsumedRanges() const = 0;
  // Extends every lease this provider holds (its open claim, and those kept for the caller) to
  // lease_ms from now, if a third of lease_ms has passed since the last renewal (so it is cheap
  // to call often). Next() does it by itself; a caller that keeps the leases through long work
  // after its last Next (training epochs on replayed windows) calls it from its progress
  // callback. FailedPrecondition names a batch whose lease was lost (it ran out and the batch
  // was redelivered), which can then no longer be acknowledged by this provider's caller.
  virtual Status RenewLeases() = 0;
};

// The pipeline must be fitted (Fit on records read from the store, or a resolved spec). The store
// and pipeline must outlive the provider. Rewind does not replay: the group hands out new data
// on the next pass; a pass ends when the group has nothing more (WouldBlock).
NEMESYST_EXPORT Result<std::unique_ptr<GroupBatchProvider>> MakeGroupProvider(
    Store* store, const Pipeline* pipeline, const GroupProviderOptions& options);

// Every record of `stream` matching `query`, in sequence order (for Fit and in-memory datasets).
NEMESYST_EXPORT Result<std::vector<Record>> ReadRecords(const Store& store, std::string_view stream,
                                                        const RecordQuery& query = {});

// The records of `stream` (through seq `through`; 0 = the stream is empty, nothing read) timed
// within `seconds` before its newest reading there, in sequence order. The newest time comes from
// the stream's tail: readings arrive roughly in time order, so the tail of a few thousand holds
// the newest of every device still reporting. For what a live model rebuilds from, or the recent
// load of each device.
NEMESYST_EXPORT Result<std::vector<Record>> ReadRecentRecords(const Store& store,
                                                              std::string_view stream,
                                                              uint64_t through, double seconds);

}  // namespace nemesyst

#endif  // NEMESYST_PIPELINE_H_
