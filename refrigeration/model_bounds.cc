#include "nemesyst/refrigeration/model_bounds.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <map>

#include "nemesyst/refrigeration/fleet.h"

namespace nemesyst::refrigeration {

Result<LowerBoundSource> ModelLowerBounds(LoadedModel& model, const FleetSimulator& simulator,
                                          size_t max_readings) {
  if (!model.lower) {
    return Status::FailedPrecondition("model " + model.ref +
                                      " carries no calibrated lower bound (train it with one: "
                                      "docs/calibration.md)");
  }
  LoadedModel* m = &model;
  const FleetSimulator* sim = &simulator;
  return LowerBoundSource([m, sim, max_readings](
                              const std::vector<const CaseInfo*>& cases,
                              const std::vector<const std::deque<SimSample>*>& readings,
                              int64_t now_us) -> Result<std::vector<double>> {
    std::vector<Record> records;
    for (const std::deque<SimSample>* r : readings) {
      // The featurizer needs only the model's window (and a reading before it for derived
      // fields such as rates).
      const size_t keep = std::min(max_readings, static_cast<size_t>(m->pipeline->steps()) + 2);
      const size_t skip = r->size() > keep ? r->size() - keep : 0;
      for (auto it = r->begin() + static_cast<std::ptrdiff_t>(skip); it != r->end(); ++it) {
        records.emplace_back();
        SampleToRecord(*sim, *it, &records.back());
      }
    }
    NEMESYST_ASSIGN_OR_RETURN(std::vector<PredictionRow> rows,
                              PredictAt(*m, std::move(records), now_us));
    std::map<std::string, double> by_device;
    for (const PredictionRow& row : rows) {
      by_device[row.device] = row.lower_s.value_or(std::numeric_limits<double>::quiet_NaN());
    }
    std::vector<double> out;
    out.reserve(cases.size());
    for (const CaseInfo* c : cases) {
      auto it = by_device.find(c->device);
      out.push_back(it == by_device.end() ? std::numeric_limits<double>::quiet_NaN() : it->second);
    }
    return out;
  });
}

}  // namespace nemesyst::refrigeration
