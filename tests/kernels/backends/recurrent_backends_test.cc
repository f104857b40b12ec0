// Every optimised recurrent backend (avx2, avx512, onednn) against `ref`, the oracle.
// Metric (see RelativeError): max-norm relative error, max|got - want| / max|want|, per output
// tensor; bound 1e-5 for forward outputs and states, 1e-4 for gradients (dx, dh0, dc0, dW_ih,
// dW_hh, dbias; compared as the increment added to pre-filled gradient buffers).
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/kernels/backends/backend_test_util.h"

namespace nemesyst::kernels::testing {
namespace {

constexpr double kForwardTolerance = 1e-5;
constexpr double kGradientTolerance = 1e-4;

struct Case {
  CellKind cell;
  int input, hidden, batch, seq, threads;
};

struct Param {
  Backend backend;
  Case c;
};

std::string Name(const ::testing::TestParamInfo<Param>& info) {
  const Case& c = info.param.c;
  return std::string(BackendName(info.param.backend)) + "_" + CellName(c.cell) + "_i" +
         std::to_string(c.input) + "_h" + std::to_string(c.hidden) + "_b" +
         std::to_string(c.batch) + "_t" + std::to_string(c.seq) + "_threads" +
         std::to_string(c.threads);
}

struct Weights {
  std::vector<float> w_ih, w_hh, bias;
  RecurrentWeights view() const { return {w_ih.data(), w_hh.data(), bias.data()}; }
};

Weights MakeWeights(const RecurrentShape& s, uint32_t seed) {
  const size_t gh = size_t(GateCount(s.cell)) * s.hidden;
  return {RandomVector(gh * s.input, seed, -0.5f, 0.5f),
          RandomVector(gh * s.hidden, seed + 1, -0.5f, 0.5f),
          RandomVector(size_t(BiasRows(s.cell)) * s.hidden, seed + 2)};
}

class RecurrentBackendTest : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    const Case& c = GetParam().c;
    shape_ = {c.cell, c.input, c.hidden};
    weights_ = MakeWeights(shape_, 11);
    lstm_ = c.cell == CellKind::kLstm;
    state_ = size_t(c.batch) * c.hidden;
    x_ = RandomVector(size_t(c.seq) * c.batch * c.input, 21);
    h0_ = RandomVector(state_, 22);
    c0_ = RandomVector(state_, 23);
  }

  RecurrentShape shape_;
  Weights weights_;
  bool lstm_ = false;
  size_t state_ = 0;
  std::vector<float> x_, h0_, c0_;
};

TEST_P(RecurrentBackendTest, ForwardMatchesRef) {
  const Case& c = GetParam().c;
  NEMESYST_CREATE_OR_SKIP(kernel, CreateRecurrent(GetParam().backend, shape_, {c.threads, false}));
  auto ref = CreateRefRecurrentKernel(shape_, {}).value();
  ASSERT_TRUE(kernel->SetWeights(weights_.view()).ok());
  ASSERT_TRUE(ref->SetWeights(weights_.view()).ok());
  const size_t ys = size_t(c.seq) * state_;
  for (bool with_state : {true, false}) {
    SCOPED_TRACE(with_state ? "h0/c0 given" : "h0/c0 null");
    const float* h0 = with_state ? h0_.data() : nullptr;
    const float* c0 = with_state ? c0_.data() : nullptr;
    std::vector<float> y(ys, 7), hn(state_, 7), cn(state_, 7);
    std::vector<float> ry(ys), rhn(state_), rcn(state_);
    ASSERT_TRUE(
        kernel->Forward(c.seq, c.batch, x_.data(), h0, c0, y.data(), hn.data(), cn.data()).ok());
    ASSERT_TRUE(
        ref->Forward(c.seq, c.batch, x_.data(), h0, c0, ry.data(), rhn.data(), rcn.data()).ok());
    EXPECT_LE(RelativeError(y, ry), kForwardTolerance);
    EXPECT_LE(RelativeError(hn, rhn), kForwardTolerance);
    if (lstm_) {
      EXPECT_LE(RelativeError(cn, rcn), kForwardTolerance);
    }
    // Recording for training hands back the same outputs (threads copy their rows of y per
    // step).
    std::vector<float> ty(ys, 7), thn(state_, 7), tcn(state_, 7);
    RecurrentTape tape;
    ASSERT_TRUE(kernel
                    ->ForwardTrain(c.seq, c.batch, x_.data(), h0, c0, ty.data(), thn.data(),
                                   tcn.data(), &tape)
                    .ok());
    EXPECT_LE(RelativeError(ty, ry), kForwardTolerance) << "ForwardTrain y";
    EXPECT_LE(RelativeError(thn, rhn), kForwardTolerance) << "ForwardTrain h_n";
    if (lstm_) {
      EXPECT_LE(RelativeError(tcn, rcn), kForwardTolerance) << "ForwardTrain c_n";
    }
    // Without y (only the final state wanted) the result is the same.
    std::vector<float> hn2(state_, 7);
    ASSERT_TRUE(
        kernel->Forward(c.seq, c.batch, x_.data(), h0, c0, nullptr, hn2.data(), nullptr).ok());
    EXPECT_LE(RelativeError(hn2, rhn), kForwardTolerance);
  }
}

