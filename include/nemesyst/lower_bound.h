// Calibrated lower bounds of the predicted safe off-time.
//
// A regressor's point prediction over-predicts about half the time; dispatch needs a value the
// truth stays above with a chosen probability. The train job fits, on the validation stores'
// windows (held out by store), a split-conformal margin per group (Mondrian conformal: one margin
// per value of a group field such as the case type):
//
//   score_i  = predicted_i − truth_i                      (over-prediction; may be negative)
//   margin_g = the k-th smallest score of group g, k = ⌈(n_g + 1)(1 − α)⌉
//   lower_s  = clamp(prediction − margin_g, 0, kMaxPredictionS)
//
// If validation and future windows are exchangeable (stores drawn from the same fleet), the truth
// falls below lower_s with probability at most α, and at least α − 1/(n_g + 1) (no ties): the
// finite-sample guarantee of split conformal prediction. The exchangeable units are stores (windows
// of one store and case are correlated), so the guarantee is in expectation over store draws and
// the realised rate on given stores spreads with how few there are: calibrate on tens of stores
// over whole days (docs/calibration.md has the measurements). A group whose n_g is too small for
// its quantile (k > n_g, i.e. n_g < (1 − α)/α) uses the pooled margin over every group
// (`pooled_fallback`); a value never seen in validation also gets the pooled margin.
//
// The same margin corrects a model trained with the pinball loss at τ = α (then the prediction is
// already a lower quantile and the margin is a small correction: "conformalised quantile
// regression"). docs/calibration.md has the comparison on the simulated fleet.
//
// Where it is kept: the model file's metadata key "lower_bound" (LowerBoundToJson: a model file
// alone predicts lower_s) and the registry metadata (AddLowerBoundMetadata: metrics "lower_risk",
// "lower_margin_s", "lower_n", "lower_margin_s:<group>", "lower_n:<group>",
// "lower_fallback:<group>"; hyper-parameter "lower_group_field"), so it replicates and exports
// with the version.
//
// Thread-safety: pure functions. Like predictions.h, for in-tree and static-library users (not
// in the shared library's exported list).
#ifndef NEMESYST_LOWER_BOUND_H_
#define NEMESYST_LOWER_BOUND_H_

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/status.h"
#include "nemesyst/store_types.h"

namespace nemesyst {

struct LowerBoundMargin {
  double margin_s = 0;           // subtracted from the prediction
  size_t n = 0;                  // validation windows it was fitted on
  bool pooled_fallback = false;  // n too small for the quantile: this is the pooled margin
};

struct LowerBoundCalibration {
  double risk = 0.05;       // α: the truth is below lower_s in at most this fraction of windows
  std::string group_field;  // input field whose value (at the window's last reading) is the group;
                            // empty: one pooled group
  LowerBoundMargin pooled;  // over every validation window
  std::map<std::string, LowerBoundMargin> groups;  // by LowerBoundGroupValue(value)
};

// The finite-sample conformal quantile: the ⌈(n + 1)(1 − risk)⌉-th smallest score (1-based).
// FailedPrecondition when that index exceeds n (too few scores for this risk); InvalidArgument
// for risk outside (0, 1) or a non-finite score.
Result<double> ConformalQuantile(std::vector<double> scores, double risk);

// Fits the margins from validation predictions and truths (seconds) and each window's group
// value (`group` empty, or one per window). FailedPrecondition when even the pooled set is too
// small for the quantile; InvalidArgument for mismatched lengths or a bad risk.
Result<LowerBoundCalibration> FitLowerBound(const std::vector<double>& predicted_s,
                                            const std::vector<double>& truth_s,
                                            const std::vector<std::string>& group, double risk,
                                            std::string group_field);

// The group's margin (the pooled one for an unseen group or an empty `group`).
const LowerBoundMargin& LowerBoundMarginFor(const LowerBoundCalibration& c, std::string_view group);

// clamp(prediction_s − margin, 0, kMaxPredictionS).
double LowerBound(const LowerBoundCalibration& c, double prediction_s, std::string_view group);

// The text of a group field's value: integral values without a fraction ("2"), others in
// shortest round-trip form ("0.25").
std::string LowerBoundGroupValue(double value);

// The model file's form (metadata key kLowerBoundFileKey), and back. Errors name the key.
inline constexpr const char* kLowerBoundFileKey = "lower_bound";
std::string LowerBoundToJson(const LowerBoundCalibration& c);
Result<LowerBoundCalibration> ParseLowerBound(std::string_view json);

// The registry form (keys at the top of this file), and back: nullopt when the version has no
// calibration ("lower_risk" absent).
void AddLowerBoundMetadata(const LowerBoundCalibration& c, ModelMetadata* meta);
Result<std::optional<LowerBoundCalibration>> LowerBoundFromMetadata(const ModelMetadata& meta);

}  // namespace nemesyst

#endif  // NEMESYST_LOWER_BOUND_H_
