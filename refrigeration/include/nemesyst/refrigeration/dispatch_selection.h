// Choosing which cases to switch off for a demand-response request "shed P kW for D minutes".
//
// A case is eligible when its predicted safe off-time minus the safety margin covers the whole
// event: predicted_safe_off_s − margin_s ≥ duration_s, and switching it off sheds power
// (power_kw > 0). Eligible cases are taken in order of slack per kW, most first
// (slack = predicted_safe_off_s − margin_s − duration_s; ties by device id, so the plan is
// deterministic), until the selected power reaches the request. A request the eligible cases
// cannot cover yields a plan with met == false that still lists everything eligible.
//
// Thread-safety: pure function.
#ifndef NEMESYST_REFRIGERATION_DISPATCH_SELECTION_H_
#define NEMESYST_REFRIGERATION_DISPATCH_SELECTION_H_

#include <string>
#include <vector>

#include "nemesyst/status.h"

namespace nemesyst::refrigeration {

struct DispatchRequest {
  double shed_kw = 0;     // power to shed, kW (> 0)
  double duration_s = 0;  // how long to hold the cut, seconds (> 0)
  double margin_s = 300;  // safety margin subtracted from every prediction, seconds (≥ 0)
};

struct DispatchCandidate {
  std::string device;  // "store-0003/case-07"
  double predicted_safe_off_s = 0;
  double power_kw = 0;  // what switching the case off sheds now
};

struct DispatchChoice {
  std::string device;
  double predicted_safe_off_s = 0;
  double power_kw = 0;
  double slack_s = 0;  // predicted − margin − duration
};

struct DispatchPlan {
  DispatchRequest request;
  std::vector<DispatchChoice> chosen;  // in selection order
  double requested_kw = 0;
  double selected_kw = 0;
  size_t eligible = 0;  // candidates that could have been chosen
  bool met = false;     // selected_kw ≥ requested_kw
};

// Errors: a non-positive shed or duration, a negative margin, a non-finite prediction or power,
// duplicate devices.
Result<DispatchPlan> SelectCasesToShed(const DispatchRequest& request,
                                       const std::vector<DispatchCandidate>& candidates);

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_DISPATCH_SELECTION_H_
