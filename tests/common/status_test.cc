#include "nemesyst/status.h"

#include <gtest/gtest.h>

#include <set>
#include <type_traits>

namespace nemesyst {
namespace {

TEST(StatusTest, DefaultIsOkAndCostsOnePointer) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
  static_assert(sizeof(Status) == sizeof(void*), "an OK Status must be a null pointer");
  static_assert(std::is_nothrow_move_constructible_v<Status>);
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = Status::NotFound("stream 'store-1/case-2'");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_EQ(s.message(), "stream 'store-1/case-2'");
  EXPECT_EQ(s.ToString(), "not_found: stream 'store-1/case-2'");
}

TEST(StatusTest, OkCodeWithMessageIsStillOk) {
  Status s(StatusCode::kOk, "ignored");
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.message(), "");
}

TEST(StatusTest, CopyIsDeepAndMoveLeavesSourceValid) {
  Status a = Status::Corruption("checksum mismatch");
  Status b = a;
  EXPECT_EQ(a, b);
  Status c = std::move(a);
  EXPECT_EQ(c.ToString(), "corruption: checksum mismatch");
  b = Status::OK();
  EXPECT_TRUE(b.ok());
  EXPECT_EQ(c.code(), StatusCode::kCorruption);
}

TEST(StatusTest, WithContextPrefixesMessageAndKeepsCode) {
  Status s = Status::InvalidArgument("bad number").WithContext("data.csv:3:2");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "data.csv:3:2: bad number");
  EXPECT_TRUE(Status::OK().WithContext("anything").ok());
}

TEST(StatusTest, EveryCodeHasADistinctName) {
  std::set<std::string_view> names;
  for (int c = 0; c <= static_cast<int>(StatusCode::kPermissionDenied); ++c) {
    names.insert(StatusCodeName(static_cast<StatusCode>(c)));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(StatusCode::kPermissionDenied) + 1);
  EXPECT_EQ(names.count("unknown"), 0u);
}

Result<int> ParsePositive(int x) {
  if (x <= 0) return Status::InvalidArgument("not positive: " + std::to_string(x));
  return x;
}

Result<int> DoubledPositive(int x) {
  NEMESYST_ASSIGN_OR_RETURN(int v, ParsePositive(x));
  return 2 * v;
}

Status CheckBoth(int a, int b) {
  NEMESYST_RETURN_IF_ERROR(ParsePositive(a).status());
  NEMESYST_RETURN_IF_ERROR(ParsePositive(b).status());
  return Status::OK();
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> ok = ParsePositive(4);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 4);
  Result<int> bad = ParsePositive(-1);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "not positive: -1");
  EXPECT_EQ(bad.value_or(7), 7);
}

TEST(ResultTest, MacrosPropagate) {
  EXPECT_EQ(*DoubledPositive(5), 10);
  EXPECT_EQ(DoubledPositive(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckBoth(1, 2).ok());
  EXPECT_EQ(CheckBoth(1, -2).message(), "not positive: -2");
}

TEST(ResultTest, OkStatusIsNotAValue) {
  Result<std::string> r{Status::OK()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(3));
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 3);
}

// Reading the value of an error aborts in every build type (not only where assert is on), so a
// caller that skipped ok() cannot go on with an empty value.
TEST(ResultDeathTest, ReadingTheValueOfAnErrorAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Result<std::string> error{Status::NotFound("x")};
  EXPECT_DEATH((void)error.value(), "");
  EXPECT_DEATH((void)error->size(), "");
  EXPECT_DEATH((void)*error, "");
  EXPECT_DEATH((void)std::move(error).value(), "");
}

}  // namespace
}  // namespace nemesyst
