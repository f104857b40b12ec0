#include "jobs/group_values.h"

#include <algorithm>

#include "nemesyst/lower_bound.h"

namespace nemesyst::jobs {

GroupValues::GroupValues(const std::vector<Record>& records, int field_index) {
  if (field_index < 0) return;
  const auto index = static_cast<size_t>(field_index);
  for (const Record& r : records) {
    if (index < r.values.size())
      by_device_[r.device_id].emplace_back(r.timestamp_us, r.values[index]);
  }
  for (auto& [device, values] : by_device_) {
    std::stable_sort(values.begin(), values.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  }
}

std::string GroupValues::At(const std::string& device, int64_t end_us) const {
  auto it = by_device_.find(device);
  if (it == by_device_.end()) return "";
  const auto& values = it->second;
  auto after = std::upper_bound(values.begin(), values.end(), end_us,
                                [](int64_t t, const auto& v) { return t < v.first; });
  if (after == values.begin()) return "";
  return LowerBoundGroupValue(std::prev(after)->second);
}

}  // namespace nemesyst::jobs
