// The float `ref` backend behind the kernel contract: agrees with the double oracle, honours the
// null-pointer conventions, Step == Forward(seq 1), refuses misuse; the dispatcher; fp16 rounding.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <tuple>
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
          RandomFloats(rng, static_cast<size_t>(BiasRows(s.cell)) * s.hidden, 0.2)};
}

constexpr CellKind kAllCells[] = {CellKind::kLstm, CellKind::kRnnTanh, CellKind::kGru,
                                  CellKind::kGruClassic};

double SigmoidD(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// A deliberately naive GRU, written from the equations in kernels/recurrent_kernel.h with
// scalar loops and no shared code with ref_math.h: the independent check of ref's GRU forward.
// Returns y [T][B][H].
std::vector<double> NaiveGru(CellKind cell, int input, int hidden, const std::vector<double>& w_ih,
                             const std::vector<double>& w_hh, const std::vector<double>& bias,
                             int seq, int batch, const std::vector<double>& x,
                             const std::vector<double>& h0) {
  const int H = hidden, I = input;
  std::vector<double> h = h0, y;
  auto dot_x = [&](int row, const double* xv) {
    double s = 0;
    for (int i = 0; i < I; ++i) s += w_ih[row * I + i] * xv[i];
    return s;
  };
  auto dot_h = [&](int row, const std::vector<double>& hv) {
    double s = 0;
    for (int k = 0; k < H; ++k) s += w_hh[row * H + k] * hv[k];
    return s;
  };
  for (int t = 0; t < seq; ++t) {
    std::vector<double> next(static_cast<size_t>(batch) * H);
    for (int b = 0; b < batch; ++b) {
      const double* xv = x.data() + (static_cast<size_t>(t) * batch + b) * I;
      const std::vector<double> hb(h.begin() + b * H, h.begin() + (b + 1) * H);
      std::vector<double> r(H), rh(H);
      for (int j = 0; j < H; ++j) {
        r[j] = SigmoidD(dot_x(j, xv) + dot_h(j, hb) + bias[j]);
        rh[j] = r[j] * hb[j];
      }
      for (int j = 0; j < H; ++j) {
        const double z = SigmoidD(dot_x(H + j, xv) + dot_h(H + j, hb) + bias[H + j]);
        const double n =
            cell == CellKind::kGru
                ? std::tanh(dot_x(2 * H + j, xv) + bias[2 * H + j] +
                            r[j] * (dot_h(2 * H + j, hb) + bias[3 * H + j]))
                : std::tanh(dot_x(2 * H + j, xv) + dot_h(2 * H + j, rh) + bias[2 * H + j]);
        next[b * H + j] = (1 - z) * n + z * hb[j];
      }
    }
    h = next;
    y.insert(y.end(), h.begin(), h.end());
  }
  return y;
}

TEST(RefRecurrentKernelTest, FloatForwardMatchesDoubleOracle) {
  for (CellKind cell : kAllCells) {
    SCOPED_TRACE(CellName(cell));
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
  for (CellKind cell : kAllCells) {
    SCOPED_TRACE(CellName(cell));
    const bool lstm = cell == CellKind::kLstm;
    const RecurrentShape shape{cell, 2, 5};
    const int seq = 4, batch = 3;
    Rng rng(2);
    Weights w = RandomWeights(rng, shape);
    auto x = RandomFloats(rng, seq * batch * 2, 1.0);
    auto kernel = CreateRefRecurrentKernel(shape, {});
    ASSERT_TRUE(kernel.ok()) << kernel.status().ToString();
    ASSERT_TRUE((*kernel)->SetWeights(w.View()).ok());
    std::vector<float> y(seq * batch * 5), hn(batch * 5), cn(batch * 5);
    ASSERT_TRUE(
        (*kernel)
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
      // c is ignored (and may be null) for every cell but LSTM.
      ASSERT_TRUE((*kernel)
                      ->Step(batch, x.data() + t * batch * 2, h.data(), lstm ? c.data() : nullptr)
                      .ok());
      for (int k = 0; k < batch * 5; ++k) EXPECT_EQ(h[k], y[t * batch * 5 + k]) << t;
    }
    EXPECT_EQ(h, hn);
    if (lstm) {
      EXPECT_EQ(c, cn);
    }
  }
}

// One step of a 1-input, 1-unit GRU with round numbers, against values computed by hand from the
// equations in kernels/recurrent_kernel.h (x = 1, h = 0.5):
//   r = σ(0.5 + 0.2·0.5 + 0.1) = σ(0.7),  z = σ(−0.3 + 0.4·0.5 − 0.2) = σ(−0.3)
//   kGru:    n = tanh(0.8 + 0.05 + r·(−0.6·0.5 + 0.4))   h' = (1−z)·n + z·0.5 = 0.628898574
//   classic: n = tanh(0.8 + (r·0.5)·(−0.6) + 0.05)        h' = 0.540993761
// The two cells differ only in where r applies, so this also pins the bias order (b_hn last).
TEST(RefRecurrentKernelTest, GruOneStepByHand) {
  const std::vector<float> w_ih = {0.5f, -0.3f, 0.8f}, w_hh = {0.2f, 0.4f, -0.6f};
  const std::vector<float> bias_gru = {0.1f, -0.2f, 0.05f, 0.4f},
                           bias_classic = {0.1f, -0.2f, 0.05f};
  const float x = 1.0f;
  for (const auto& [cell, bias, want] :
       {std::tuple{CellKind::kGru, bias_gru, 0.628898574},
        std::tuple{CellKind::kGruClassic, bias_classic, 0.540993761}}) {
    SCOPED_TRACE(CellName(cell));
    auto kernel = CreateRefRecurrentKernel({cell, 1, 1}, {});
    ASSERT_TRUE(kernel.ok()) << kernel.status().ToString();
    ASSERT_TRUE((*kernel)->SetWeights({w_ih.data(), w_hh.data(), bias.data()}).ok());
    float h0 = 0.5f, y = 0, hn = 0;
    ASSERT_TRUE((*kernel)->Forward(1, 1, &x, &h0, nullptr, &y, &hn, nullptr).ok());
    EXPECT_NEAR(y, want, 1e-6);
    EXPECT_EQ(hn, y);
    float h = 0.5f;
    ASSERT_TRUE((*kernel)->Step(1, &x, &h, nullptr).ok());
    EXPECT_EQ(h, y);
  }
}

// ref's GRU (double) against the naive loops above, over several steps and rows.
TEST(RefRecurrentKernelTest, GruMatchesNaiveImplementation) {
  for (CellKind cell : {CellKind::kGru, CellKind::kGruClassic}) {
    SCOPED_TRACE(CellName(cell));
    const int input = 3, hidden = 5, seq = 4, batch = 2;
    Rng rng(5);
    const Weights w = RandomWeights(rng, {cell, input, hidden});
    const auto w_ih = ToDouble(w.w_ih), w_hh = ToDouble(w.w_hh), bias = ToDouble(w.bias);
    const auto x = ToDouble(RandomFloats(rng, seq * batch * input, 1.0));
    const auto h0 = ToDouble(RandomFloats(rng, batch * hidden, 0.8));
    std::vector<double> buffer(ref::TraceSize(cell, seq, batch, hidden));
    auto trace = ref::TraceViews(cell, seq, batch, hidden, buffer.data());
    ref::RecurrentForward<double>({cell, input, hidden, w_ih.data(), w_hh.data(), bias.data()}, seq,
                                  batch, x.data(), h0.data(), nullptr, trace);
    const auto want = NaiveGru(cell, input, hidden, w_ih, w_hh, bias, seq, batch, x, h0);
    for (size_t k = 0; k < want.size(); ++k) {
      ASSERT_NEAR(trace.h[batch * hidden + k], want[k], 1e-12) << k;
    }
  }
}

// The float kernel's ForwardTrain + Backward against the double template (whose gradients
// ref_gradient_test checks against finite differences), gradients accumulating onto 1.
TEST(RefRecurrentKernelTest, FloatBackwardMatchesDoubleOracle) {
  for (CellKind cell : kAllCells) {
    SCOPED_TRACE(CellName(cell));
    const bool lstm = cell == CellKind::kLstm;
    const int input = 3, hidden = 6, seq = 4, batch = 2;
    const size_t bh = static_cast<size_t>(batch) * hidden;
    Rng rng(6);
    const Weights w = RandomWeights(rng, {cell, input, hidden});
    const auto x = RandomFloats(rng, seq * batch * input, 1.0);
    const auto h0 = RandomFloats(rng, bh, 0.5), c0 = RandomFloats(rng, bh, 0.5);
    const auto dy = RandomFloats(rng, seq * bh, 1.0), dh_n = RandomFloats(rng, bh, 1.0),
               dc_n = RandomFloats(rng, bh, 1.0);
    auto kernel = CreateRefRecurrentKernel({cell, input, hidden}, {});
    ASSERT_TRUE(kernel.ok()) << kernel.status().ToString();
    ASSERT_TRUE((*kernel)->SetWeights(w.View()).ok());
    RecurrentTape tape;
    ASSERT_TRUE((*kernel)
                    ->ForwardTrain(seq, batch, x.data(), h0.data(), c0.data(), nullptr, nullptr,
                                   nullptr, &tape)
                    .ok());
    std::vector<float> gx(x.size()), gh0(bh), gc0(bh), g_ih(w.w_ih.size(), 1.f),
        g_hh(w.w_hh.size(), 1.f), g_b(w.bias.size(), 1.f);
    ASSERT_TRUE((*kernel)
                    ->Backward(seq, batch, x.data(), h0.data(), c0.data(), tape, dy.data(),
                               dh_n.data(), dc_n.data(), gx.data(), gh0.data(), gc0.data(),
                               {g_ih.data(), g_hh.data(), g_b.data()})
                    .ok());

    const auto d_ih = ToDouble(w.w_ih), d_hh = ToDouble(w.w_hh), d_b = ToDouble(w.bias);
    const auto dx = ToDouble(x), dh0 = ToDouble(h0), dc0 = ToDouble(c0);
    const auto ddy = ToDouble(dy), ddh = ToDouble(dh_n), ddc = ToDouble(dc_n);
    const ref::RecurrentParams<double> p{cell, input, hidden, d_ih.data(), d_hh.data(), d_b.data()};
    std::vector<double> buffer(ref::TraceSize(cell, seq, batch, hidden));
    auto trace = ref::TraceViews(cell, seq, batch, hidden, buffer.data());
    ref::RecurrentForward<double>(p, seq, batch, dx.data(), dh0.data(), dc0.data(), trace);
    std::vector<double> wx(x.size()), wh0(bh), wc0(bh), w_ih(g_ih.size(), 1.0),
        w_hh(g_hh.size(), 1.0), w_b(g_b.size(), 1.0);
    ref::RecurrentBackward<double>(p, seq, batch, dx.data(), trace, ddy.data(), ddh.data(),
                                   ddc.data(), wx.data(), wh0.data(), wc0.data(),
                                   {w_ih.data(), w_hh.data(), w_b.data()});
    auto expect_near = [](const std::vector<float>& got, const std::vector<double>& want,
                          const char* what) {
      ASSERT_EQ(got.size(), want.size()) << what;
      for (size_t k = 0; k < got.size(); ++k) EXPECT_NEAR(got[k], want[k], 1e-5) << what << k;
    };
    expect_near(gx, wx, "dx");
    expect_near(gh0, wh0, "dh0");
    if (lstm) expect_near(gc0, wc0, "dc0");
    expect_near(g_ih, w_ih, "dw_ih");
    expect_near(g_hh, w_hh, "dw_hh");
    expect_near(g_b, w_b, "dbias");
  }
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
