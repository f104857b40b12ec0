// The stacked recurrent layer's state plumbing: initial state in and final state out compose
// (running a sequence in two halves, handing the state over, equals running it whole), for
// inference and training passes, and Step advances the same states.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/random.h"
#include "kernels/recurrent_stack.h"

namespace nemesyst::kernels {
namespace {

class RecurrentStackTest : public ::testing::TestWithParam<CellKind> {};

TEST_P(RecurrentStackTest, StateHandOverEqualsWholeSequence) {
  const int input = 3, seq = 6, half = 2, batch = 2;
  ParameterSet params;
  auto stack =
      RecurrentStack::Create({GetParam(), input, {5, 4}, 0.0}, "s", &params, Backend::kRef, {});
  ASSERT_TRUE(stack.ok());
  params.Allocate();
  Rng rng(1);
  (*stack)->Initialize(rng);
  ASSERT_TRUE((*stack)->SyncWeights().ok());
  std::vector<float> x(seq * batch * input);
  for (float& v : x) v = static_cast<float>(rng.Uniform(-1, 1));

  std::vector<float> whole(seq * batch * 4), first(half * batch * 4),
      second((seq - half) * batch * 4);
  StackState whole_final, mid, end;
  ASSERT_TRUE((*stack)->Forward(seq, batch, x.data(), nullptr, whole.data(), &whole_final).ok());
  ASSERT_TRUE((*stack)->Forward(half, batch, x.data(), nullptr, first.data(), &mid).ok());
  ASSERT_TRUE(
      (*stack)
          ->Forward(seq - half, batch, x.data() + half * batch * input, &mid, second.data(), &end)
          .ok());
  for (size_t k = 0; k < second.size(); ++k) {
    EXPECT_NEAR(second[k], whole[half * batch * 4 + k], 1e-6) << k;
  }
  for (size_t l = 0; l < 2; ++l) {
    for (size_t k = 0; k < end.h[l].size(); ++k)
      EXPECT_NEAR(end.h[l][k], whole_final.h[l][k], 1e-6);
    if (GetParam() == CellKind::kLstm) {
      for (size_t k = 0; k < end.c[l].size(); ++k) {
        EXPECT_NEAR(end.c[l][k], whole_final.c[l][k], 1e-6);
      }
    }
  }
  // The training pass with an initial state gives the same outputs as inference.
  std::vector<float> trained(second.size());
  StackState train_end;
  ASSERT_TRUE((*stack)
                  ->ForwardTrain(seq - half, batch, x.data() + half * batch * input, &mid, nullptr,
                                 trained.data(), &train_end)
                  .ok());
  EXPECT_EQ(trained, second);
  std::vector<float> dy(trained.size(), 0.1f), dx((seq - half) * batch * input);
  ASSERT_TRUE((*stack)->Backward(dy.data(), dx.data()).ok());
  // Step by step from the hand-over state reproduces the second half.
  StackState state = mid;
  for (int t = half; t < seq; ++t) {
    ASSERT_TRUE((*stack)->Step(batch, x.data() + t * batch * input, &state).ok());
    for (int k = 0; k < batch * 4; ++k) {
      EXPECT_NEAR(state.h.back()[k], whole[t * batch * 4 + k], 1e-6) << "step " << t;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cells, RecurrentStackTest,
                         ::testing::Values(CellKind::kLstm, CellKind::kRnnTanh, CellKind::kGru,
                                           CellKind::kGruClassic));

}  // namespace
}  // namespace nemesyst::kernels
