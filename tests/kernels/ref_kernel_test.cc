// The float `ref` backend behind the kernel contract: agrees with the double oracle, honours the
// null-pointer conventions, Step == Forward(seq 1), refuses misuse; the dispatcher; fp16 rounding.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/dispatch.h"
#include "kernels/fp16.h"
#include "kernels/random.h"
#include "kernels/ref/ref_math.h"

namespace nemesyst::kernels {
namespace {

std::vector<float> RandomFloats(Rng& rng, size_t n, double scale) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.Uniform(-scale, scale));
  return v;
}

std::vector<double> ToDouble(const std::vector<float>& v) { return {v.begin(), v.end()}; }

struct Weights {
  std::vector<float> w_ih, w_hh, bias;
  RecurrentWeights View() const { return {w_ih.data(), w_hh.data(), bias.data()}; }
};

Weights RandomWeights(Rng& rng, const RecurrentShape& s) {
  const size_t gh = static_cast<size_t>(GateCount(s.cell)) * s.hidden;
  return {RandomFloats(rng, gh * s.input, 0.5), RandomFloats(rng, gh * s.hidden, 0.5),
          RandomFloats(rng, gh, 0.2)};
}

TEST(RefRecurrentKernelTest, FloatForwardMatchesDoubleOracle) {
  for (CellKind cell : {CellKind::kLstm, CellKind::kRnnTanh}) {
    const RecurrentShape shape{cell, 3, 7};
    const int seq = 5, batch = 3;
    Rng rng(1);
    Weights w = RandomWeights(rng, shape);
    auto x = RandomFloats(rng, seq * batch * 3, 1.0);
    auto h0 = RandomFloats(rng, batch * 7, 0.5), c0 = RandomFloats(rng, batch * 7, 0.5);
    auto kernel = CreateRecurrentKernel(shape, Backend::kRef, {});
    ASSERT_TRUE(kernel.ok()) << kernel.status().ToString();
    ASSERT_TRUE((*kernel)->SetWeights(w.View()).ok());
    std::vector<float> y(seq * batch * 7), hn(batch * 7), cn(batch * 7);
    ASSERT_TRUE(
        (*kernel)
            ->Forward(seq, batch, x.data(), h0.data(), c0.data(), y.data(), hn.data(), cn.data())
            .ok());

    auto dw_ih = ToDouble(w.w_ih), dw_hh = ToDouble(w.w_hh), db = ToDouble(w.bias);
    auto dx = ToDouble(x), dh0 = ToDouble(h0), dc0 = ToDouble(c0);
    std::vector<double> buffer(ref::TraceSize(cell, seq, batch, 7));
    auto trace = ref::TraceViews(cell, seq, batch, 7, buffer.data());
    ref::RecurrentForward<double>({cell, 3, 7, dw_ih.data(), dw_hh.data(), db.data()}, seq, batch,
                                  dx.data(), dh0.data(), dc0.data(), trace);
    for (size_t k = 0; k < y.size(); ++k) EXPECT_NEAR(y[k], trace.h[batch * 7 + k], 1e-6);
    for (size_t k = 0; k < hn.size(); ++k) EXPECT_EQ(hn[k], y[(seq - 1) * batch * 7 + k]);
    if (cell == CellKind::kLstm) {
      for (size_t k = 0; k < cn.size(); ++k) EXPECT_NEAR(cn[k], trace.c[seq * batch * 7 + k], 1e-6);
    }
  }
}

TEST(RefRecurrentKernelTest, NullInitialStateMeansZerosAndStepEqualsForward) {
  const RecurrentShape shape{CellKind::kLstm, 2, 5};
  const int seq = 4, batch = 3;
  Rng rng(2);
  Weights w = RandomWeights(rng, shape);
  auto x = RandomFloats(rng, seq * batch * 2, 1.0);
  auto kernel = CreateRefRecurrentKernel(shape, {});
  ASSERT_TRUE(kernel.ok());
  ASSERT_TRUE((*kernel)->SetWeights(w.View()).ok());
  std::vector<float> y(seq * batch * 5), hn(batch * 5), cn(batch * 5);
  ASSERT_TRUE((*kernel)
                  ->Forward(seq, batch, x.data(), nullptr, nullptr, y.data(), hn.data(), cn.data())
                  .ok());
  std::vector<float> zeros(batch * 5, 0.f), y2(y.size());
  ASSERT_TRUE(
      (*kernel)
          ->Forward(seq, batch, x.data(), zeros.data(), zeros.data(), y2.data(), nullptr, nullptr)
          .ok());
  EXPECT_EQ(y, y2);
  std::vector<float> h(batch * 5, 0.f), c(batch * 5, 0.f);
  for (int t = 0; t < seq; ++t) {
    ASSERT_TRUE((*kernel)->Step(batch, x.data() + t * batch * 2, h.data(), c.data()).ok());
    for (int k = 0; k < batch * 5; ++k) EXPECT_EQ(h[k], y[t * batch * 5 + k]) << t;
  }
  EXPECT_EQ(h, hn);
  EXPECT_EQ(c, cn);
}

