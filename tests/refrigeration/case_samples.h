// Every sample one simulated case delivers, in order: the whole feed a test checks against.
#ifndef NEMESYST_TESTS_REFRIGERATION_CASE_SAMPLES_H_
#define NEMESYST_TESTS_REFRIGERATION_CASE_SAMPLES_H_

#include <gtest/gtest.h>

#include <vector>

#include "nemesyst/refrigeration/simulator.h"

namespace nemesyst::testing {

inline std::vector<refrigeration::SimSample> Collect(const refrigeration::FleetSimulator& sim,
                                                     int case_index) {
  std::vector<refrigeration::SimSample> out;
  Status status = sim.GenerateCase(case_index, [&](const refrigeration::SimSample* s, size_t n) {
    out.insert(out.end(), s, s + n);
    return Status::OK();
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  return out;
}

}  // namespace nemesyst::testing

#endif  // NEMESYST_TESTS_REFRIGERATION_CASE_SAMPLES_H_
