#include "nemesyst/predictions.h"

#include <gtest/gtest.h>

namespace nemesyst {
namespace {

TEST(PredictionIoTest, CsvAndJsonLinesRoundTrip) {
  std::vector<PredictionRow> rows = {{"store-0001/case-02", 1767571200000000, 1843.2, 1790.0},
                                     {"store-0001/case-03", 1767571260000000, 12.5, std::nullopt}};
  for (auto format : {PredictionFormat::kCsv, PredictionFormat::kJsonLines}) {
    std::string text = format == PredictionFormat::kCsv ? PredictionCsvHeader() : "";
    for (const auto& r : rows) text += FormatPrediction(r, format);
    auto back = ParsePredictions(text, "mem");
    ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << text;
    ASSERT_EQ(back->size(), 2u);
    EXPECT_EQ((*back)[0].device, "store-0001/case-02");
    EXPECT_EQ((*back)[0].timestamp_us, 1767571200000000);
    EXPECT_DOUBLE_EQ((*back)[0].prediction_s, 1843.2);
    EXPECT_DOUBLE_EQ(*(*back)[0].label_s, 1790);
    EXPECT_FALSE((*back)[1].label_s.has_value());
  }
}

TEST(PredictionIoTest, ErrorsNameSourceLineAndField) {
  auto r = ParsePredictions("device,timestamp_us,prediction_s,label_s\na,1,2,\nb,x,2,\n", "p.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("p.csv:3"), std::string_view::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("timestamp_us"), std::string_view::npos);
  auto bad_header = ParsePredictions("dev,ts\n", "p.csv");
  EXPECT_NE(bad_header.status().message().find("p.csv:1"), std::string_view::npos);
  auto json = ParsePredictions(
      "{\"device\":\"a\",\"timestamp_us\":1,\"prediction_s\":2}\n{\"device\":"
      "\"a\",\"timestamp_us\":1}\n",
      "p.jsonl");
  EXPECT_NE(json.status().message().find("p.jsonl:2: missing field 'prediction_s'"),
            std::string_view::npos)
      << json.status().ToString();
  auto broken = ParsePredictions("{\"device\":\n", "p.jsonl");
  EXPECT_TRUE(broken.status().IsInvalidArgument());
  EXPECT_TRUE(ReadPredictionsFile("/nonexistent/p.csv").status().IsNotFound());
  EXPECT_TRUE(ParsePredictionFormat("xml").status().IsInvalidArgument());
}

TEST(PredictionIoTest, LowerBoundColumnRoundTripsAndOldFilesStillRead) {
  std::vector<PredictionRow> rows = {
      {"store-0001/case-02", 1767571200000000, 1843.2, 1790.0, 1411.0},
      {"store-0001/case-03", 1767571260000000, 12.5, std::nullopt, std::nullopt}};
  EXPECT_EQ(PredictionCsvHeader(), "device,timestamp_us,prediction_s,label_s,lower_s\n");
  EXPECT_EQ(FormatPrediction(rows[0], PredictionFormat::kCsv),
            "store-0001/case-02,1767571200000000,1843.2,1790.0,1411.0\n");
  EXPECT_EQ(FormatPrediction(rows[1], PredictionFormat::kCsv),
            "store-0001/case-03,1767571260000000,12.5,,\n");
  EXPECT_NE(FormatPrediction(rows[0], PredictionFormat::kJsonLines).find("\"lower_s\":1411.0}"),
            std::string::npos);
  EXPECT_EQ(FormatPrediction(rows[1], PredictionFormat::kJsonLines).find("lower_s"),
            std::string::npos);
  for (auto format : {PredictionFormat::kCsv, PredictionFormat::kJsonLines}) {
    std::string text = format == PredictionFormat::kCsv ? PredictionCsvHeader() : "";
    for (const auto& r : rows) text += FormatPrediction(r, format);
    auto back = ParsePredictions(text, "mem");
    ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << text;
    ASSERT_EQ(back->size(), 2u);
    ASSERT_TRUE((*back)[0].lower_s.has_value());
    EXPECT_DOUBLE_EQ(*(*back)[0].lower_s, 1411.0);
    EXPECT_FALSE((*back)[1].lower_s.has_value());
  }
  // Written before lower_s existed: four columns, no lower bound.
  auto old =
      ParsePredictions("device,timestamp_us,prediction_s,label_s\na,1,2,3\nb,4,5,\n", "o.csv");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  ASSERT_EQ(old->size(), 2u);
  EXPECT_DOUBLE_EQ(*(*old)[0].label_s, 3);
  EXPECT_FALSE((*old)[0].lower_s.has_value());
  // A five-column row under the old header (and the reverse) is refused.
  EXPECT_FALSE(
      ParsePredictions("device,timestamp_us,prediction_s,label_s\na,1,2,3,4\n", "o.csv").ok());
  EXPECT_FALSE(
      ParsePredictions("device,timestamp_us,prediction_s,label_s,lower_s\na,1,2,3\n", "n.csv")
          .ok());
}

TEST(PredictionIoTest, BadLowerBoundNamesLineAndField) {
  auto csv = ParsePredictions(
      "device,timestamp_us,prediction_s,label_s,lower_s\na,1,2,3,1\nb,1,2,3,low\n", "p.csv");
  ASSERT_FALSE(csv.ok());
  EXPECT_NE(csv.status().message().find("p.csv:3: lower_s 'low' is not a finite number"),
            std::string_view::npos)
      << csv.status().ToString();
  auto json = ParsePredictions(
      "{\"device\":\"a\",\"timestamp_us\":1,\"prediction_s\":2,\"lower_s\":\"x\"}\n", "p.jsonl");
  ASSERT_FALSE(json.ok());
  EXPECT_NE(json.status().message().find("p.jsonl:1: field 'lower_s' must be a number"),
            std::string_view::npos)
      << json.status().ToString();
}

TEST(PredictionIoTest, LatestPerDevice) {
  auto latest =
      LatestPerDevice({{"b", 5, 1, {}}, {"a", 3, 2, {}}, {"b", 9, 3, {}}, {"a", 1, 4, {}}});
  ASSERT_EQ(latest.size(), 2u);
  EXPECT_EQ(latest[0].device, "a");
  EXPECT_DOUBLE_EQ(latest[0].prediction_s, 2);
  EXPECT_DOUBLE_EQ(latest[1].prediction_s, 3);
}

}  // namespace
}  // namespace nemesyst
