#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace nemesyst {
namespace {

TEST(Crc32cTest, KnownVectors) {
  // RFC 3720 test vectors.
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62a8ab43u);
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283u);
  std::string long_text(1000, 'x');
  EXPECT_EQ(Crc32cExtend(Crc32c(long_text.substr(0, 333)), long_text.data() + 333, 667),
            Crc32c(long_text));
}

TEST(Crc32cTest, HardwareAndPortablePathsAgreeOnEveryLengthAndAlignment) {
  // Crc32cExtend picks the SSE4.2 instruction when available; a bytewise reference pins it down.
  auto reference = [](const std::string& data) {
    uint32_t c = ~0u;
    for (unsigned char byte : data) {
      c ^= byte;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    }
    return ~c;
  };
  std::string text;
  for (int i = 0; i < 100; ++i) text.push_back(static_cast<char>(i * 37 + 11));
  for (size_t offset = 0; offset < 9; ++offset) {
    for (size_t length = 0; offset + length <= text.size(); length += 7) {
      const std::string piece = text.substr(offset, length);
      EXPECT_EQ(Crc32c(piece), reference(piece)) << offset << "+" << length;
    }
  }
}

}  // namespace
}  // namespace nemesyst
