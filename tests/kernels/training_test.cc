// Training end to end through the public API: convergence, determinism, early stopping,
// progress reporting and per-epoch metrics.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "nemesyst/model.h"
#include "tests/kernels/test_providers.h"

namespace nemesyst {
namespace {

using testing::NoisySineNextStep;

std::string CellSpec(const std::string& cell) {
  return R"({"kind": "regressor", "input": {"features": 1, "steps": 16},
             "recurrent": {"cell": ")" +
         cell + R"(", "hidden": [16]}, "output": {"width": 1}})";
}

const std::string kLstmSpec = CellSpec("lstm");

// The clean next value of a sine with noise σ = 0.05 on the inputs: predicting 0 scores 0.5,
// copying the last reading ≈ 0.09. A working LSTM, GRU or classic GRU gets well below 0.01.
class ConvergenceTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ConvergenceTest, LearnsNoisySineNextStep) {
  auto train = NoisySineNextStep(512, 16, 0.05, 1);
  auto validation = NoisySineNextStep(128, 16, 0.05, 2);
  auto model = Model::Create(CellSpec(GetParam()), 7);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  TrainerOptions options;
  options.epochs = 30;
  options.batch_size = 32;
  options.learning_rate = 1e-2;
  options.clip_norm = 1.0;
  auto report = Trainer(options).Train(**model, train, &validation);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->epochs.size(), 30u);
  EXPECT_LT(report->epochs.back().validation_loss, 0.01);
}

INSTANTIATE_TEST_SUITE_P(Cells, ConvergenceTest, ::testing::Values("lstm", "gru", "gru_classic"));

}  // namespace
}  // namespace nemesyst

namespace nemesyst {
namespace {

constexpr const char* kSmallSpec = R"({"kind": "regressor",
  "input": {"features": 1, "steps": 16},
  "recurrent": {"cell": "lstm", "hidden": [8, 8], "dropout": 0.2},
  "head": {"hidden": [4]}})";

Result<std::vector<float>> TrainOnce(uint64_t seed, TrainReport* report = nullptr) {
  auto train = testing::NoisySineNextStep(128, 16, 0.05, 1);
  NEMESYST_ASSIGN_OR_RETURN(auto model, Model::Create(kSmallSpec, seed));
  TrainerOptions options;
  options.epochs = 3;
  options.batch_size = 16;
  options.clip_norm = 0.5;
  options.seed = seed;
  NEMESYST_ASSIGN_OR_RETURN(TrainReport r, Trainer(options).Train(*model, train));
  if (report) *report = r;
  return model->Parameters();
}

TEST(TrainingTest, SameSeedGivesBitIdenticalWeights) {
  auto a = TrainOnce(5), b = TrainOnce(5), c = TrainOnce(6);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok()) << a.status().ToString();
  ASSERT_EQ(a->size(), b->size());
  EXPECT_EQ(std::memcmp(a->data(), b->data(), a->size() * sizeof(float)), 0);
  EXPECT_NE(*a, *c);
}

TEST(TrainingTest, SgdAndAdamBothReduceTheLoss) {
  for (const char* optimizer : {"sgd", "adam"}) {
    auto train = testing::NoisySineNextStep(256, 16, 0.05, 1);
    auto model = Model::Create(kLstmSpec, 3);
    ASSERT_TRUE(model.ok());
    TrainerOptions options;
    options.epochs = 5;
    options.optimizer = optimizer;
    options.learning_rate = std::string(optimizer) == "sgd" ? 0.1 : 1e-2;
    auto report = Trainer(options).Train(**model, train);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_LT(report->epochs.back().loss, 0.5 * report->epochs.front().loss) << optimizer;
  }
}