TEST(RefRecurrentKernelTest, RefusesMisuse) {
  EXPECT_TRUE(CreateRefRecurrentKernel({CellKind::kLstm, 0, 4}, {}).status().IsInvalidArgument());
  auto kernel = CreateRefRecurrentKernel({CellKind::kRnnTanh, 2, 3}, {});
  ASSERT_TRUE(kernel.ok());
  std::vector<float> x(6), y(9);
  EXPECT_EQ((*kernel)->Forward(1, 3, x.data(), nullptr, nullptr, y.data(), nullptr, nullptr).code(),
            StatusCode::kFailedPrecondition);
  Rng rng(3);
  Weights w = RandomWeights(rng, (*kernel)->shape());
  ASSERT_TRUE((*kernel)->SetWeights(w.View()).ok());
  EXPECT_TRUE((*kernel)
                  ->Forward(0, 3, x.data(), nullptr, nullptr, y.data(), nullptr, nullptr)
                  .IsInvalidArgument());
  RecurrentTape tape;
  ASSERT_TRUE(
      (*kernel)
          ->ForwardTrain(1, 3, x.data(), nullptr, nullptr, y.data(), nullptr, nullptr, &tape)
          .ok());
  std::vector<float> g(9);
  EXPECT_TRUE((*kernel)
                  ->Backward(1, 2, x.data(), nullptr, nullptr, tape, y.data(), nullptr, nullptr,
                             nullptr, nullptr, nullptr, {g.data(), g.data(), g.data()})
                  .IsInvalidArgument());
}

TEST(DispatchTest, ForcedRefAndAutoBothWork) {
  const RecurrentShape shape{CellKind::kLstm, 4, 8};
  auto forced = CreateRecurrentKernel(shape, Backend::kRef, {});
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ((*forced)->backend(), Backend::kRef);
  auto automatic = CreateRecurrentKernel(shape, Backend::kAuto, {});
  ASSERT_TRUE(automatic.ok()) << automatic.status().ToString();
  auto dense = CreateDenseKernel({4, 2}, Backend::kAuto, {});
  ASSERT_TRUE(dense.ok());
  EXPECT_TRUE(
      CreateRecurrentKernel(shape, Backend::kAuto, {.threads = 0}).status().IsInvalidArgument());
  EXPECT_TRUE(CreateRecurrentKernel({CellKind::kLstm, 4, 0}, Backend::kAuto, {})
                  .status()
                  .IsInvalidArgument());
  if (!CpuSupportsAvx2Backend(false)) {
    EXPECT_EQ(CreateRecurrentKernel(shape, Backend::kAvx2, {}).status().code(),
              StatusCode::kUnimplemented);
  }
}

