#include "geo/distance.h"

#include <gtest/gtest.h>

#include <cmath>

namespace allmende::geo {
namespace {

// Reference values: Vincenty's inverse formula on the WGS84 ellipsoid.
constexpr Position kBrandenburgerTor{13.377704, 52.516275};
constexpr Position kFernsehturm{13.409419, 52.520817};
constexpr double kTorToTurm = 2211.399;
constexpr Position kBerlinHbf{13.369545, 52.525589};
constexpr Position kPotsdam{13.066667, 52.400000};
constexpr double kHbfToPotsdam = 24881.294;

void expectWithin(double actual, double expected, double relative) {
  EXPECT_NEAR(actual, expected, expected * relative) << "relative error " << std::abs(actual - expected) / expected;
}

Json parsed(JsonDocument& doc, const char* text) {
  EXPECT_TRUE(parseJson(text, doc).isOk());
  return Json(doc, doc.GetAllocator());
}

TEST(Haversine, BerlinWithinHalfPercentOfEllipsoid) {
  expectWithin(haversineMeters(kBrandenburgerTor, kFernsehturm), kTorToTurm, 0.005);
  expectWithin(haversineMeters(kBerlinHbf, kPotsdam), kHbfToPotsdam, 0.005);
  EXPECT_DOUBLE_EQ(haversineMeters(kFernsehturm, kFernsehturm), 0.0);
  EXPECT_DOUBLE_EQ(haversineMeters(kFernsehturm, kBrandenburgerTor), haversineMeters(kBrandenburgerTor, kFernsehturm));
}

TEST(Haversine, AcrossTheAntimeridian) {
  // 0.2 degrees of longitude at the equator, not 359.8.
  expectWithin(haversineMeters({179.9, 0}, {-179.9, 0}), 0.2 * M_PI / 180 * kEarthRadiusMeters, 1e-9);
}

TEST(LocalFrame, DistancesFromTheCentreAreSpherical) {
  LocalFrame frame(kBrandenburgerTor);
  double x = 0, y = 0;
  frame.project(kBrandenburgerTor, x, y);
  EXPECT_NEAR(x, 0, 1e-6);
  EXPECT_NEAR(y, 0, 1e-6);
  frame.project(kPotsdam, x, y);
  EXPECT_NEAR(std::hypot(x, y), haversineMeters(kBrandenburgerTor, kPotsdam), 1e-3);
  EXPECT_LT(x, 0);  // Potsdam is south-west
  EXPECT_LT(y, 0);
}

TEST(DistanceMeters, PointToPointMatchesHaversine) {
  JsonDocument a, b;
  std::optional<double> d = distanceMeters(parsed(a, R"({"type":"Point","coordinates":[13.377704,52.516275]})"),
                                           parsed(b, R"({"type":"Point","coordinates":[13.409419,52.520817]})"));
  ASSERT_TRUE(d);
  expectWithin(*d, kTorToTurm, 0.005);
}

TEST(DistanceMeters, PointToLineAndPolygon) {
  JsonDocument a, b, c;
  // A north-south line 0.1 degree east of the point, at the equator: ~11.1 km.
  Json point = parsed(a, R"({"type":"Point","coordinates":[0,0]})");
  std::optional<double> d = distanceMeters(point, parsed(b, R"({"type":"LineString","coordinates":[[0.1,-1],[0.1,1]]})"));
  ASSERT_TRUE(d);
  expectWithin(*d, 0.1 * M_PI / 180 * kEarthRadiusMeters, 1e-3);  // segment drawn straight in the frame
  // Inside a polygon: 0.
  d = distanceMeters(point, parsed(c, R"({"type":"Polygon","coordinates":[[[-1,-1],[1,-1],[1,1],[-1,1],[-1,-1]]]})"));
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, 0);
  // Invalid input.
  JsonDocument e;
  EXPECT_FALSE(distanceMeters(point, parsed(e, R"({"type":"Point","coordinates":[0]})")));
}

TEST(DistanceMeters, PolygonToPointAtBerlinScale) {
  // A ~1 km square around Alexanderplatz, and the Brandenburger Tor ~2 km west of its west edge.
  JsonDocument a, b;
  Json square = parsed(a, R"({"type":"Polygon","coordinates":[[[13.405,52.519],[13.420,52.519],[13.420,52.526],
                                                              [13.405,52.526],[13.405,52.519]]]})");
  Json tor = parsed(b, R"({"type":"Point","coordinates":[13.377704,52.519]})");
  std::optional<double> d = distanceMeters(square, tor);
  ASSERT_TRUE(d);
  // Along the parallel 52.519: the closest point of the square is its west edge at 13.405.
  expectWithin(*d, haversineMeters({13.377704, 52.519}, {13.405, 52.519}), 0.005);
}

}  // namespace
}  // namespace allmende::geo
