// Helpers for the backend-vs-ref tests: deterministic random tensors, the error metric, and
// creating a backend or skipping (only) when it is genuinely unavailable here.
#ifndef NEMESYST_TESTS_KERNELS_BACKENDS_BACKEND_TEST_UTIL_H_
#define NEMESYST_TESTS_KERNELS_BACKENDS_BACKEND_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/dense_kernel.h"
#include "kernels/dispatch.h"
#include "kernels/recurrent_kernel.h"

namespace nemesyst::kernels::testing {

inline std::vector<float> RandomVector(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// The metric every backend test states: max-norm relative error,
//   max_i |got_i - want_i| / max_i |want_i|   (0 when both are all zero).
inline double RelativeError(const std::vector<float>& got, const std::vector<float>& want) {
  EXPECT_EQ(got.size(), want.size());
  double diff = 0.0, scale = 0.0;
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    diff = std::max(diff, std::abs(double(got[i]) - double(want[i])));
    scale = std::max(scale, std::abs(double(want[i])));
  }
  return scale == 0.0 ? diff : diff / scale;
}

inline double MaxAbsDiff(const std::vector<float>& got, const std::vector<float>& want) {
  double diff = 0.0;
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    diff = std::max(diff, std::abs(double(got[i]) - double(want[i])));
  }
  return diff;
}

inline Result<std::unique_ptr<RecurrentKernel>> CreateRecurrent(Backend backend,
                                                                const RecurrentShape& shape,
                                                                const KernelOptions& options) {
  switch (backend) {
    case Backend::kAvx512:
      return CreateAvx512RecurrentKernel(shape, options);
    case Backend::kAvx2:
      return CreateAvx2RecurrentKernel(shape, options);
    case Backend::kOnednn:
      return CreateOnednnRecurrentKernel(shape, options);
    default:
      return CreateRefRecurrentKernel(shape, options);
  }
}

inline Result<std::unique_ptr<DenseKernel>> CreateDense(Backend backend, const DenseShape& shape,
                                                        const KernelOptions& options) {
  switch (backend) {
    case Backend::kAvx512:
      return CreateAvx512DenseKernel(shape, options);
    case Backend::kAvx2:
      return CreateAvx2DenseKernel(shape, options);
    case Backend::kOnednn:
      return CreateOnednnDenseKernel(shape, options);
    default:
      return CreateRefDenseKernel(shape, options);
  }
}

// Unimplemented means "not usable on this CPU / in this build": the caller GTEST_SKIPs with the
// message. Anything else is a failure.
#define NEMESYST_CREATE_OR_SKIP(lhs, expr)                                      \
  auto lhs##_result = (expr);                                                   \
  if (!lhs##_result.ok() &&                                                     \
      lhs##_result.status().code() == ::nemesyst::StatusCode::kUnimplemented) { \
    GTEST_SKIP() << lhs##_result.status().ToString();                           \
  }                                                                             \
  ASSERT_TRUE(lhs##_result.ok()) << lhs##_result.status().ToString();           \
  auto lhs = std::move(lhs##_result.value())

}  // namespace nemesyst::kernels::testing

#endif  // NEMESYST_TESTS_KERNELS_BACKENDS_BACKEND_TEST_UTIL_H_
