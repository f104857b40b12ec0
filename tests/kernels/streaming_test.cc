// Streaming inference equals the windowed forward pass over the same readings, for every device,
// whether a tick covers all devices in slot order (in-place path) or any subset (gather path).
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "kernels/random.h"
#include "nemesyst/model.h"

namespace nemesyst {
namespace {

constexpr int kFeatures = 3;

std::unique_ptr<Model> MakeModel(const char* cell) {
  const std::string spec = std::string(R"({"kind": "regressor", "input": {"features": 3},
      "recurrent": {"cell": ")") +
                           cell + R"(", "hidden": [5, 7]}, "head": {"hidden": [4]},
      "output": {"width": 2}})";
  auto model = Model::Create(spec, 17);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return std::move(model).value();
}

// The windowed prediction over `history` (one device's readings so far).
std::vector<float> Windowed(Model& model, const std::vector<float>& history) {
  Batch batch;
  batch.Resize(1, static_cast<int>(history.size() / kFeatures), kFeatures, 0);
  batch.x = history;
  std::vector<float> out;
  EXPECT_TRUE(model.Predict(batch, &out).ok());
  return out;
}

// Windowed and streaming differ only in GEMM blocking (different batch sizes), so they agree to
// float rounding; 1e-5 relative to the output scale.
void ExpectClose(const std::vector<float>& a, const float* b, const std::string& what) {
  for (size_t k = 0; k < a.size(); ++k) {
    EXPECT_NEAR(a[k], b[k], 1e-5 * std::max(1.0f, std::abs(a[k]))) << what << " [" << k << "]";
  }
}

class StreamingTest : public ::testing::TestWithParam<const char*> {};

TEST_P(StreamingTest, EveryDeviceEveryTickEqualsWindowed) {
  auto model = MakeModel(GetParam());
  auto stream = model->NewStreamingPredictor();
  ASSERT_TRUE(stream.ok());
  const std::vector<std::string> devices = {"a", "b", "c", "d"};
  std::map<std::string, std::vector<float>> history;
  kernels::Rng rng(5);
  for (int tick = 0; tick < 6; ++tick) {
    std::vector<float> readings(devices.size() * kFeatures), out(devices.size() * 2);
    for (float& r : readings) r = static_cast<float>(rng.Uniform(-1, 1));
    ASSERT_TRUE((*stream)->Advance(devices, readings.data(), out.data()).ok());
    for (size_t d = 0; d < devices.size(); ++d) {
      auto& h = history[devices[d]];
      h.insert(h.end(), readings.begin() + d * kFeatures, readings.begin() + (d + 1) * kFeatures);
      ExpectClose(Windowed(*model, h), out.data() + d * 2,
                  devices[d] + " tick " + std::to_string(tick));
    }
  }
  EXPECT_EQ((*stream)->device_count(), 4);
}

TEST_P(StreamingTest, SubsetsInAnyOrderAndResetEqualWindowed) {
  auto model = MakeModel(GetParam());
  auto stream = model->NewStreamingPredictor();
  ASSERT_TRUE(stream.ok());
  std::map<std::string, std::vector<float>> history;
  kernels::Rng rng(6);
  const std::vector<std::vector<std::string>> ticks = {{"x"},           {"y", "x"}, {"z", "y"},
                                                       {"x", "z", "y"}, {"y"},      {"z", "x"}};
  for (size_t tick = 0; tick < ticks.size(); ++tick) {
    if (tick == 4) {
      ASSERT_TRUE((*stream)->Reset("x").ok());
      history["x"].clear();
    }
    const auto& devices = ticks[tick];
    std::vector<float> readings(devices.size() * kFeatures), out(devices.size() * 2);
    for (float& r : readings) r = static_cast<float>(rng.Uniform(-1, 1));
    ASSERT_TRUE((*stream)->Advance(devices, readings.data(), out.data()).ok());
    for (size_t d = 0; d < devices.size(); ++d) {
      auto& h = history[devices[d]];
      h.insert(h.end(), readings.begin() + d * kFeatures, readings.begin() + (d + 1) * kFeatures);
      ExpectClose(Windowed(*model, h), out.data() + d * 2,
                  devices[d] + " tick " + std::to_string(tick));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cells, StreamingTest,
                         ::testing::Values("lstm", "rnn", "gru", "gru_classic"));

TEST(StreamingErrorsTest, RefusesBadTicksWithoutChangingState) {
  auto model = MakeModel("lstm");
  auto stream = model->NewStreamingPredictor();
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ((*stream)->Slot("a"), 0);
  EXPECT_EQ((*stream)->Slot("b"), 1);
  EXPECT_EQ((*stream)->Slot("a"), 0);
  std::vector<float> readings(2 * kFeatures, 0.5f), out(4), first(4), again(4);
  EXPECT_TRUE((*stream)->AdvanceSlots({0, 0}, readings.data(), out.data()).IsInvalidArgument());
  EXPECT_TRUE((*stream)->AdvanceSlots({0, 7}, readings.data(), out.data()).IsInvalidArgument());
  EXPECT_TRUE((*stream)->Reset("nope").IsNotFound());
  // The refused ticks changed nothing: a fresh predictor gives the same first output.
  ASSERT_TRUE((*stream)->AdvanceSlots({0, 1}, readings.data(), first.data()).ok());
  auto fresh = model->NewStreamingPredictor();
  ASSERT_TRUE((*fresh)->Advance({"a", "b"}, readings.data(), again.data()).ok());
  EXPECT_EQ(first, again);
  EXPECT_FALSE(Model::Create(R"({"kind": "gan", "window": {"steps": 4, "features": 1},
      "generator": {"hidden": [2]}, "discriminator": {"hidden": [2]}})",
                             1)
                   .value()
                   ->NewStreamingPredictor()
                   .ok());
}

TEST(StreamingErrorsTest, SnapshotIgnoresLaterTraining) {
  auto model = MakeModel("lstm");
  auto stream = model->NewStreamingPredictor();
  ASSERT_TRUE(stream.ok());
  std::vector<float> reading(kFeatures, 0.3f), before(2), after(2);
  ASSERT_TRUE((*stream)->Advance({"a"}, reading.data(), before.data()).ok());
  // Load different weights into the model; the predictor keeps its snapshot.
  auto other = Model::Create(model->spec_json(), 99);
  ASSERT_TRUE(other.ok());
  auto stream2 = (*other)->NewStreamingPredictor();
  ASSERT_TRUE((*stream2)->Advance({"a"}, reading.data(), after.data()).ok());
  EXPECT_NE(before, after);
}

}  // namespace
}  // namespace nemesyst
