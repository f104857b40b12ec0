// Every optimised dense backend (avx2, avx512, onednn) against `ref`.
// Metric: max-norm relative error (RelativeError) per tensor; 1e-5 for y, 1e-4 for dx, dW, db
// (dW and db compared as the increment added to pre-filled buffers).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/kernels/backends/backend_test_util.h"

namespace nemesyst::kernels::testing {
namespace {

struct DenseCase {
  int input, output, batch, threads;
};
struct DenseParam {
  Backend backend;
  DenseCase c;
};

class DenseBackendTest : public ::testing::TestWithParam<DenseParam> {};

TEST_P(DenseBackendTest, ForwardAndBackwardMatchRef) {
  const DenseCase& c = GetParam().c;
  const DenseShape shape{c.input, c.output};
  NEMESYST_CREATE_OR_SKIP(kernel, CreateDense(GetParam().backend, shape, {c.threads, false}));
  auto ref = CreateRefDenseKernel(shape, {}).value();
  const auto w = RandomVector(size_t(c.output) * c.input, 1);
  const auto b = RandomVector(c.output, 2);
  const auto x = RandomVector(size_t(c.batch) * c.input, 3);
  ASSERT_TRUE(kernel->SetWeights(w.data(), b.data()).ok());
  ASSERT_TRUE(ref->SetWeights(w.data(), b.data()).ok());

  std::vector<float> y(size_t(c.batch) * c.output), ry(y.size());
  ASSERT_TRUE(kernel->Forward(c.batch, x.data(), y.data()).ok());
  ASSERT_TRUE(ref->Forward(c.batch, x.data(), ry.data()).ok());
  EXPECT_LE(RelativeError(y, ry), 1e-5);

  const auto dy = RandomVector(y.size(), 4);
  std::vector<float> dx(x.size()), rdx(x.size());
  std::vector<float> dw = RandomVector(w.size(), 5), rdw = dw;
  std::vector<float> db = RandomVector(b.size(), 6), rdb = db;
  ASSERT_TRUE(kernel->Backward(c.batch, x.data(), dy.data(), dx.data(), dw.data(), db.data()).ok());
  ASSERT_TRUE(ref->Backward(c.batch, x.data(), dy.data(), rdx.data(), rdw.data(), rdb.data()).ok());
  const auto w0 = RandomVector(w.size(), 5), b0 = RandomVector(b.size(), 6);
  for (size_t i = 0; i < dw.size(); ++i) dw[i] -= w0[i], rdw[i] -= w0[i];
  for (size_t i = 0; i < db.size(); ++i) db[i] -= b0[i], rdb[i] -= b0[i];
  EXPECT_LE(RelativeError(dx, rdx), 1e-4) << "dx";
  EXPECT_LE(RelativeError(dw, rdw), 1e-4) << "dW";
  EXPECT_LE(RelativeError(db, rdb), 1e-4) << "db";
  // dx may be skipped.
  EXPECT_TRUE(kernel->Backward(c.batch, x.data(), dy.data(), nullptr, dw.data(), db.data()).ok());
}

std::vector<DenseParam> AllDenseParams() {
  const std::vector<DenseCase> cases = {{1, 1, 1, 1},    {7, 33, 3, 1},  {64, 1, 5, 1},
                                        {20, 17, 13, 1}, {33, 40, 7, 2}, {128, 64, 64, 2}};
  std::vector<DenseParam> params;
  for (Backend backend : {Backend::kAvx2, Backend::kAvx512, Backend::kOnednn}) {
    for (const DenseCase& c : cases) params.push_back({backend, c});
  }
  return params;
}

INSTANTIATE_TEST_SUITE_P(Backends, DenseBackendTest, ::testing::ValuesIn(AllDenseParams()),
                         [](const ::testing::TestParamInfo<DenseParam>& info) {
                           const DenseCase& c = info.param.c;
                           return std::string(BackendName(info.param.backend)) + "_i" +
                                  std::to_string(c.input) + "_o" + std::to_string(c.output) + "_b" +
                                  std::to_string(c.batch) + "_threads" + std::to_string(c.threads);
                         });

TEST(DenseBackendErrors, ErrorsAreValues) {
  for (Backend backend : {Backend::kAvx2, Backend::kAvx512, Backend::kOnednn}) {
    auto kernel = CreateDense(backend, {4, 3}, {});
    if (!kernel.ok()) continue;  // unavailable here: nothing to check
    std::vector<float> x(8), y(6);
    EXPECT_EQ((*kernel)->Forward(2, x.data(), y.data()).code(), StatusCode::kFailedPrecondition);
    EXPECT_FALSE((*kernel)->SetWeights(nullptr, nullptr).ok());
    EXPECT_FALSE(CreateDense(backend, {0, 3}, {}).ok());
  }
}

}  // namespace
}  // namespace nemesyst::kernels::testing
