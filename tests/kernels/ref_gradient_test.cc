// The oracle's own check: ref BPTT gradients (double precision, the same template the float
// `ref` backend runs) against central finite differences of a scalar loss, over odd shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/random.h"
#include "kernels/ref/ref_math.h"

namespace nemesyst::kernels {
namespace {

std::vector<double> RandomVector(Rng& rng, size_t n, double scale) {
  std::vector<double> v(n);
  for (double& x : v) x = rng.Uniform(-scale, scale);
  return v;
}

struct Case {
  CellKind cell;
  int input, hidden, batch, seq;
};

std::string Name(const Case& c) {
  return std::string(CellName(c.cell)) + "_i" + std::to_string(c.input) + "_h" +
         std::to_string(c.hidden) + "_b" + std::to_string(c.batch) + "_t" + std::to_string(c.seq);
}

class RefGradientTest : public ::testing::TestWithParam<Case> {};

// Loss = Σ ry·y + Σ rh·h_n + Σ rc·c_n with fixed random ry, rh, rc, so dL/dy = ry etc.
TEST_P(RefGradientTest, BackwardMatchesCentralDifferences) {
  const Case c = GetParam();
  const bool lstm = c.cell == CellKind::kLstm;
  const int gh = GateCount(c.cell) * c.hidden;
  const size_t bh = static_cast<size_t>(c.batch) * c.hidden;
  Rng rng(42);
  std::vector<double> w_ih = RandomVector(rng, static_cast<size_t>(gh) * c.input, 0.6);
  std::vector<double> w_hh = RandomVector(rng, static_cast<size_t>(gh) * c.hidden, 0.6);
  std::vector<double> bias =
      RandomVector(rng, static_cast<size_t>(BiasRows(c.cell)) * c.hidden, 0.3);
  std::vector<double> x = RandomVector(rng, static_cast<size_t>(c.seq) * c.batch * c.input, 1.0);
  std::vector<double> h0 = RandomVector(rng, bh, 0.5);
  std::vector<double> c0 = RandomVector(rng, bh, 0.5);
  const std::vector<double> ry = RandomVector(rng, c.seq * bh, 1.0);
  const std::vector<double> rh = RandomVector(rng, bh, 1.0);
  const std::vector<double> rc = RandomVector(rng, bh, 1.0);

  std::vector<double> buffer(ref::TraceSize(c.cell, c.seq, c.batch, c.hidden));
  auto loss = [&]() {
    ref::RecurrentParams<double> p{c.cell,      c.input,     c.hidden,
                                   w_ih.data(), w_hh.data(), bias.data()};
    auto trace = ref::TraceViews(c.cell, c.seq, c.batch, c.hidden, buffer.data());
    ref::RecurrentForward<double>(p, c.seq, c.batch, x.data(), h0.data(), c0.data(), trace);
    double sum = 0;
    for (size_t k = 0; k < c.seq * bh; ++k) sum += ry[k] * trace.h[bh + k];
    for (size_t k = 0; k < bh; ++k) sum += rh[k] * trace.h[c.seq * bh + k];
    if (lstm) {
      for (size_t k = 0; k < bh; ++k) sum += rc[k] * trace.c[c.seq * bh + k];
    }
    return sum;
  };

  loss();  // fills the trace for the analytic backward pass
  std::vector<double> g_ih(w_ih.size()), g_hh(w_hh.size()), g_b(bias.size());
  std::vector<double> g_x(x.size()), g_h0(bh), g_c0(bh);
  {
    ref::RecurrentParams<double> p{c.cell,      c.input,     c.hidden,
                                   w_ih.data(), w_hh.data(), bias.data()};
    auto trace = ref::TraceViews(c.cell, c.seq, c.batch, c.hidden, buffer.data());
    ref::RecurrentBackward<double>(p, c.seq, c.batch, x.data(), trace, ry.data(), rh.data(),
                                   rc.data(), g_x.data(), g_h0.data(), g_c0.data(),
                                   {g_ih.data(), g_hh.data(), g_b.data()});
  }

  // Central differences: error O(eps²) ≈ 1e-10 plus rounding ≈ 1e-16/eps; 1e-7 absolute+relative
  // is far below any real bug (a wrong term changes a gradient by O(1)).
  const double eps = 1e-5;
  auto check = [&](std::vector<double>& param, const std::vector<double>& grad, const char* what) {
    for (size_t k = 0; k < param.size(); ++k) {
      const double saved = param[k];
      param[k] = saved + eps;
      const double up = loss();
      param[k] = saved - eps;
      const double down = loss();
      param[k] = saved;
      const double numeric = (up - down) / (2 * eps);
      ASSERT_NEAR(grad[k], numeric, 1e-7 * (1 + std::abs(numeric))) << what << "[" << k << "]";
    }
  };
  check(w_ih, g_ih, "w_ih");
  check(w_hh, g_hh, "w_hh");
  check(bias, g_b, "bias");
  check(x, g_x, "x");
  check(h0, g_h0, "h0");
  if (lstm) check(c0, g_c0, "c0");
}

INSTANTIATE_TEST_SUITE_P(
    OddShapes, RefGradientTest,
    ::testing::Values(Case{CellKind::kLstm, 1, 1, 1, 1}, Case{CellKind::kLstm, 3, 7, 3, 4},
                      Case{CellKind::kLstm, 2, 33, 1, 3}, Case{CellKind::kLstm, 5, 4, 3, 1},
                      Case{CellKind::kRnnTanh, 1, 1, 1, 1}, Case{CellKind::kRnnTanh, 3, 7, 3, 5},
                      Case{CellKind::kRnnTanh, 2, 33, 1, 3}, Case{CellKind::kGru, 1, 1, 1, 1},
                      Case{CellKind::kGru, 3, 7, 3, 4}, Case{CellKind::kGru, 2, 33, 1, 3},
                      Case{CellKind::kGru, 5, 4, 3, 1}, Case{CellKind::kGruClassic, 1, 1, 1, 1},
                      Case{CellKind::kGruClassic, 3, 7, 3, 4},
                      Case{CellKind::kGruClassic, 2, 33, 1, 3},
                      Case{CellKind::kGruClassic, 5, 4, 3, 1}),
    [](const ::testing::TestParamInfo<Case>& info) { return Name(info.param); });

TEST(RefDenseGradientTest, BackwardMatchesCentralDifferences) {
  const int in = 5, out = 3, batch = 3;
  Rng rng(7);
  std::vector<double> w = RandomVector(rng, out * in, 1.0), b = RandomVector(rng, out, 1.0);
  std::vector<double> x = RandomVector(rng, batch * in, 1.0);
  const std::vector<double> r = RandomVector(rng, batch * out, 1.0);
  std::vector<double> y(batch * out);
  auto loss = [&]() {
    ref::DenseForward<double>(in, out, w.data(), b.data(), batch, x.data(), y.data());
    double s = 0;
    for (size_t k = 0; k < y.size(); ++k) s += r[k] * y[k];
    return s;
  };
  std::vector<double> gw(w.size()), gb(b.size()), gx(x.size());
  ref::DenseBackward<double>(in, out, w.data(), batch, x.data(), r.data(), gx.data(), gw.data(),
                             gb.data());
  const double eps = 1e-5;
  auto check = [&](std::vector<double>& param, const std::vector<double>& grad) {
    for (size_t k = 0; k < param.size(); ++k) {
      const double saved = param[k];
      param[k] = saved + eps;
      const double up = loss();
      param[k] = saved - eps;
      const double down = loss();
      param[k] = saved;
      EXPECT_NEAR(grad[k], (up - down) / (2 * eps), 1e-8);
    }
  };
  check(w, gw);
  check(b, gb);
  check(x, gx);
}

}  // namespace
}  // namespace nemesyst::kernels