TEST_P(RecurrentBackendTest, StepMatchesRefAndForward) {
  const Case& c = GetParam().c;
  NEMESYST_CREATE_OR_SKIP(kernel, CreateRecurrent(GetParam().backend, shape_, {c.threads, false}));
  auto ref = CreateRefRecurrentKernel(shape_, {}).value();
  ASSERT_TRUE(kernel->SetWeights(weights_.view()).ok());
  ASSERT_TRUE(ref->SetWeights(weights_.view()).ok());
  std::vector<float> h = h0_, cc = c0_, rh = h0_, rc = c0_;
  const size_t xs = size_t(c.batch) * c.input;
  for (int t = 0; t < c.seq; ++t) {
    ASSERT_TRUE(kernel->Step(c.batch, x_.data() + t * xs, h.data(), cc.data()).ok());
    ASSERT_TRUE(ref->Step(c.batch, x_.data() + t * xs, rh.data(), rc.data()).ok());
  }
  EXPECT_LE(RelativeError(h, rh), kForwardTolerance);
  if (lstm_) {
    EXPECT_LE(RelativeError(cc, rc), kForwardTolerance);
  }
  // Stepping is the windowed forward pass, one reading at a time.
  std::vector<float> hn(state_), cn(state_);
  ASSERT_TRUE(kernel
                  ->Forward(c.seq, c.batch, x_.data(), h0_.data(), c0_.data(), nullptr, hn.data(),
                            cn.data())
                  .ok());
  EXPECT_LE(RelativeError(h, hn), kForwardTolerance);
}

struct GradSet {
  std::vector<float> dx, dh0, dc0, dw_ih, dw_hh, dbias;
};

void RunBackward(RecurrentKernel* k, const Case& c, const Weights& w, const std::vector<float>& x,
                 const std::vector<float>& h0, const std::vector<float>& c0,
                 const std::vector<float>* dy, const std::vector<float>& dh_n,
                 const std::vector<float>& dc_n, GradSet* out) {
  const size_t state = size_t(c.batch) * c.hidden;
  RecurrentTape tape;
  std::vector<float> y(size_t(c.seq) * state), hn(state), cn(state);
  ASSERT_TRUE(k->ForwardTrain(c.seq, c.batch, x.data(), h0.data(), c0.data(), y.data(), hn.data(),
                              cn.data(), &tape)
                  .ok());
  out->dx.assign(x.size(), 0.0f);
  out->dh0.assign(state, 0.0f);
  out->dc0.assign(state, 0.0f);
  // Pre-filled, to check that gradients accumulate; the caller compares the increments.
  out->dw_ih = RandomVector(w.w_ih.size(), 91);
  out->dw_hh = RandomVector(w.w_hh.size(), 92);
  out->dbias = RandomVector(w.bias.size(), 93);
  const RecurrentGrads grads{out->dw_ih.data(), out->dw_hh.data(), out->dbias.data()};
  ASSERT_TRUE(k->Backward(c.seq, c.batch, x.data(), h0.data(), c0.data(), tape,
                          dy ? dy->data() : nullptr, dh_n.data(), dc_n.data(), out->dx.data(),
                          out->dh0.data(), out->dc0.data(), grads)
                  .ok());
  auto subtract = [](std::vector<float>& v, const std::vector<float>& base) {
    for (size_t i = 0; i < v.size(); ++i) v[i] -= base[i];
  };
  subtract(out->dw_ih, RandomVector(w.w_ih.size(), 91));
  subtract(out->dw_hh, RandomVector(w.w_hh.size(), 92));
  subtract(out->dbias, RandomVector(w.bias.size(), 93));
}

