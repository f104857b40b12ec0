#include "common/json_number.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace nemesyst {
namespace {

using json = nlohmann::json;

TEST(JsonInteger, ReadsIntegersThatFit) {
  EXPECT_EQ(JsonInteger<uint32_t>(json(4294967295u)), 4294967295u);
  EXPECT_EQ(JsonInteger<int64_t>(json(-5)), -5);
  EXPECT_EQ(JsonInteger<uint64_t>(json::parse("18446744073709551615")), UINT64_MAX);
  EXPECT_EQ(JsonInteger<int32_t>(json(INT32_MIN)), INT32_MIN);
}

TEST(JsonInteger, RefusesFractionsAndHugeNumbers) {
  // The fuzzer's case: nlohmann's own get<uint32_t>() casts 1e72 (undefined behaviour).
  const json huge = json::parse("1000044444444444444444444444444444444444444444444444444444444444");
  ASSERT_TRUE(huge.is_number_float());
  EXPECT_THROW(JsonInteger<uint32_t>(huge), json::type_error);
  EXPECT_THROW(JsonInteger<int64_t>(json(1.5)), json::type_error);
  EXPECT_THROW(JsonInteger<int64_t>(json("7")), json::type_error);
  EXPECT_THROW(JsonInteger<int64_t>(json(true)), json::type_error);
}

TEST(JsonInteger, RefusesIntegersOutsideTheType) {
  EXPECT_THROW(JsonInteger<uint32_t>(json(uint64_t{1} << 40)), json::out_of_range);
  EXPECT_THROW(JsonInteger<uint64_t>(json(-1)), json::out_of_range);
  EXPECT_THROW(JsonInteger<int64_t>(json::parse("18446744073709551615")), json::out_of_range);
  EXPECT_THROW(JsonInteger<int32_t>(json(int64_t{INT32_MIN} - 1)), json::out_of_range);
  EXPECT_THROW(JsonInteger<uint8_t>(json(256)), json::out_of_range);
}

TEST(JsonInteger, KeyFormFallsBackOnlyWhenAbsent) {
  const json j = {{"n", 7}, {"bad", -1}};
  EXPECT_EQ(JsonInteger(j, "n", uint32_t{1}), 7u);
  EXPECT_EQ(JsonInteger(j, "missing", uint32_t{1}), 1u);
  EXPECT_THROW(JsonInteger(j, "bad", uint32_t{1}), json::out_of_range);
}

}  // namespace
}  // namespace nemesyst
