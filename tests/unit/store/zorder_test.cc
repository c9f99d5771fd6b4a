#include "store/sqlite/zorder.h"

#include <gtest/gtest.h>

#include <random>

namespace allmende::store::sqlite {
namespace {

bool covered(int64_t key, const std::vector<std::pair<int64_t, int64_t>>& ranges) {
  for (const auto& [a, b] : ranges) {
    if (key >= a && key <= b) return true;
  }
  return false;
}

TEST(ZOrderTest, KeysAreOrderedPerAxisAndNonNegative) {
  EXPECT_GE(zKey(-180, -90), 0);
  EXPECT_LT(zKey(-180, -90), zKey(180, 90));
  EXPECT_LT(zKey(11.0, 48.0), zKey(11.0, 48.5));  // same x, larger y
  EXPECT_EQ(zKey(11.25, 48.9), zKey(11.25, 48.9));
}

TEST(ZOrderTest, RangesCoverEveryPointInTheBox) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> lon(-179, 179), lat(-89, 89), size(1e-5, 2.0);
  for (int box = 0; box < 200; ++box) {
    double x0 = lon(rng), y0 = lat(rng), w = size(rng), h = size(rng);
    auto ranges = zRanges(x0, y0, x0 + w, y0 + h, 8);
    ASSERT_FALSE(ranges.empty());
    ASSERT_LE(ranges.size(), 8u);
    for (size_t i = 1; i < ranges.size(); ++i) ASSERT_GT(ranges[i].first, ranges[i - 1].second);
    std::uniform_real_distribution<double> px(x0, x0 + w), py(y0, y0 + h);
    for (int p = 0; p < 200; ++p) {
      double x = px(rng), y = py(rng);
      ASSERT_TRUE(covered(zKey(x, y), ranges)) << "box " << x0 << "," << y0 << " +" << w << "x" << h;
    }
    // The corners are inside too.
    ASSERT_TRUE(covered(zKey(x0, y0), ranges));
    ASSERT_TRUE(covered(zKey(x0 + w, y0 + h), ranges));
  }
}

TEST(ZOrderTest, SmallBoxesGiveTightRanges) {
  // A 300 m box must not turn into a scan of a large part of the keyspace.
  auto ranges = zRanges(11.246, 48.897, 11.254, 48.903, 8);
  int64_t total = 0;
  for (const auto& [a, b] : ranges) total += b - a + 1;
  int64_t boxKeys = (zKey(11.254, 48.903) - zKey(11.246, 48.897));  // rough scale of the box
  EXPECT_GT(total, 0);
  EXPECT_LT(static_cast<double>(total), 64.0 * std::max<int64_t>(boxKeys, 1));
}

}  // namespace
}  // namespace allmende::store::sqlite
