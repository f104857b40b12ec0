// LiveModel: the serving state of a model. Readings fed one at a time in any batching give the
// predictions `predict --streaming` gives; a rebuilt state predicts every device at its newest
// reading; windowed requests equal the windowed predictions; misuse is a clear error.
#include "nemesyst/live_model.h"

#include <gtest/gtest.h>

#include <map>

#include "nemesyst/pipeline.h"
#include "tests/testing/small_fleet.h"

namespace nemesyst {
namespace {

using Key = std::pair<std::string, int64_t>;

class LiveModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = RunTrainJob(*fleet_.store, fleet_.Options("lstm", 1));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ref_ = "lstm@" + std::to_string(r->candidate);
    auto records = ReadRecords(*fleet_.store, "fleet");
    ASSERT_TRUE(records.ok());
    records_ = std::move(*records);
    std::stable_sort(records_.begin(), records_.end(), [](const Record& a, const Record& b) {
      return a.timestamp_us < b.timestamp_us;
    });
  }

  std::unique_ptr<LiveModel> Live() {
    auto m = LoadModelForPrediction(*fleet_.store, ref_);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    auto live = LiveModel::Create(std::move(*m));
    EXPECT_TRUE(live.ok()) << live.status().ToString();
    return std::move(*live);
  }

  std::map<Key, double> Streamed() {
    auto m = LoadModelForPrediction(*fleet_.store, ref_);
    EXPECT_TRUE(m.ok());
    std::map<Key, double> out;
    PredictJobResult result;
    EXPECT_TRUE(PredictRecords(
                    *m, records_, true,
                    [&](const PredictionRow& r) {
                      out[{r.device, r.timestamp_us}] = r.prediction_s;
                      return Status::OK();
                    },
                    &result)
                    .ok());
    return out;
  }

  testing::SmallFleet fleet_;
  std::string ref_;
  std::vector<Record> records_;  // in time order
};

// A serving node sees readings one message at a time: batching must not change a prediction.
TEST_F(LiveModelTest, ReadingsOneByOneOrInBatchesGiveTheStreamingPredictions) {
  const std::map<Key, double> expected = Streamed();
  ASSERT_GT(expected.size(), 100u);
  for (size_t batch : {size_t{1}, size_t{7}}) {
    std::unique_ptr<LiveModel> live = Live();
    std::map<Key, double> got;
    std::vector<PredictionRow> out;
    for (size_t i = 0; i < records_.size(); i += batch) {
      out.clear();
      const size_t n = std::min(batch, records_.size() - i);
      ASSERT_TRUE(live->Observe(std::span<const Record>(records_).subspan(i, n), &out).ok());
      for (const PredictionRow& r : out) {
        got[{r.device, r.timestamp_us}] = r.prediction_s;
        const PredictionRow* latest = live->Latest(r.device);
        ASSERT_NE(latest, nullptr);
        EXPECT_EQ(latest->timestamp_us, r.timestamp_us);
      }
    }
    ASSERT_EQ(got.size(), expected.size()) << "batch " << batch;
    for (const auto& [key, value] : expected) {
      ASSERT_EQ(got.count(key), 1u) << key.first << " " << key.second;
      EXPECT_NEAR(got[key], value, 0.05) << key.first << " batch " << batch;
    }
    EXPECT_EQ(live->device_count(), 12u);
    EXPECT_GT(live->case_steps(), static_cast<int64_t>(records_.size()) / 2);
  }
}

// A new version (or a restarted node) rebuilds its state from the stream's last window: every
// device whose last readings make a full window has a prediction at its newest reading, through
// the seq the rebuild read; a windowed request over the same readings is answered at that time.
TEST_F(LiveModelTest, RebuildReplaysTheLastWindowOfEveryDevice) {
  std::unique_ptr<LiveModel> rebuilt = Live();
  auto through = rebuilt->Rebuild(*fleet_.store, "fleet");
  ASSERT_TRUE(through.ok()) << through.status().ToString();
  auto info = fleet_.store->GetStreamInfo("fleet");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(*through, info->last_seq);
  std::map<std::string, std::vector<Record>> by_device;
  for (const Record& r : records_) by_device[r.device_id].push_back(r);
  ASSERT_EQ(by_device.size(), 12u);
  size_t predicted = 0;
  for (const auto& [device, readings] : by_device) {
    const PredictionRow* latest = rebuilt->Latest(device);
    if (latest == nullptr) continue;  // its last readings had a gap
    ++predicted;
    EXPECT_EQ(latest->timestamp_us, readings.back().timestamp_us) << device;
    auto windowed = rebuilt->PredictWindow(readings);
    ASSERT_TRUE(windowed.ok()) << windowed.status().ToString();
    EXPECT_EQ(windowed->timestamp_us, latest->timestamp_us);
    EXPECT_GE(latest->prediction_s, 0);
    EXPECT_LE(latest->prediction_s, 3600);
  }
  EXPECT_GE(predicted, 10u) << "most devices report without gaps at the end of the feed";
  // A rebuilt state continues like any other: the next readings advance it.
  Record next = by_device.begin()->second.back();
  next.timestamp_us += 60'000'000;
  std::vector<PredictionRow> out;
  ASSERT_TRUE(rebuilt->Observe({&next, 1}, &out).ok());
}

// A windowed request is the windowed prediction of that window (PredictAt), whatever live
// state holds; readings that cannot make a window are refused, saying why.
TEST_F(LiveModelTest, WindowRequestsEqualWindowedPredictionsAndBadWindowsAreRefused) {
  std::unique_ptr<LiveModel> live = Live();
  const std::string device = "store-0001/case-02";
  std::vector<Record> mine;
  for (const Record& r : records_) {
    if (r.device_id == device) mine.push_back(r);
  }
  ASSERT_GT(mine.size(), 40u);
  auto m = LoadModelForPrediction(*fleet_.store, ref_);
  ASSERT_TRUE(m.ok());
  auto at = PredictAt(*m, mine, mine.back().timestamp_us);
  ASSERT_TRUE(at.ok());
  ASSERT_EQ(at->size(), 1u);
  auto windowed = live->PredictWindow(mine);
  ASSERT_TRUE(windowed.ok()) << windowed.status().ToString();
  EXPECT_DOUBLE_EQ(windowed->prediction_s, at->front().prediction_s);
  EXPECT_EQ(live->device_count(), 0u) << "a window request leaves live state alone";

  auto too_short = live->PredictWindow({mine.end() - 3, mine.end()});
  EXPECT_EQ(too_short.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_short.status().message().find("full contiguous window"), std::string::npos);
  std::vector<Record> mixed = mine;
  mixed.back().device_id = "store-0002/case-01";
  EXPECT_NE(live->PredictWindow(mixed).status().message().find("one device"), std::string::npos);
  std::vector<Record> narrow = mine;
  narrow.back().values.pop_back();
  EXPECT_NE(live->PredictWindow(narrow).status().message().find("values"), std::string::npos);
  EXPECT_EQ(live->PredictWindow({}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LiveModelTest, RebuildRefusesAStreamWithOtherFieldsAndCreateRefusesNoModel) {
  std::unique_ptr<LiveModel> live = Live();
  StreamSchema other;
  other.fields.push_back(FieldSpec{.name = "x"});
  ASSERT_TRUE(fleet_.store->CreateStream("other", other).ok());
  auto r = live->Rebuild(*fleet_.store, "other");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("has fields [x]"), std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(live->Rebuild(*fleet_.store, "missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(LiveModel::Create(LoadedModel{}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nemesyst
