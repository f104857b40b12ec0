// CSV field splitting (RFC 4180 quoting) used by ingest's line reader.
#include "stream/line_reader.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

namespace nemesyst::stream {
namespace {

TEST(CsvSplitTest, Rfc4180Fields) {
  std::vector<std::string_view> fields;
  std::deque<std::string> scratch;
  std::string why;
  int column = 0;
  ASSERT_TRUE(SplitCsv("a,,c", false, &fields, &scratch, &why, &column));
  EXPECT_EQ(fields, (std::vector<std::string_view>{"a", "", "c"}));
  ASSERT_TRUE(SplitCsv("\"x,y\",\"he said \"\"hi\"\"\",\"\",z,\"multi\nline\"", true, &fields,
                       &scratch, &why, &column));
  EXPECT_EQ(fields,
            (std::vector<std::string_view>{"x,y", "he said \"hi\"", "", "z", "multi\nline"}));
  EXPECT_FALSE(SplitCsv("a,\"open", true, &fields, &scratch, &why, &column));
  EXPECT_EQ(column, 2);
  EXPECT_FALSE(SplitCsv("a,b\"c", true, &fields, &scratch, &why, &column));
  EXPECT_EQ(column, 2);
}

}  // namespace
}  // namespace nemesyst::stream
