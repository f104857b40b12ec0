// Timestamp text formats (nemesyst/timestamp.h) used by ingest and the simulator's output.
#include "nemesyst/timestamp.h"

#include <gtest/gtest.h>

namespace nemesyst {
namespace {

constexpr int64_t kT0 = 1767571200LL * 1000000;  // 2026-01-05T00:00:00Z

TEST(TimestampTest, ParsesIso8601Variants) {
  int64_t us = 0;
  ASSERT_TRUE(ParseIso8601("2026-01-05T00:00:00Z", &us));
  EXPECT_EQ(us, kT0);
  ASSERT_TRUE(ParseIso8601("2026-01-05 00:01", &us));
  EXPECT_EQ(us, kT0 + 60000000);
  ASSERT_TRUE(ParseIso8601("2026-01-05T01:00:00.25+01:00", &us));
  EXPECT_EQ(us, kT0 + 250000);
  ASSERT_TRUE(ParseIso8601("2026-01-04T19:00:00-0500", &us));
  EXPECT_EQ(us, kT0);
  ASSERT_TRUE(ParseIso8601("1969-12-31T23:59:59.5Z", &us));
  EXPECT_EQ(us, -500000);
  ASSERT_TRUE(ParseIso8601("2024-02-29T00:00:00Z", &us));
  for (const char* bad : {"2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-05",
                          "2026-01-05T24:00:00Z", "2026-01-05T00:00:00Zx", "2026-01-05T00:00:00.Z",
                          "yesterday", "", "2026-01-05T00:00:00+25:00"}) {
    EXPECT_FALSE(ParseIso8601(bad, &us)) << bad;
  }
}

TEST(TimestampTest, ParsesEpochUnits) {
  int64_t us = 0;
  ASSERT_TRUE(ParseEpoch("1767571200", EpochUnit::kSeconds, &us));
  EXPECT_EQ(us, kT0);
  ASSERT_TRUE(ParseEpoch("1767571200.5", EpochUnit::kSeconds, &us));
  EXPECT_EQ(us, kT0 + 500000);
  ASSERT_TRUE(ParseEpoch("1767571200000", EpochUnit::kMilliseconds, &us));
  EXPECT_EQ(us, kT0);
  ASSERT_TRUE(ParseEpoch("1767571200000000", EpochUnit::kMicroseconds, &us));
  EXPECT_EQ(us, kT0);
  ASSERT_TRUE(ParseEpoch("1767571200000000999", EpochUnit::kNanoseconds, &us));
  EXPECT_EQ(us, kT0);
  ASSERT_TRUE(ParseEpoch("-1", EpochUnit::kSeconds, &us));
  EXPECT_EQ(us, -1000000);
  // The largest whole number of seconds that fits, then with a fraction that would overflow (a
  // signed overflow, found by ingest_fuzzer under UBSan).
  ASSERT_TRUE(ParseEpoch("9223372036854", EpochUnit::kSeconds, &us));
  EXPECT_EQ(us, int64_t{9223372036854} * 1000000);
  for (const char* bad : {"", "-", "1e9", "12a", ".", "99999999999999999999", "9223372036854.9",
                          "-9223372036854.9", "9223372036854775807.5"}) {
    EXPECT_FALSE(ParseEpoch(bad, EpochUnit::kSeconds, &us)) << bad;
  }
}

TEST(TimestampTest, FormatRoundTrips) {
  char buf[32];
  for (int64_t us :
       {kT0, kT0 + 1, kT0 + 86399999999, int64_t{0}, int64_t{-1500000}, int64_t{951782400000000}}) {
    const int n = FormatIso8601(us, buf);
    int64_t back = 0;
    ASSERT_TRUE(ParseIso8601(std::string_view(buf, n), &back)) << buf;
    EXPECT_EQ(back, us) << buf;
  }
  EXPECT_EQ(std::string(buf, FormatIso8601(kT0, buf)), "2026-01-05T00:00:00Z");
}

}  // namespace
}  // namespace nemesyst
