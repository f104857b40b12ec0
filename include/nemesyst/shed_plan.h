// Demand response: which devices to switch off for a request "shed P kW for D seconds", from each
// device's predicted safe off-time and what switching it off sheds now. Used by a store node
// answering a dispatch (docs/control.md) and by the case study's own dispatch.
//
// A device is eligible when its predicted safe off-time minus the safety margin covers the whole
// event: predicted_safe_off_s − margin_s ≥ duration_s, and switching it off sheds power
// (power_kw > 0). Eligible devices are taken in order of slack per kW, most first
// (slack = predicted_safe_off_s − margin_s − duration_s; ties by device id, so the plan is
// deterministic), until the selected power reaches the request. A request the eligible devices
// cannot cover yields a plan with met == false that still lists everything eligible.
//
// What switching a device off sheds is estimated from its recent readings (LoadEstimate): the
// mean power over the window minus the mean power while idle — the share that stays on whatever
// the controller does (fans, lights, heaters). Rows flagged `skip` (a defrost, say) are left out.
//
// Thread-safety: pure functions; a LoadEstimate is one caller's.
#ifndef NEMESYST_SHED_PLAN_H_
#define NEMESYST_SHED_PLAN_H_

#include <limits>
#include <string>
#include <vector>

#include "nemesyst/export.h"
#include "nemesyst/status.h"

namespace nemesyst {

struct ShedRequest {
  double shed_kw = 0;     // power to shed, kW (> 0)
  double duration_s = 0;  // how long to hold the cut, seconds (> 0)
  double margin_s = 300;  // safety margin subtracted from every prediction, seconds (≥ 0)
};

struct ShedCandidate {
  std::string device;  // "store-0003/case-07"
  double predicted_safe_off_s = 0;
  double power_kw = 0;  // what switching the device off sheds now
};

struct ShedChoice {
  std::string device;
  double predicted_safe_off_s = 0;
  double power_kw = 0;
  double slack_s = 0;  // predicted − margin − duration
};

struct ShedPlan {
  ShedRequest request;
  std::vector<ShedChoice> chosen;  // in selection order
  double requested_kw = 0;
  double selected_kw = 0;
  size_t eligible = 0;     // candidates that could have been chosen
  double eligible_kw = 0;  // their power: what this set of devices could shed at most
  bool met = false;        // selected_kw ≥ requested_kw
};

// Errors: a non-positive shed or duration, a negative margin, a non-finite prediction or power,
// duplicate devices.
NEMESYST_EXPORT Result<ShedPlan> PlanShed(const ShedRequest& request,
                                          const std::vector<ShedCandidate>& candidates);

// One device's sheddable load from its readings over a window (any order).
class NEMESYST_EXPORT LoadEstimate {
 public:
  // `idle`: the device was not drawing its switchable load at that reading (a compressor off).
  // Skipped readings (e.g. during a defrost) are not added at all.
  void Add(double power_kw, bool idle);
  // Mean power minus mean idle power (the lowest reading when no reading was idle), ≥ 0; 0 when
  // nothing was added.
  double SheddableKw() const;

 private:
  double sum_ = 0, idle_sum_ = 0, lowest_ = std::numeric_limits<double>::infinity();
  long n_ = 0, idle_n_ = 0;
};

}  // namespace nemesyst

#endif  // NEMESYST_SHED_PLAN_H_
