// IngestOptionsFromJson: the ingest options a client sends a node with each request.
#include <gtest/gtest.h>

#include "nemesyst/ingest.h"

namespace nemesyst {
namespace {

TEST(IngestOptionsFromJson, ReadsEveryField) {
  auto o = IngestOptionsFromJson(
      R"({"stream":"s","device_column":"dev","batch_rows":7,"ignore_unknown":true,"dry_run":true})");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->stream, "s");
  EXPECT_EQ(o->device_column, "dev");
  EXPECT_EQ(o->batch_rows, 7u);
  EXPECT_TRUE(o->ignore_unknown);
  EXPECT_TRUE(o->dry_run);
}

TEST(IngestOptionsFromJson, BadNumbersAreErrorsNamingTheField) {
  // 1e72 once reached a float-to-integer cast (undefined behaviour, found by the control fuzzer);
  // -1 and 2^32 once wrapped silently.
  for (const char* rows : {"1000044444444444444444444444444444444444444444444444444444444", "-1",
                           "4294967296", "2.5", "\"10\""}) {
    auto o = IngestOptionsFromJson(std::string(R"({"stream":"s","batch_rows":)") + rows + "}");
    ASSERT_FALSE(o.ok()) << rows;
    EXPECT_TRUE(o.status().IsInvalidArgument()) << rows;
    EXPECT_NE(o.status().message().find("batch_rows"), std::string::npos) << o.status().ToString();
  }
}

TEST(IngestOptionsFromJson, MissingStreamAndMalformedJsonAreErrors) {
  EXPECT_TRUE(IngestOptionsFromJson(R"({"batch_rows":5})").status().IsInvalidArgument());
  EXPECT_TRUE(IngestOptionsFromJson("{\"stream\":").status().IsInvalidArgument());
  EXPECT_TRUE(IngestOptionsFromJson("[1,2]").status().IsInvalidArgument());
}

}  // namespace
}  // namespace nemesyst