TEST_P(RecurrentBackendTest, BackwardMatchesRef) {
  const Case& c = GetParam().c;
  NEMESYST_CREATE_OR_SKIP(kernel, CreateRecurrent(GetParam().backend, shape_, {c.threads, false}));
  auto ref = CreateRefRecurrentKernel(shape_, {}).value();
  ASSERT_TRUE(kernel->SetWeights(weights_.view()).ok());
  ASSERT_TRUE(ref->SetWeights(weights_.view()).ok());
  const std::vector<float> dy = RandomVector(size_t(c.seq) * state_, 31);
  const std::vector<float> dh_n = RandomVector(state_, 32);
  const std::vector<float> dc_n = RandomVector(state_, 33);
  for (bool many_to_many : {true, false}) {
    SCOPED_TRACE(many_to_many ? "dy given (many-to-many)" : "dy null (many-to-one)");
    const std::vector<float>* dy_p = many_to_many ? &dy : nullptr;
    GradSet got, want;
    RunBackward(kernel.get(), c, weights_, x_, h0_, c0_, dy_p, dh_n, dc_n, &got);
    RunBackward(ref.get(), c, weights_, x_, h0_, c0_, dy_p, dh_n, dc_n, &want);
    EXPECT_LE(RelativeError(got.dx, want.dx), kGradientTolerance) << "dx";
    EXPECT_LE(RelativeError(got.dh0, want.dh0), kGradientTolerance) << "dh0";
    if (lstm_) {
      EXPECT_LE(RelativeError(got.dc0, want.dc0), kGradientTolerance) << "dc0";
    }
    EXPECT_LE(RelativeError(got.dw_ih, want.dw_ih), kGradientTolerance) << "dW_ih";
    EXPECT_LE(RelativeError(got.dw_hh, want.dw_hh), kGradientTolerance) << "dW_hh";
    EXPECT_LE(RelativeError(got.dbias, want.dbias), kGradientTolerance) << "dbias";
  }
}

std::vector<Param> AllParams() {
  const std::vector<Case> cases = {
      // Odd shapes: hidden 1, 7, 33; batch 1, 3; sequence 1.
      {CellKind::kLstm, 3, 1, 1, 1, 1},
      {CellKind::kLstm, 5, 7, 3, 4, 1},
      {CellKind::kLstm, 8, 33, 3, 5, 1},
      {CellKind::kLstm, 4, 7, 1, 6, 1},
      {CellKind::kLstm, 8, 33, 1, 1, 1},
      {CellKind::kLstm, 8, 64, 8, 4, 1},
      {CellKind::kLstm, 1, 16, 4, 3, 1},
      // Large K with several rows: panels bigger than L1, every tile height.
      {CellKind::kLstm, 8, 256, 5, 2, 1},
      // Threads: rows split (batch >= 2 × threads) and hidden split (batch 1).
      {CellKind::kLstm, 8, 33, 7, 3, 2},
      {CellKind::kLstm, 6, 40, 1, 3, 2},
      {CellKind::kLstm, 8, 64, 16, 3, 2},
      // Large batch (the onednn backend splits it into several primitive calls on CPUs without
      // AVX-512; run with DNNL_MAX_CPU_ISA=AVX2 to exercise that here).
      {CellKind::kLstm, 8, 16, 300, 2, 1},
      {CellKind::kLstm, 8, 128, 1000, 1, 1},
      {CellKind::kRnnTanh, 3, 1, 1, 1, 1},
      {CellKind::kRnnTanh, 5, 7, 3, 4, 1},
      {CellKind::kRnnTanh, 8, 33, 1, 5, 1},
      {CellKind::kRnnTanh, 8, 70, 5, 3, 1},
      {CellKind::kRnnTanh, 8, 33, 7, 3, 2},
      {CellKind::kRnnTanh, 8, 17, 1, 3, 2},
      // Both GRUs: the same odd shapes, threads split by rows and by hidden blocks.
      {CellKind::kGru, 3, 1, 1, 1, 1},
      {CellKind::kGru, 5, 7, 3, 4, 1},
      {CellKind::kGru, 8, 33, 1, 5, 1},
      {CellKind::kGru, 8, 70, 5, 3, 1},
      {CellKind::kGru, 8, 256, 5, 2, 1},
      {CellKind::kGru, 8, 33, 7, 3, 2},
      {CellKind::kGru, 8, 17, 1, 3, 2},
      {CellKind::kGru, 8, 16, 300, 2, 1},
      {CellKind::kGruClassic, 3, 1, 1, 1, 1},
      {CellKind::kGruClassic, 5, 7, 3, 4, 1},
      {CellKind::kGruClassic, 8, 33, 1, 5, 1},
      {CellKind::kGruClassic, 8, 70, 5, 3, 1},
      {CellKind::kGruClassic, 8, 33, 7, 3, 2},
      {CellKind::kGruClassic, 8, 17, 1, 3, 2},
  };
  std::vector<Param> params;
  for (Backend b : {Backend::kAvx2, Backend::kAvx512, Backend::kOnednn}) {
    for (const Case& c : cases) params.push_back({b, c});
  }
  return params;
}

