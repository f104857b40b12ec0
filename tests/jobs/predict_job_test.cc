// Predicting with a registered model: the stored pipeline is re-applied exactly (a readings file
// and the store stream give the same predictions), streaming agrees with windowed where it must,
// and inputs that do not fit the model are refused clearly.
#include "nemesyst/predict_job.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "nemesyst/pipeline.h"
#include "nemesyst/timestamp.h"
#include "tests/testing/small_fleet.h"

namespace nemesyst {
namespace {

using Key = std::pair<std::string, int64_t>;

std::map<Key, PredictionRow> Collect(const Store& store, PredictJobOptions o) {
  std::map<Key, PredictionRow> out;
  auto r = RunPredictJob(store, o, [&](const PredictionRow& row) {
    out[{row.device, row.timestamp_us}] = row;
    return Status::OK();
  });
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return out;
}

class PredictJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = RunTrainJob(*fleet_.store, fleet_.Options("lstm", 1));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    version_ = r->candidate;
  }
  testing::SmallFleet fleet_;
  uint32_t version_ = 0;
};

TEST_F(PredictJobTest, FileAndStreamGiveTheSamePredictionsThroughTheStoredPipeline) {
  PredictJobOptions o;
  o.model = "lstm@" + std::to_string(version_);
  o.stream = "fleet";
  o.device = "store-0001/case-02";
  const auto from_stream = Collect(*fleet_.store, o);
  ASSERT_GT(from_stream.size(), 5u);
  for (const auto& [key, row] : from_stream) {
    ASSERT_TRUE(row.label_s.has_value());
    EXPECT_GE(row.prediction_s, 0);
    EXPECT_LE(row.prediction_s, 3600);
  }
  // The same device's readings as a CSV file (ISO timestamps), predicted from the file alone.
  auto records = ReadRecords(*fleet_.store, "fleet", RecordQuery{.device_id = o.device});
  ASSERT_TRUE(records.ok());
  std::string csv = "device,timestamp";
  for (const std::string& f : refrigeration::SimulatorFields()) csv += "," + f;
  csv += "\n";
  for (const Record& r : *records) {
    char ts[40];
    ts[FormatIso8601(r.timestamp_us, ts)] = 0;
    csv += r.device_id + "," + ts;
    for (double v : r.values) {
      char buf[40];
      std::snprintf(buf, sizeof(buf), ",%.17g", v);
      csv += buf;
    }
    csv += "\n";
  }
  const std::string path = fleet_.dir.Sub("readings.csv");
  testing::WriteFile(path, csv);
  PredictJobOptions from_file = o;
  from_file.stream.clear();
  from_file.input_path = path;
  from_file.model = "lstm:candidate";
  const auto file_rows = Collect(*fleet_.store, from_file);
  ASSERT_EQ(file_rows.size(), from_stream.size());
  for (const auto& [key, row] : from_stream) {
    auto it = file_rows.find(key);
    ASSERT_NE(it, file_rows.end());
    EXPECT_DOUBLE_EQ(it->second.prediction_s, row.prediction_s);
    EXPECT_DOUBLE_EQ(*it->second.label_s, *row.label_s);
  }
}

TEST_F(PredictJobTest, StreamingEqualsWindowedAfterAFullWindowAndCoversEveryReading) {
  auto m = LoadModelForPrediction(*fleet_.store, "lstm@" + std::to_string(version_));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto records = ReadRecords(*fleet_.store, "fleet");
  ASSERT_TRUE(records.ok());
  std::map<Key, double> windowed;
  PredictJobResult wr, sr;
  ASSERT_TRUE(PredictRecords(
                  *m, *records, false,
                  [&](const PredictionRow& r) {
                    windowed[{r.device, r.timestamp_us}] = r.prediction_s;
                    return Status::OK();
                  },
                  &wr)
                  .ok());
  std::vector<PredictionRow> first;
  size_t streamed = 0;
  ASSERT_TRUE(PredictRecords(
                  *m, *records, true,
                  [&](const PredictionRow&) {
                    ++streamed;
                    return Status::OK();
                  },
                  &sr, &first)
                  .ok());
  EXPECT_GT(streamed, windowed.size()) << "streaming predicts every reading, windows every stride";
  size_t compared = 0;
  for (const PredictionRow& r : first) {
    auto it = windowed.find({r.device, r.timestamp_us});
    if (it == windowed.end()) continue;
    EXPECT_NEAR(r.prediction_s, it->second, 0.05) << r.device << " " << r.timestamp_us;
    ++compared;
  }
  EXPECT_GT(compared, 0u);
  // PredictAt: one prediction per device at an instant, equal to the windowed one there.
  const auto& [key, value] = *windowed.rbegin();
  auto at = PredictAt(*m, *records, key.second);
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  bool found = false;
  for (const PredictionRow& r : *at) {
    if (r.device == key.first) {
      EXPECT_NEAR(r.prediction_s, value, 0.05);
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(PredictJobTest, BadReferencesAndMismatchedStreamsAreClearErrors) {
  PredictJobOptions o;
  o.stream = "fleet";
  o.model = "nosuch";
  auto r = RunPredictJob(*fleet_.store, o, [](const PredictionRow&) { return Status::OK(); });
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_NE(r.status().message().find("no model named 'nosuch'"), std::string_view::npos);
  o.model = "lstm:production";
  r = RunPredictJob(*fleet_.store, o, [](const PredictionRow&) { return Status::OK(); });
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_NE(r.status().message().find("no alias 'production'"), std::string_view::npos)
      << r.status().ToString();
  EXPECT_NE(r.status().message().find("candidate"), std::string_view::npos)
      << "the message lists the aliases that exist";
  o.model = "lstm@99";
  r = RunPredictJob(*fleet_.store, o, [](const PredictionRow&) { return Status::OK(); });
  EXPECT_TRUE(r.status().IsNotFound());
  o.model = "lstm@x";
  r = RunPredictJob(*fleet_.store, o, [](const PredictionRow&) { return Status::OK(); });
  EXPECT_TRUE(r.status().IsInvalidArgument());
  // A stream with other fields than the model was trained on.
  StreamSchema other;
  other.fields.push_back({"temperature_c"});
  ASSERT_TRUE(fleet_.store->CreateStream("other", other).ok());
  o.model = "lstm";
  o.stream = "other";
  r = RunPredictJob(*fleet_.store, o, [](const PredictionRow&) { return Status::OK(); });
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("trained on stream 'fleet'"), std::string_view::npos)
      << r.status().ToString();
}

}  // namespace
}  // namespace nemesyst
