// Deterministic uniform [-1, 1) test inputs for the model tests (kernels/random.h's generator, so
// a seed gives the same values on every machine).
#ifndef NEMESYST_TESTS_KERNELS_RANDOM_FLOATS_H_
#define NEMESYST_TESTS_KERNELS_RANDOM_FLOATS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/random.h"

namespace nemesyst::kernels::testing {

inline std::vector<float> RandomFloats(uint64_t seed, size_t n) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.Uniform(-1, 1));
  return v;
}

}  // namespace nemesyst::kernels::testing

#endif  // NEMESYST_TESTS_KERNELS_RANDOM_FLOATS_H_