// avx512 is first in the auto order: chosen when this CPU and OS support it, and when they do
// not, forcing it is a clear Unimplemented (never a SIGILL) while auto falls back.
TEST(DispatchTest, Avx512IsPreferredWhenSupportedAndRefusedOtherwise) {
  const RecurrentShape shape{CellKind::kLstm, 4, 8};
  auto automatic = CreateRecurrentKernel(shape, Backend::kAuto, {});
  ASSERT_TRUE(automatic.ok()) << automatic.status().ToString();
  auto forced = CreateRecurrentKernel(shape, Backend::kAvx512, {});
  auto dense = CreateDenseKernel({4, 2}, Backend::kAvx512, {});
  if (CpuSupportsAvx512Backend(false)) {
    ASSERT_TRUE(forced.ok()) << forced.status().ToString();
    EXPECT_EQ((*forced)->backend(), Backend::kAvx512);
    EXPECT_EQ((*automatic)->backend(), Backend::kAvx512);
    ASSERT_TRUE(dense.ok()) << dense.status().ToString();
    EXPECT_EQ((*dense)->backend(), Backend::kAvx512);
  } else {
    EXPECT_EQ(forced.status().code(), StatusCode::kUnimplemented);
    EXPECT_NE(forced.status().message().find("AVX-512"), std::string::npos)
        << forced.status().ToString();
    EXPECT_EQ(dense.status().code(), StatusCode::kUnimplemented);
    EXPECT_NE((*automatic)->backend(), Backend::kAvx512);
  }
  EXPECT_TRUE(
      CreateRecurrentKernel(shape, Backend::kAvx512, {.threads = 0}).status().IsInvalidArgument());
}

TEST(DispatchTest, BackendNamesRoundTrip) {
  for (Backend b :
       {Backend::kAuto, Backend::kAvx512, Backend::kAvx2, Backend::kOnednn, Backend::kRef}) {
    auto parsed = ParseBackend(BackendName(b));
    ASSERT_TRUE(parsed.ok()) << BackendName(b);
    EXPECT_EQ(*parsed, b);
  }
  EXPECT_EQ(BackendName(Backend::kAvx512), "avx512");
  EXPECT_TRUE(ParseBackend("avx-512").status().IsInvalidArgument());
}

TEST(Fp16Test, RoundsToNearestEven) {
  EXPECT_EQ(RoundToHalf(1.0f), 1.0f);
  EXPECT_EQ(RoundToHalf(1.0f + 0x1p-11f), 1.0f);                // tie -> even (down)
  EXPECT_EQ(RoundToHalf(1.0f + 3 * 0x1p-11f), 1.0f + 0x1p-9f);  // tie -> even (up)
  EXPECT_EQ(RoundToHalf(-2.5f), -2.5f);
  EXPECT_EQ(RoundToHalf(65504.0f), 65504.0f);
  EXPECT_TRUE(std::isinf(RoundToHalf(65520.0f)));
  EXPECT_EQ(RoundToHalf(0x1p-24f), 0x1p-24f);  // smallest subnormal survives
  EXPECT_EQ(RoundToHalf(0x1p-26f), 0.0f);      // below half of it flushes to zero
  EXPECT_TRUE(std::isnan(RoundToHalf(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(-0.0f), 0x8000);
}

TEST(RefDenseKernelTest, ForwardAndBackwardMatchDoubleOracle) {
  Rng rng(4);
  auto w = RandomFloats(rng, 3 * 5, 1.0), b = RandomFloats(rng, 3, 1.0);
  auto x = RandomFloats(rng, 2 * 5, 1.0), dy = RandomFloats(rng, 2 * 3, 1.0);
  auto kernel = CreateDenseKernel({5, 3}, Backend::kRef, {});
  ASSERT_TRUE(kernel.ok());
  ASSERT_TRUE((*kernel)->SetWeights(w.data(), b.data()).ok());
  std::vector<float> y(6), dx(10), dw(15, 1.f), db(3, 1.f);  // gradients accumulate onto 1
  ASSERT_TRUE((*kernel)->Forward(2, x.data(), y.data()).ok());
  ASSERT_TRUE((*kernel)->Backward(2, x.data(), dy.data(), dx.data(), dw.data(), db.data()).ok());
  for (int r = 0; r < 2; ++r) {
    for (int o = 0; o < 3; ++o) {
      double expect = b[o];
      for (int i = 0; i < 5; ++i) expect += double(x[r * 5 + i]) * w[o * 5 + i];
      EXPECT_NEAR(y[r * 3 + o], expect, 1e-5);
    }
  }
  for (int o = 0; o < 3; ++o) EXPECT_NEAR(db[o], 1.0 + dy[o] + dy[3 + o], 1e-6);
  for (int o = 0; o < 3; ++o) {
    for (int i = 0; i < 5; ++i) {
      EXPECT_NEAR(dw[o * 5 + i], 1.0 + dy[o] * x[i] + dy[3 + o] * x[5 + i], 1e-5);
    }
  }
}

}  // namespace
}  // namespace nemesyst::kernels
