// The group of a window for its calibrated lower bound (nemesyst/lower_bound.h): the value of one
// input field at the window's last reading, looked up by (device, window end). A window's end may
// be a row a fill inserted: the value is then the latest reading's at or before it, the value the
// fill carried forward.
#ifndef NEMESYST_JOBS_GROUP_VALUES_H_
#define NEMESYST_JOBS_GROUP_VALUES_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nemesyst/store_types.h"

namespace nemesyst::jobs {

class GroupValues {
 public:
  GroupValues() = default;  // no field: every window's group is "" (pooled)
  // `field_index` into each record's values (< 0: no field). Keeps 16 bytes per record.
  GroupValues(const std::vector<Record>& records, int field_index);

  // LowerBoundGroupValue of the field at `device`'s latest reading at or before `end_us`; "" when
  // there is no field or no such reading.
  std::string At(const std::string& device, int64_t end_us) const;

 private:
  std::map<std::string, std::vector<std::pair<int64_t, double>>> by_device_;  // sorted by time
};

}  // namespace nemesyst::jobs

#endif  // NEMESYST_JOBS_GROUP_VALUES_H_
