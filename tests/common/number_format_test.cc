// Numbers printed for people (common/number_format.h).
#include "common/number_format.h"

#include <gtest/gtest.h>

#include <string>

namespace nemesyst {
namespace {

TEST(NumberFormatTest, FixedRoundsToItsDigits) {
  EXPECT_EQ(Fixed(2.25, 0), "2");
  EXPECT_EQ(Fixed(-0.06, 1), "-0.1");
  EXPECT_EQ(Fixed(1043.04, 1), "1043.0");
  EXPECT_EQ(Fixed(7.0, 2), "7.00");
}

TEST(NumberFormatTest, FixedIsWholeWhateverTheMagnitude) {
  // Past the short buffer: 1e300 is 301 digits before the point, and none may be cut (a cut
  // number in a prediction file would read back as another number).
  const std::string big = Fixed(1e300, 1);
  ASSERT_EQ(big.size(), 301u + 2u);
  EXPECT_EQ(big.substr(0, 3), "100");
  EXPECT_EQ(big.substr(big.size() - 2), ".0");
  EXPECT_EQ(std::stod(big), 1e300);
}

}  // namespace
}  // namespace nemesyst
