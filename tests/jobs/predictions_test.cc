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
