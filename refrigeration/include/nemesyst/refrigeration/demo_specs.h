// The specs the demo trains with (and tests reuse): the pipeline over the simulator's stream and
// the three model specs. Written out to <demo.dir>/specs/ so each step can be rerun by hand with
// `nemesyst train --pipeline ... --model ...`.
#ifndef NEMESYST_REFRIGERATION_DEMO_SPECS_H_
#define NEMESYST_REFRIGERATION_DEMO_SPECS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "nemesyst/status.h"

namespace nemesyst::refrigeration {

struct DemoPipelineOptions {
  std::string stream = "fleet";
  int window_length = 20;  // minutes of history per window
  int window_stride = 10;  // a window every 10 minutes per case
  // Store split. The seed is chosen by ChooseStoreSplitSeed so that the buckets get exactly the
  // wanted numbers of stores.
  double train = 0.75, validation = 0.125, test = 0.125;
  uint64_t split_seed = 0;
};

// Pipeline TOML: fill short gaps, derive the air-on warming rate and time since defrost,
// z-score every feature and the label, windows of `window_length` readings, label safe_off_s at
// the window's last reading, split by store.
std::string DemoPipelineToml(const DemoPipelineOptions& options);
// Features per step of that pipeline (the simulator's fields minus the label, plus 2 derived).
inline constexpr int kDemoFeatures = 10;

// Regressor spec: "lstm" or "rnn" stack of `hidden` units and a small dense head.
std::string DemoRegressorSpec(const std::string& cell, int steps, int hidden);
// Conditional GAN (condition = the normalised label), LSTM generator and discriminator.
std::string DemoGanSpec(int steps, int hidden, int noise);

// The smallest seed in [0, 100000) whose store split puts exactly train/validation/test stores in
// each bucket, for the store names "store-0000" .. (the simulator's naming). NotFound if none.
Result<uint64_t> ChooseStoreSplitSeed(const DemoPipelineOptions& options, int stores,
                                      int want_train, int want_validation, int want_test);

// The stores ("store-0003") in `bucket` (0 train, 1 validation, 2 test) under the options.
std::vector<std::string> StoresInSplit(const DemoPipelineOptions& options, int stores, int bucket);

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_DEMO_SPECS_H_