TEST(TrainingTest, ProgressAndMetrics) {
  auto train = testing::NoisySineNextStep(100, 16, 0.05, 1);
  auto validation = testing::NoisySineNextStep(40, 16, 0.05, 2);
  auto model = Model::Create(kSmallSpec, 1);
  ASSERT_TRUE(model.ok());
  std::vector<TrainProgress> seen;
  TrainerOptions options;
  options.epochs = 2;
  options.batch_size = 32;  // 4 steps per epoch, the last with 4 windows
  options.progress_every_steps = 2;
  options.on_progress = [&](const TrainProgress& p) { seen.push_back(p); };
  auto report = Trainer(options).Train(**model, train, &validation);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->epochs.size(), 2u);
  EXPECT_EQ(report->steps, 8);
  EXPECT_EQ(report->epochs[0].samples, 100);
  EXPECT_TRUE(std::isfinite(report->epochs[1].validation_loss));
  EXPECT_GT(report->epochs[0].samples_per_second, 0);
  // Steps 2 and 4 in epoch 1, its end, steps 6 and 8, epoch 2's end.
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_FALSE(seen[0].epoch_end);
  EXPECT_EQ(seen[0].step, 2);
  EXPECT_TRUE(std::isnan(seen[0].validation_loss));
  EXPECT_TRUE(seen[2].epoch_end);
  EXPECT_EQ(seen[2].validation_loss, report->epochs[0].validation_loss);
  EXPECT_EQ(seen[5].epoch, 2);
  const std::string json = report->ToJson();
  EXPECT_NE(json.find("\"validation_loss\""), std::string::npos);
  EXPECT_NE(json.find("\"best_epoch\""), std::string::npos);
}

// A validation set the model cannot fit (labels unrelated to the inputs) stops improving at
// once: with patience 2 training stops early and the best epoch's weights are restored.
TEST(TrainingTest, EarlyStoppingRestoresBestWeights) {
  auto train = testing::NoisySineNextStep(128, 16, 0.05, 1);
  kernels::Rng rng(9);
  std::vector<float> vx(64 * 16), vy(64);
  for (float& v : vx) v = static_cast<float>(rng.Uniform(-1, 1));
  for (float& v : vy) v = static_cast<float>(rng.Uniform(-3, 3));
  testing::VectorBatchProvider validation(16, 1, 1, vx, vy);
  auto model = Model::Create(kLstmSpec, 2);
  ASSERT_TRUE(model.ok());
  TrainerOptions options;
  options.epochs = 40;
  options.patience = 2;
  options.learning_rate = 1e-2;
  auto report = Trainer(options).Train(**model, train, &validation);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->stopped_early);
  EXPECT_LT(report->epochs.size(), 40u);
  EXPECT_EQ(report->epochs.size(), static_cast<size_t>(report->best_epoch + 2));
  Batch batch;
  ASSERT_TRUE(validation.Rewind().ok());
  ASSERT_TRUE(validation.Next(64, &batch).ok());
  auto loss = (*model)->Evaluate(batch);
  ASSERT_TRUE(loss.ok());
  EXPECT_NEAR(*loss, report->best_loss, 1e-6);
}

TEST(TrainingTest, RefusesBadOptionsAndMismatchedData) {
  auto model = Model::Create(kLstmSpec, 1);
  ASSERT_TRUE(model.ok());
  auto train = testing::NoisySineNextStep(8, 16, 0.05, 1);
  TrainerOptions bad;
  bad.optimizer = "rmsprop";
  EXPECT_TRUE(Trainer(bad).Train(**model, train).status().IsInvalidArgument());
  bad = {};
  bad.batch_size = 0;
  EXPECT_TRUE(Trainer(bad).Train(**model, train).status().IsInvalidArgument());
  auto wrong_steps = testing::NoisySineNextStep(8, 12, 0.05, 1);
  auto status = Trainer({}).Train(**model, wrong_steps).status();
  EXPECT_TRUE(status.IsInvalidArgument());
  EXPECT_NE(status.message().find("12-step"), std::string_view::npos) << status.ToString();
  testing::VectorBatchProvider empty(16, 1, 1, {}, {});
  EXPECT_TRUE(Trainer({}).Train(**model, empty).status().IsInvalidArgument());
  // should_stop is honoured before any step.
  TrainerOptions stop;
  stop.should_stop = [] { return true; };
  const auto before = (*model)->Parameters();
  auto report = Trainer(stop).Train(**model, train);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->epochs.empty());
  EXPECT_EQ((*model)->Parameters(), before);
}

}  // namespace
}  // namespace nemesyst
