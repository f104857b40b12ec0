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

// Readings as a CSV file with ISO timestamps, with or without the label column (safe_off_s).
void WriteReadingsCsv(const std::vector<Record>& records, const std::string& path,
                      bool with_label) {
  const std::vector<std::string>& fields = refrigeration::SimulatorFields();
  std::string csv = "device,timestamp";
  for (const std::string& f : fields) {
    if (with_label || f != "safe_off_s") csv += "," + f;
  }
  csv += "\n";
  for (const Record& r : records) {
    char ts[40];
    ts[FormatIso8601(r.timestamp_us, ts)] = 0;
    csv += r.device_id + "," + ts;
    for (size_t i = 0; i < r.values.size(); ++i) {
      if (!with_label && fields[i] == "safe_off_s") continue;
      char buf[40];
      std::snprintf(buf, sizeof(buf), ",%.17g", r.values[i]);
      csv += buf;
    }
    csv += "\n";
  }
  testing::WriteFile(path, csv);
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
  const std::string path = fleet_.dir.Sub("readings.csv");
  WriteReadingsCsv(*records, path, /*with_label=*/true);
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

// The label is what is being predicted: a readings file without it is predicted the same (in
// both modes), and its rows carry no label.
TEST_F(PredictJobTest, FileWithoutTheLabelColumnIsPredictedWithoutLabels) {
  const std::string device = "store-0001/case-02";
  auto records = ReadRecords(*fleet_.store, "fleet", RecordQuery{.device_id = device});
  ASSERT_TRUE(records.ok());
  WriteReadingsCsv(*records, fleet_.dir.Sub("labelled.csv"), true);
  WriteReadingsCsv(*records, fleet_.dir.Sub("unlabelled.csv"), false);
  for (bool streaming : {false, true}) {
    PredictJobOptions o;
    o.model = "lstm@" + std::to_string(version_);
    o.streaming = streaming;
    o.input_path = fleet_.dir.Sub("labelled.csv");
    const auto labelled = Collect(*fleet_.store, o);
    o.input_path = fleet_.dir.Sub("unlabelled.csv");
    const auto unlabelled = Collect(*fleet_.store, o);
    ASSERT_GT(labelled.size(), 5u);
    ASSERT_EQ(unlabelled.size(), labelled.size()) << "streaming " << streaming;
    for (const auto& [key, row] : labelled) {
      auto it = unlabelled.find(key);
      ASSERT_NE(it, unlabelled.end());
      EXPECT_DOUBLE_EQ(it->second.prediction_s, row.prediction_s);
      EXPECT_TRUE(row.label_s.has_value());
      EXPECT_FALSE(it->second.label_s.has_value());
    }
  }
}

// Windowed and streaming predictions of `m` over `records`: every streaming prediction made
// exactly a full window after a restart is compared with the windowed one of the same window
// (they must agree).
struct WindowedVsStreaming {
  std::map<Key, double> windowed;
  size_t streamed = 0;  // streaming predictions made
  size_t compared = 0;  // of those, compared with a windowed one
};
WindowedVsStreaming CompareWindowedWithStreaming(LoadedModel& m,
                                                 const std::vector<Record>& records) {
  WindowedVsStreaming out;
  PredictJobResult wr, sr;
  EXPECT_TRUE(PredictRecords(
                  m, records, false,
                  [&](const PredictionRow& r) {
                    out.windowed[{r.device, r.timestamp_us}] = r.prediction_s;
                    return Status::OK();
                  },
                  &wr)
                  .ok());
  std::vector<PredictionRow> first;
  EXPECT_TRUE(PredictRecords(
                  m, records, true,
                  [&](const PredictionRow&) {
                    ++out.streamed;
                    return Status::OK();
                  },
                  &sr, &first)
                  .ok());
  for (const PredictionRow& r : first) {
    auto it = out.windowed.find({r.device, r.timestamp_us});
    if (it == out.windowed.end()) continue;
    EXPECT_NEAR(r.prediction_s, it->second, 0.05)
        << m.ref << " " << r.device << " " << r.timestamp_us;
    ++out.compared;
  }
  return out;
}

// PredictAt: one prediction per device at an instant, equal to the windowed one there.
void ExpectPredictAtEqualsWindowed(LoadedModel& m, const std::vector<Record>& records,
                                   const std::map<Key, double>& windowed) {
  ASSERT_FALSE(windowed.empty());
  const auto& [key, value] = *windowed.rbegin();
  auto at = PredictAt(m, records, key.second);
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  bool found = false;
  for (const PredictionRow& r : *at) {
    if (r.device == key.first) {
      EXPECT_NEAR(r.prediction_s, value, 0.05) << m.ref;
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

// A many-to-many model (output per step) predicts, for a window, its LAST step: the one stamped
// with the window's end time, which is also what streaming gives for that reading.
TEST_F(PredictJobTest, PerStepModelPredictsTheWindowsLastStep) {
  auto trained = fleet_.store->ReadModelBlob("lstm", version_);
  ASSERT_TRUE(trained.ok());
  ModelFileMetadata meta;
  ASSERT_TRUE(Model::Deserialize(*trained, {}, &meta).ok());
  std::erase_if(meta, [](const auto& kv) { return kv.first.rfind("nemesyst.", 0) == 0; });
  const int steps = fleet_.pipeline.window_length;
  const std::string spec = "{\"kind\": \"regressor\", \"input\": {\"features\": " +
                           std::to_string(refrigeration::kDemoFeatures) +
                           ", \"steps\": " + std::to_string(steps) +
                           "}, \"recurrent\": {\"cell\": \"lstm\", \"hidden\": [8]}, "
                           "\"output\": {\"width\": 1, \"per_step\": true}}";
  auto per_step = Model::Create(spec, 5);
  ASSERT_TRUE(per_step.ok()) << per_step.status().ToString();
  ASSERT_EQ((*per_step)->label_width(), steps);
  auto blob = (*per_step)->Serialize(meta);
  ASSERT_TRUE(blob.ok());
  ModelMetadata registry;
  registry.kind = "lstm";
  ASSERT_TRUE(fleet_.store->PutModel("per_step", *blob, registry).ok());
  auto m = LoadModelForPrediction(*fleet_.store, "per_step@1");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto records = ReadRecords(*fleet_.store, "fleet");
  ASSERT_TRUE(records.ok());
  const WindowedVsStreaming c = CompareWindowedWithStreaming(*m, *records);
  EXPECT_GT(c.compared, 0u);
  ExpectPredictAtEqualsWindowed(*m, *records, c.windowed);
}

TEST_F(PredictJobTest, StreamingEqualsWindowedAfterAFullWindowAndCoversEveryReading) {
  auto m = LoadModelForPrediction(*fleet_.store, "lstm@" + std::to_string(version_));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto records = ReadRecords(*fleet_.store, "fleet");
  ASSERT_TRUE(records.ok());
  const WindowedVsStreaming c = CompareWindowedWithStreaming(*m, *records);
  EXPECT_GT(c.streamed, c.windowed.size())
      << "streaming predicts every reading, windows every stride";
  EXPECT_GT(c.compared, 0u);
  ExpectPredictAtEqualsWindowed(*m, *records, c.windowed);
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
