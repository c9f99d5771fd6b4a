// Rain models (src/twin/rain.h): exact depths over arbitrary intervals and the Euler type II
// design storm of DWA-A 531.
#include "twin/rain.h"

#include <gtest/gtest.h>

namespace allmende::twin {
namespace {

TEST(TwinRain, UniformRainDepthIsIntensityTimesOverlap) {
  Hyetograph r = Hyetograph::uniform(36, 600);  // 36 mm/h = 1e-5 m/s for 10 min
  EXPECT_NEAR(r.depthBetween(0, 600), 0.006, 1e-15);
  EXPECT_NEAR(r.depthBetween(-100, 100), 0.001, 1e-15);
  EXPECT_NEAR(r.depthBetween(550, 10000), 0.0005, 1e-15);
  EXPECT_EQ(r.depthBetween(700, 800), 0.0);
  EXPECT_NEAR(r.intensityAt(599), 1e-5, 1e-18);
  EXPECT_EQ(r.intensityAt(600), 0.0);
}

TEST(TwinRain, BlocksSumAcrossBoundaries) {
  Hyetograph r = Hyetograph::blocks({36, 0, 72}, 60);
  EXPECT_NEAR(r.depthBetween(0, 180), (36 + 72) / 60.0 / 1000, 1e-15);
  EXPECT_NEAR(r.depthBetween(30, 150), (18 + 36) / 60.0 / 1000, 1e-15);
  EXPECT_NEAR(r.intensityAt(150), 72e-3 / 3600, 1e-18);
}

// KOSTRA-like depths of one return period (duration s, depth mm).
const std::vector<std::pair<double, double>> kTable = {
    {300, 10}, {600, 15}, {900, 18.5}, {1200, 21}, {1800, 24.5}, {3600, 30}};

TEST(TwinRain, EulerTypeIIPeakEndsFirstThirdAndWindowsHoldDurationDepths) {
  auto r = Hyetograph::eulerTypeII(kTable, 3600, 300);
  ASSERT_TRUE(r.isOk());
  const auto& rates = r->intensities();
  ASSERT_EQ(rates.size(), 12u);
  // Total depth equals D(60 min).
  EXPECT_NEAR(r->depthBetween(0, 3600) * 1000, 30.0, 1e-9);
  // The highest block (D(5 min) = 10 mm) is block 4 of 12, ending the first third.
  size_t peak = std::max_element(rates.begin(), rates.end()) - rates.begin();
  EXPECT_EQ(peak, 3u);
  EXPECT_NEAR(rates[3] * 300 * 1000, 10.0, 1e-9);
  // Every window of k blocks holds at most D(k * 5 min), and the window starting at the peak
  // exactly that (the defining property of the Euler storms).
  for (int k = 1; k <= 12; ++k) {
    double dk = 0;
    for (size_t m = 0; m < kTable.size(); ++m) {
      double d0 = m ? kTable[m - 1].first : 0, v0 = m ? kTable[m - 1].second : 0;
      if (k * 300 <= kTable[m].first) {
        dk = v0 + (kTable[m].second - v0) * (k * 300 - d0) / (kTable[m].first - d0);
        break;
      }
    }
    double best = 0;
    for (int s = 0; s + k <= 12; ++s) best = std::max(best, r->depthBetween(s * 300, (s + k) * 300) * 1000);
    EXPECT_NEAR(best, dk, 1e-9) << "window of " << k << " blocks";
    if (3 + k <= 12) EXPECT_NEAR(r->depthBetween(900, 900 + k * 300.0) * 1000, dk, 1e-9);
  }
  // Before the peak the blocks rise, after it they fall.
  for (size_t k = 1; k <= 3; ++k) EXPECT_LE(rates[k - 1], rates[k]);
  for (size_t k = 4; k < 12; ++k) EXPECT_LE(rates[k], rates[k - 1]);
}

TEST(TwinRain, EulerTypeIIRejectsBadTables) {
  EXPECT_FALSE(Hyetograph::eulerTypeII({}, 3600).isOk());
  EXPECT_FALSE(Hyetograph::eulerTypeII({{600, 10}, {300, 12}}, 600).isOk());
  EXPECT_FALSE(Hyetograph::eulerTypeII({{300, 10}, {600, 8}}, 600).isOk());
  EXPECT_FALSE(Hyetograph::eulerTypeII(kTable, 7200).isOk());
}

TEST(TwinRain, ParsesCliSpecifications) {
  auto u = parseRain("uniform:50:60");
  ASSERT_TRUE(u.isOk());
  EXPECT_NEAR(u->depthBetween(0, 1e6), 0.050, 1e-12);
  auto b = parseRain("blocks:5:10,20");
  ASSERT_TRUE(b.isOk());
  EXPECT_NEAR(b->depthBetween(0, 1e6) * 1000, 10.0 / 12 + 20.0 / 12, 1e-9);
  auto e = parseRain("euler2:60:5=10,10=15,15=18.5,20=21,30=24.5,60=30");
  ASSERT_TRUE(e.isOk());
  EXPECT_NEAR(e->depthBetween(0, 1e6) * 1000, 30.0, 1e-9);
  for (const char* bad : {"", "uniform", "uniform:-1:60", "uniform:50:0", "uniform:x:60", "blocks:5:", "blocks:0:1",
                          "euler2:60:5=10,oops", "euler2:90:5=10,60=30", "drizzle:1:2", "uniform:50:60:1"}) {
    EXPECT_FALSE(parseRain(bad).isOk()) << bad;
  }
}

}  // namespace
}  // namespace allmende::twin