INSTANTIATE_TEST_SUITE_P(Backends, RecurrentBackendTest, ::testing::ValuesIn(AllParams()), Name);

// fp16 weights (inference only): equal to ref's fp16 rounding within the forward bound, and
// within 1e-3 absolute of the fp32 result.
class RecurrentFp16Test : public ::testing::TestWithParam<Backend> {};

// The SIMD backends stream either the fp16 panels or fp32 panels of the same rounded values,
// by a thread's share of the weights against its L2 (StreamF16): hidden 33 and 64 take the
// fp32 copy on any CPU, hidden 384 (2.4 MB of fp32 weights) the fp16 one on CPUs with L2 up to
// 2.4 MB (per thread, split over 2 threads at batch 1: 4.8 MB).
TEST_P(RecurrentFp16Test, Fp16WeightsCloseToFp32) {
  for (const RecurrentShape shape :
       {RecurrentShape{CellKind::kLstm, 8, 33}, RecurrentShape{CellKind::kLstm, 8, 64},
        RecurrentShape{CellKind::kRnnTanh, 5, 7}, RecurrentShape{CellKind::kLstm, 8, 384}}) {
    for (const auto& [batch, threads] : {std::pair{1, 1}, std::pair{3, 1}, std::pair{1, 2}}) {
      SCOPED_TRACE("hidden " + std::to_string(shape.hidden) + ", batch " + std::to_string(batch) +
                   ", threads " + std::to_string(threads));
      NEMESYST_CREATE_OR_SKIP(kernel, CreateRecurrent(GetParam(), shape, {threads, true}));
      auto ref16 = CreateRefRecurrentKernel(shape, {1, true}).value();
      auto ref32 = CreateRefRecurrentKernel(shape, {}).value();
      Weights w = MakeWeights(shape, 5);
      if (shape.hidden > 64) {
        // At the usual initialisation scale (about 1/sqrt(H)); ±0.5 over 392 inputs would make
        // pre-activations far larger than a trained model's, and the fp16 error with them.
        for (float& v : w.w_ih) v *= 0.1f;
        for (float& v : w.w_hh) v *= 0.1f;
      }
      ASSERT_TRUE(kernel->SetWeights(w.view()).ok());
      ASSERT_TRUE(ref16->SetWeights(w.view()).ok());
      ASSERT_TRUE(ref32->SetWeights(w.view()).ok());
      const int seq = 8;
      const auto x = RandomVector(size_t(seq) * batch * shape.input, 6);
      const size_t ys = size_t(seq) * batch * shape.hidden;
      std::vector<float> y(ys), y16(ys), y32(ys);
      ASSERT_TRUE(
          kernel->Forward(seq, batch, x.data(), nullptr, nullptr, y.data(), nullptr, nullptr).ok());
      ASSERT_TRUE(
          ref16->Forward(seq, batch, x.data(), nullptr, nullptr, y16.data(), nullptr, nullptr)
              .ok());
      ASSERT_TRUE(
          ref32->Forward(seq, batch, x.data(), nullptr, nullptr, y32.data(), nullptr, nullptr)
              .ok());
      EXPECT_LE(RelativeError(y, y16), kForwardTolerance);
      EXPECT_LE(MaxAbsDiff(y, y32), 1e-3);
      RecurrentTape tape;
      EXPECT_FALSE(kernel
                       ->ForwardTrain(seq, batch, x.data(), nullptr, nullptr, y.data(), nullptr,
                                      nullptr, &tape)
                       .ok());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, RecurrentFp16Test,
                         ::testing::Values(Backend::kAvx2, Backend::kAvx512, Backend::kOnednn),
                         [](const auto& info) { return std::string(BackendName(info.param)); });

// Misuse is reported, never a crash.
class RecurrentErrorsTest : public ::testing::TestWithParam<Backend> {};

TEST_P(RecurrentErrorsTest, ErrorsAreValues) {
  const RecurrentShape shape{CellKind::kLstm, 4, 8};
  NEMESYST_CREATE_OR_SKIP(kernel, CreateRecurrent(GetParam(), shape, {}));
  const auto x = RandomVector(4 * 2 * 4, 1);
  std::vector<float> h(16), c(16);
  EXPECT_EQ(kernel->Forward(4, 2, x.data(), nullptr, nullptr, nullptr, h.data(), c.data()).code(),
            StatusCode::kFailedPrecondition);
  const Weights w = MakeWeights(shape, 3);
  ASSERT_TRUE(kernel->SetWeights(w.view()).ok());
  EXPECT_FALSE(kernel->Forward(0, 2, x.data(), nullptr, nullptr, nullptr, h.data(), c.data()).ok());
  EXPECT_FALSE(kernel->Forward(4, 0, x.data(), nullptr, nullptr, nullptr, h.data(), c.data()).ok());
  EXPECT_FALSE(kernel->Forward(4, 2, nullptr, nullptr, nullptr, nullptr, h.data(), c.data()).ok());
  EXPECT_FALSE(kernel->SetWeights({}).ok());
  // A tape recorded for another shape is refused.
  RecurrentTape tape;
  ASSERT_TRUE(
      kernel->ForwardTrain(2, 2, x.data(), nullptr, nullptr, nullptr, nullptr, nullptr, &tape)
          .ok());
  std::vector<float> dw_ih(w.w_ih.size()), dw_hh(w.w_hh.size()), db(w.bias.size());
  EXPECT_FALSE(kernel
                   ->Backward(4, 2, x.data(), nullptr, nullptr, tape, nullptr, h.data(), nullptr,
                              nullptr, nullptr, nullptr, {dw_ih.data(), dw_hh.data(), db.data()})
                   .ok());
  EXPECT_FALSE(CreateRecurrent(GetParam(), {CellKind::kLstm, 0, 8}, {}).ok());
}

// The same for both GRUs, and the GRU-specific conventions: Step needs h but no c (c is
// ignored), and a tape from another shape is refused.
TEST_P(RecurrentErrorsTest, GruErrorsAreValues) {
  for (CellKind cell : {CellKind::kGru, CellKind::kGruClassic}) {
    SCOPED_TRACE(CellName(cell));
    const RecurrentShape shape{cell, 4, 8};
    NEMESYST_CREATE_OR_SKIP(kernel, CreateRecurrent(GetParam(), shape, {}));
    const auto x = RandomVector(4 * 2 * 4, 1);
    std::vector<float> h(16);
    EXPECT_EQ(kernel->Forward(4, 2, x.data(), nullptr, nullptr, nullptr, h.data(), nullptr).code(),
              StatusCode::kFailedPrecondition);
    const Weights w = MakeWeights(shape, 3);
    ASSERT_TRUE(kernel->SetWeights(w.view()).ok());
    EXPECT_FALSE(kernel->Step(2, x.data(), nullptr, nullptr).ok());
    EXPECT_TRUE(kernel->Step(2, x.data(), h.data(), nullptr).ok());
    EXPECT_FALSE(
        kernel->ForwardTrain(2, 2, x.data(), nullptr, nullptr, nullptr, nullptr, nullptr, nullptr)
            .ok());
    RecurrentTape tape;
    ASSERT_TRUE(
        kernel->ForwardTrain(2, 2, x.data(), nullptr, nullptr, nullptr, nullptr, nullptr, &tape)
            .ok());
    std::vector<float> dw_ih(w.w_ih.size()), dw_hh(w.w_hh.size()), db(w.bias.size());
    EXPECT_FALSE(kernel
                     ->Backward(4, 2, x.data(), nullptr, nullptr, tape, nullptr, h.data(), nullptr,
                                nullptr, nullptr, nullptr, {dw_ih.data(), dw_hh.data(), db.data()})
                     .ok());
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, RecurrentErrorsTest,
                         ::testing::Values(Backend::kAvx2, Backend::kAvx512, Backend::kOnednn),
                         [](const auto& info) { return std::string(BackendName(info.param)); });

}  // namespace
}  // namespace nemesyst::kernels::testing
