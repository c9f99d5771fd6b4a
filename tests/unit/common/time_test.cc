#include "common/time.h"

#include <gtest/gtest.h>

namespace allmende {
namespace {

TEST(TimeTest, ParsesUtcAndOffsets) {
  auto a = parseDateTime("2026-11-25T15:14:35Z");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(formatDateTime(*a), "2026-11-25T15:14:35.000Z");
  auto b = parseDateTime("2026-11-25T16:14:35+01:00");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*a, *b);
  auto c = parseDateTime("2026-11-25T10:14:35.5-0500");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(*c, *a + 500000);
  EXPECT_EQ(formatDateTime(*c), "2026-11-25T15:14:35.500Z");
  EXPECT_EQ(formatDateTime(*parseDateTime("1970-01-01T00:00:00.000001Z")), "1970-01-01T00:00:00.000001Z");
  EXPECT_EQ(*parseDateTime("1970-01-01T00:00:00Z"), 0);
}

TEST(TimeTest, RejectsInvalid) {
  EXPECT_FALSE(parseDateTime("2026-02-30T00:00:00Z"));
  EXPECT_FALSE(parseDateTime("2026-11-25"));
  EXPECT_FALSE(parseDateTime("2026-11-25T25:00:00Z"));
  EXPECT_FALSE(parseDateTime("2026-11-25T10:00:00Zjunk"));
  EXPECT_FALSE(parseDateTime("hello"));
  EXPECT_TRUE(parseDate("2024-02-29"));
  EXPECT_FALSE(parseDate("2023-02-29"));
  EXPECT_EQ(*parseTime("01:00:00Z"), 3600LL * 1000000);
}

TEST(TimeTest, FormatsBeforeEpoch) {
  EXPECT_EQ(formatDateTime(*parseDateTime("1969-12-31T23:59:59Z")), "1969-12-31T23:59:59.000Z");
}

}  // namespace
}  // namespace allmende
