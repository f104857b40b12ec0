// Streaming inference: per-device recurrent state, advanced one reading at a time and batched
// across the devices of a tick. States of all devices live in one StackState whose row `slot` is
// that device's; a tick over slots 0..n−1 (every device, in order: the common case) steps those
// rows in place, any other set of slots is gathered into a scratch state and scattered back.
#include <algorithm>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "kernels/model_impl.h"

namespace nemesyst::kernels {
namespace {

// Transparent hashing: Advance looks every device up on every tick, and with a plain std::string
// key each lookup copied the id first (an allocation for ids longer than the small-string buffer).
struct DeviceIdHash {
  using is_transparent = void;
  size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
};

class RegressorStreamingPredictor final : public StreamingPredictor {
 public:
  explicit RegressorStreamingPredictor(std::unique_ptr<RegressorNet> net) : net_(std::move(net)) {
    state_ = net_->stack().ZeroState(0);
    scratch_ = net_->stack().ZeroState(0);
  }

  int Slot(std::string_view device_id) override {
    auto it = slots_.find(device_id);
    if (it != slots_.end()) return it->second;
    const int slot = count_++;
    slots_.emplace(std::string(device_id), slot);
    const auto& hidden = net_->stack().config().hidden;
    for (size_t l = 0; l < hidden.size(); ++l) {
      state_.h[l].resize(static_cast<size_t>(count_) * hidden[l], 0.0f);
      if (!state_.c.empty()) state_.c[l].resize(static_cast<size_t>(count_) * hidden[l], 0.0f);
    }
    seen_.resize(count_, 0);
    return slot;
  }

  Status Advance(const std::vector<std::string>& devices, const float* readings,
                 float* out) override {
    slot_list_.resize(devices.size());
    for (size_t i = 0; i < devices.size(); ++i) slot_list_[i] = Slot(devices[i]);
    return AdvanceSlots(slot_list_, readings, out);
  }

  Status AdvanceSlots(const std::vector<int>& slots, const float* readings, float* out) override {
    const int n = static_cast<int>(slots.size());
    if (n == 0) return Status::OK();
    if (!readings || !out) return Status::InvalidArgument("streaming: null readings or output");
    bool prefix = true;
    Status bad;
    for (int i = 0; i < n; ++i) {
      const int s = slots[i];
      if (s < 0 || s >= count_) {
        bad = Status::InvalidArgument("streaming: unknown slot " + std::to_string(s));
        break;
      }
      if (seen_[s]) {
        bad = Status::InvalidArgument("streaming: slot " + std::to_string(s) +
                                      " appears twice in one tick");
        break;
      }
      seen_[s] = 1;
      prefix = prefix && s == i;
    }
    for (int i = 0; i < n; ++i) {
      if (slots[i] >= 0 && slots[i] < count_) seen_[slots[i]] = 0;
    }
    if (!bad.ok()) return bad;

    const auto& hidden = net_->stack().config().hidden;
    const bool lstm = !state_.c.empty();
    StackState* state = &state_;
    if (!prefix) {
      for (size_t l = 0; l < hidden.size(); ++l) {
        const size_t h = hidden[l];
        scratch_.h[l].resize(n * h);
        if (lstm) scratch_.c[l].resize(n * h);
        for (int i = 0; i < n; ++i) {
          std::copy_n(state_.h[l].begin() + slots[i] * h, h, scratch_.h[l].begin() + i * h);
          if (lstm)
            std::copy_n(state_.c[l].begin() + slots[i] * h, h, scratch_.c[l].begin() + i * h);
        }
      }
      state = &scratch_;
    }
    NEMESYST_RETURN_IF_ERROR(net_->stack().Step(n, readings, state));
    if (!prefix) {
      for (size_t l = 0; l < hidden.size(); ++l) {
        const size_t h = hidden[l];
        for (int i = 0; i < n; ++i) {
          std::copy_n(scratch_.h[l].begin() + i * h, h, state_.h[l].begin() + slots[i] * h);
          if (lstm)
            std::copy_n(scratch_.c[l].begin() + i * h, h, state_.c[l].begin() + slots[i] * h);
        }
      }
    }
    return net_->head().Forward(n, state->h.back().data(), out);
  }

  Status Reset(std::string_view device_id) override {
    auto it = slots_.find(device_id);
    if (it == slots_.end())
      return Status::NotFound("streaming: unknown device " + std::string(device_id));
    const auto& hidden = net_->stack().config().hidden;
    for (size_t l = 0; l < hidden.size(); ++l) {
      std::fill_n(state_.h[l].begin() + it->second * hidden[l], hidden[l], 0.0f);
      if (!state_.c.empty())
        std::fill_n(state_.c[l].begin() + it->second * hidden[l], hidden[l], 0.0f);
    }
    return Status::OK();
  }

  void ResetAll() override {
    for (auto& h : state_.h) std::fill(h.begin(), h.end(), 0.0f);
    for (auto& c : state_.c) std::fill(c.begin(), c.end(), 0.0f);
  }

  int device_count() const override { return count_; }
  int features() const override { return net_->spec().features; }
  int output_width() const override { return net_->spec().output_width; }

 private:
  std::unique_ptr<RegressorNet> net_;
  std::unordered_map<std::string, int, DeviceIdHash, std::equal_to<>> slots_;
  int count_ = 0;
  StackState state_;    // row `slot` of each [count][H] array is that device's
  StackState scratch_;  // gathered rows for ticks over a subset of devices
  std::vector<uint8_t> seen_;
  std::vector<int> slot_list_;
};

}  // namespace

Result<std::unique_ptr<StreamingPredictor>> NewRegressorStreamingPredictor(
    const RegressorNet& net, const ModelOptions& options) {
  NEMESYST_ASSIGN_OR_RETURN(auto copy,
                            RegressorNet::Create(net.spec(), options.backend, options.kernel));
  copy->params().values() = net.params().values();
  NEMESYST_RETURN_IF_ERROR(copy->SyncWeights());
  return std::unique_ptr<StreamingPredictor>(new RegressorStreamingPredictor(std::move(copy)));
}

}  // namespace nemesyst::kernels
