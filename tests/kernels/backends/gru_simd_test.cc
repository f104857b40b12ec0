// The SIMD backends' GRU cells (avx2, avx512) where recurrent_backends_test.cc does not reach:
// fp16 weights (inference only), on shapes that take the fp32 copy of the rounded panels and one
// (hidden 384) whose fp16 panels are streamed (StreamF16), by rows and by hidden blocks; and a
// Step / Forward agreement after SetWeights is called again (the GRU panels and backward weights
// are repacked).
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/kernels/backends/backend_test_util.h"

namespace nemesyst::kernels::testing {
namespace {

struct GruWeights {
  std::vector<float> w_ih, w_hh, bias;
  RecurrentWeights view() const { return {w_ih.data(), w_hh.data(), bias.data()}; }
};

GruWeights MakeWeights(const RecurrentShape& s, uint32_t seed, float scale) {
  const size_t gh = size_t(GateCount(s.cell)) * s.hidden;
  return {RandomVector(gh * s.input, seed, -scale, scale),
          RandomVector(gh * s.hidden, seed + 1, -scale, scale),
          RandomVector(size_t(BiasRows(s.cell)) * s.hidden, seed + 2)};
}

struct GruParam {
  Backend backend;
  CellKind cell;
};

class GruSimdTest : public ::testing::TestWithParam<GruParam> {};

// As RecurrentFp16Test: equal to ref's fp16 rounding within the forward bound (1e-5), within
// 1e-3 absolute of the fp32 result, and ForwardTrain refused.
TEST_P(GruSimdTest, Fp16WeightsMatchRef) {
  const auto [backend, cell] = GetParam();
  for (const int hidden : {7, 33, 64, 384}) {
    const RecurrentShape shape{cell, 8, hidden};
    for (const auto& [batch, threads] : {std::pair{1, 1}, std::pair{3, 1}, std::pair{1, 2}}) {
      SCOPED_TRACE("hidden " + std::to_string(hidden) + ", batch " + std::to_string(batch) +
                   ", threads " + std::to_string(threads));
      NEMESYST_CREATE_OR_SKIP(kernel, CreateRecurrent(backend, shape, {threads, true}));
      auto ref16 = CreateRefRecurrentKernel(shape, {1, true}).value();
      auto ref32 = CreateRefRecurrentKernel(shape, {}).value();
      // Weights at about the usual 1/sqrt(H) initialisation scale for the large shape.
      const GruWeights w = MakeWeights(shape, 5, hidden > 64 ? 0.05f : 0.5f);
      ASSERT_TRUE(kernel->SetWeights(w.view()).ok());
      ASSERT_TRUE(ref16->SetWeights(w.view()).ok());
      ASSERT_TRUE(ref32->SetWeights(w.view()).ok());
      const int seq = 6;
      const auto x = RandomVector(size_t(seq) * batch * shape.input, 6);
      const auto h0 = RandomVector(size_t(batch) * hidden, 7);
      const size_t ys = size_t(seq) * batch * hidden;
      std::vector<float> y(ys), y16(ys), y32(ys);
      ASSERT_TRUE(
          kernel->Forward(seq, batch, x.data(), h0.data(), nullptr, y.data(), nullptr, nullptr)
              .ok());
      ASSERT_TRUE(
          ref16->Forward(seq, batch, x.data(), h0.data(), nullptr, y16.data(), nullptr, nullptr)
              .ok());
      ASSERT_TRUE(
          ref32->Forward(seq, batch, x.data(), h0.data(), nullptr, y32.data(), nullptr, nullptr)
              .ok());
      EXPECT_LE(RelativeError(y, y16), 1e-5);
      EXPECT_LE(MaxAbsDiff(y, y32), 1e-3);
      // Step streams the same panels.
      std::vector<float> h = h0;
      for (int t = 0; t < seq; ++t) {
        ASSERT_TRUE(
            kernel->Step(batch, x.data() + size_t(t) * batch * shape.input, h.data(), nullptr)
                .ok());
      }
      const std::vector<float> y_last(y16.end() - size_t(batch) * hidden, y16.end());
      EXPECT_LE(RelativeError(h, y_last), 1e-5);
      RecurrentTape tape;
      EXPECT_FALSE(kernel
                       ->ForwardTrain(seq, batch, x.data(), nullptr, nullptr, y.data(), nullptr,
                                      nullptr, &tape)
                       .ok());
    }
  }
}

// Training repacks after every update: a second SetWeights (new values) must be what Forward
// and Backward use, including the backward weights built on the first Backward.
TEST_P(GruSimdTest, SetWeightsAgainIsUsed) {
  const auto [backend, cell] = GetParam();
  const RecurrentShape shape{cell, 5, 19};
  const int seq = 3, batch = 4;
  NEMESYST_CREATE_OR_SKIP(kernel, CreateRecurrent(backend, shape, {2, false}));
  auto ref = CreateRefRecurrentKernel(shape, {}).value();
  const auto x = RandomVector(size_t(seq) * batch * shape.input, 8);
  const size_t state = size_t(batch) * shape.hidden;
  const auto dh_n = RandomVector(state, 9);
  for (uint32_t seed : {40u, 50u}) {
    SCOPED_TRACE("weights seed " + std::to_string(seed));
    const GruWeights w = MakeWeights(shape, seed, 0.5f);
    ASSERT_TRUE(kernel->SetWeights(w.view()).ok());
    ASSERT_TRUE(ref->SetWeights(w.view()).ok());
    std::vector<float> hn(state), rhn(state), dx(x.size()), rdx(x.size());
    std::vector<float> dw_ih(w.w_ih.size()), dw_hh(w.w_hh.size()), db(w.bias.size());
    std::vector<float> rdw_ih(w.w_ih.size()), rdw_hh(w.w_hh.size()), rdb(w.bias.size());
    RecurrentTape tape, rtape;
    ASSERT_TRUE(kernel
                    ->ForwardTrain(seq, batch, x.data(), nullptr, nullptr, nullptr, hn.data(),
                                   nullptr, &tape)
                    .ok());
    ASSERT_TRUE(ref->ForwardTrain(seq, batch, x.data(), nullptr, nullptr, nullptr, rhn.data(),
                                  nullptr, &rtape)
                    .ok());
    EXPECT_LE(RelativeError(hn, rhn), 1e-5);
    ASSERT_TRUE(kernel
                    ->Backward(seq, batch, x.data(), nullptr, nullptr, tape, nullptr, dh_n.data(),
                               nullptr, dx.data(), nullptr, nullptr,
                               {dw_ih.data(), dw_hh.data(), db.data()})
                    .ok());
    ASSERT_TRUE(ref->Backward(seq, batch, x.data(), nullptr, nullptr, rtape, nullptr, dh_n.data(),
                              nullptr, rdx.data(), nullptr, nullptr,
                              {rdw_ih.data(), rdw_hh.data(), rdb.data()})
                    .ok());
    EXPECT_LE(RelativeError(dx, rdx), 1e-4) << "dx";
    EXPECT_LE(RelativeError(dw_ih, rdw_ih), 1e-4) << "dW_ih";
    EXPECT_LE(RelativeError(dw_hh, rdw_hh), 1e-4) << "dW_hh";
    EXPECT_LE(RelativeError(db, rdb), 1e-4) << "dbias";
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, GruSimdTest,
                         ::testing::Values(GruParam{Backend::kAvx2, CellKind::kGru},
                                           GruParam{Backend::kAvx2, CellKind::kGruClassic},
                                           GruParam{Backend::kAvx512, CellKind::kGru},
                                           GruParam{Backend::kAvx512, CellKind::kGruClassic}),
                         [](const auto& info) {
                           return std::string(BackendName(info.param.backend)) + "_" +
                                  CellName(info.param.cell);
                         });

}  // namespace
}  // namespace nemesyst::kernels::testing
