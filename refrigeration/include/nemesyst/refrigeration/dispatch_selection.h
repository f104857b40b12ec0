// Choosing which cases to switch off for a demand-response request "shed P kW for D minutes":
// the case study's names for the core's shed planning (nemesyst/shed_plan.h has the rule:
// eligible when predicted − margin ≥ duration, taken by slack per kW until the request is met).
#ifndef NEMESYST_REFRIGERATION_DISPATCH_SELECTION_H_
#define NEMESYST_REFRIGERATION_DISPATCH_SELECTION_H_

#include <vector>

#include "nemesyst/shed_plan.h"

namespace nemesyst::refrigeration {

using DispatchRequest = ShedRequest;
using DispatchCandidate = ShedCandidate;
using DispatchChoice = ShedChoice;
using DispatchPlan = ShedPlan;

inline Result<DispatchPlan> SelectCasesToShed(const DispatchRequest& request,
                                              const std::vector<DispatchCandidate>& candidates) {
  return PlanShed(request, candidates);
}

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_DISPATCH_SELECTION_H_
