#include "geo/geo_filter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "geo/distance.h"

namespace allmende::geo {
namespace {

constexpr const char* kSquare = "[[[0,0],[10,0],[10,10],[0,10],[0,0]]]";
constexpr const char* kHoled = "[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]";

GeoFilter filter(const std::string& georel, const std::string& geometry, const std::string& coordinates) {
  Result<GeoQuery> q = parseGeoQuery(georel, geometry, coordinates, "");
  EXPECT_TRUE(q.isOk()) << georel << " " << geometry << " " << coordinates << ": " << q.status().toString();
  return GeoFilter(std::move(q).value());
}

bool matches(const GeoFilter& f, const std::string& storedGeoJson) {
  JsonDocument doc;
  EXPECT_TRUE(parseJson(storedGeoJson, doc).isOk()) << storedGeoJson;
  return f.matches(doc);
}

std::string point(double lon, double lat) {
  char buf[96];
  std::snprintf(buf, sizeof buf, R"({"type":"Point","coordinates":[%.10f,%.10f]})", lon, lat);
  return buf;
}
std::string polygon(const char* coords) { return std::string(R"({"type":"Polygon","coordinates":)") + coords + "}"; }
std::string line(const char* coords) { return std::string(R"({"type":"LineString","coordinates":)") + coords + "}"; }

// One row of a truth table: stored geometry, georel, query geometry, expected verdict.
struct Row {
  std::string stored;
  const char* georel;
  const char* geometry;
  const char* coordinates;
  bool expected;
};

void checkTable(const std::vector<Row>& rows) {
  for (const Row& r : rows) {
    GeoFilter f = filter(r.georel, r.geometry, r.coordinates);
    EXPECT_EQ(matches(f, r.stored), r.expected)
        << "stored " << r.stored << " " << r.georel << " " << r.geometry << " " << r.coordinates;
  }
}

TEST(GeoFilter, Within) {
  checkTable({
      {point(5, 5), "within", "Polygon", kSquare, true},
      {point(5, 5), "within", "Polygon", kHoled, false},  // in the hole
      {point(2, 2), "within", "Polygon", kHoled, true},
      {point(20, 20), "within", "Polygon", kSquare, false},
      {point(0, 5), "within", "Polygon", kSquare, false},  // on the boundary only
      {polygon("[[[1,1],[2,1],[2,2],[1,2],[1,1]]]"), "within", "Polygon", kSquare, true},
      {polygon("[[[3,3],[7,3],[7,7],[3,7],[3,3]]]"), "within", "Polygon", kHoled, false},  // covers the hole
      {line("[[1,1],[9,9]]"), "within", "Polygon", kSquare, true},
      {line("[[1,1],[19,9]]"), "within", "Polygon", kSquare, false},
  });
}

TEST(GeoFilter, Contains) {
  checkTable({
      {polygon(kSquare), "contains", "Point", "[5,5]", true},
      {polygon(kHoled), "contains", "Point", "[5,5]", false},
      {polygon(kSquare), "contains", "Polygon", "[[[1,1],[2,1],[2,2],[1,2],[1,1]]]", true},
      {polygon(kSquare), "contains", "LineString", "[[1,1],[19,9]]", false},
      {point(5, 5), "contains", "Polygon", kSquare, false},
  });
}

TEST(GeoFilter, IntersectsAndDisjoint) {
  const std::string crossing = line("[[-5,5],[15,5]]");
  const std::string far = line("[[20,20],[30,30]]");
  checkTable({
      {crossing, "intersects", "Polygon", kSquare, true},
      {crossing, "disjoint", "Polygon", kSquare, false},
      {far, "intersects", "Polygon", kSquare, false},
      {far, "disjoint", "Polygon", kSquare, true},
      {point(5, 5), "intersects", "Polygon", kHoled, false},
      {point(5, 5), "disjoint", "Polygon", kHoled, true},  // in the hole
      {point(2, 2), "disjoint", "Polygon", kHoled, false},
      {point(0, 5), "intersects", "Polygon", kSquare, true},  // the boundary counts
      {line("[[4.5,5],[5.5,5]]"), "intersects", "Polygon", kHoled, false},  // inside the hole
  });
}

TEST(GeoFilter, Overlaps) {
  checkTable({
      {polygon("[[[5,5],[15,5],[15,15],[5,15],[5,5]]]"), "overlaps", "Polygon", kSquare, true},
      {polygon("[[[1,1],[2,1],[2,2],[1,2],[1,1]]]"), "overlaps", "Polygon", kSquare, false},  // contained
      {polygon("[[[20,20],[21,20],[21,21],[20,20]]]"), "overlaps", "Polygon", kSquare, false},
      {line("[[-5,5],[15,5]]"), "overlaps", "Polygon", kSquare, false},  // different dimension
      {line("[[0,0],[5,5]]"), "overlaps", "LineString", "[[2,2],[8,8]]", true},
  });
}

TEST(GeoFilter, Equals) {
  checkTable({
      {polygon(kSquare), "equals", "Polygon", kSquare, true},
      // Other start vertex and opposite orientation: the same point set.
      {polygon("[[[10,10],[10,0],[0,0],[0,10],[10,10]]]"), "equals", "Polygon", kSquare, true},
      // An extra collinear vertex changes nothing topologically.
      {polygon("[[[0,0],[5,0],[10,0],[10,10],[0,10],[0,0]]]"), "equals", "Polygon", kSquare, true},
      {polygon("[[[0,0],[10,0],[10,11],[0,10],[0,0]]]"), "equals", "Polygon", kSquare, false},
      {point(5, 5), "equals", "Point", "[5,5]", true},
      {point(5, 5), "equals", "Point", "[5,5.000001]", false},
      {line("[[1,1],[2,2]]"), "equals", "LineString", "[[2,2],[1,1]]", true},
      {R"({"type":"MultiPoint","coordinates":[[1,1],[2,2]]})", "equals", "MultiPoint", "[[2,2],[1,1]]", true},
  });
}

TEST(GeoFilter, InvalidStoredValuesNeverMatch) {
  GeoFilter f = filter("disjoint", "Polygon", kSquare);
  EXPECT_FALSE(matches(f, R"({"type":"Point","coordinates":[500,0]})"));
  EXPECT_FALSE(matches(f, R"("not a geometry")"));
  EXPECT_FALSE(matches(f, R"({"type":"GeometryCollection","geometries":[]})"));
}

// Brandenburger Tor and Fernsehturm: 2211.4 m on the WGS84 ellipsoid.
constexpr const char* kTor = "[13.377704,52.516275]";
const std::string kTurm = point(13.409419, 52.520817);

TEST(GeoFilter, NearPointToPoint) {
  EXPECT_TRUE(matches(filter("near;maxDistance==2300", "Point", kTor), kTurm));
  EXPECT_FALSE(matches(filter("near;maxDistance==2100", "Point", kTor), kTurm));
  EXPECT_TRUE(matches(filter("near;minDistance==2100", "Point", kTor), kTurm));
  EXPECT_FALSE(matches(filter("near;minDistance==2300", "Point", kTor), kTurm));
  JsonDocument turm;
  ASSERT_TRUE(parseJson(kTurm, turm).isOk());
  std::optional<double> d = filter("near;maxDistance==1", "Point", kTor).distanceTo(turm);
  ASSERT_TRUE(d);
  EXPECT_NEAR(*d, 2211.4, 2211.4 * 0.005);
}

TEST(GeoFilter, NearOtherGeometries) {
  // A north-south street 0.01 degree (~677 m at 52.5 N) east of the query point.
  const std::string street = line("[[13.41,52.49],[13.41,52.51]]");
  EXPECT_TRUE(matches(filter("near;maxDistance==700", "Point", "[13.4,52.5]"), street));
  EXPECT_FALSE(matches(filter("near;maxDistance==650", "Point", "[13.4,52.5]"), street));
  EXPECT_TRUE(matches(filter("near;minDistance==650", "Point", "[13.4,52.5]"), street));
  // A point inside a stored polygon is at distance 0.
  const std::string block = polygon("[[[13.39,52.49],[13.41,52.49],[13.41,52.51],[13.39,52.51],[13.39,52.49]]]");
  EXPECT_TRUE(matches(filter("near;maxDistance==1", "Point", "[13.4,52.5]"), block));
  EXPECT_FALSE(matches(filter("near;minDistance==1", "Point", "[13.4,52.5]"), block));
  // A polygon as the reference geometry: its buffer (clause 4.10).
  const char* area = "[[[13.39,52.49],[13.41,52.49],[13.41,52.51],[13.39,52.51],[13.39,52.49]]]";
  EXPECT_TRUE(matches(filter("near;maxDistance==700", "Polygon", area), point(13.42, 52.50)));
  EXPECT_FALSE(matches(filter("near;maxDistance==600", "Polygon", area), point(13.42, 52.50)));
}

TEST(GeoFilter, DistanceOrdersResults) {
  GeoFilter f = filter("near;maxDistance==100000", "Point", "[13.4,52.5]");
  double previous = -1;
  for (double dLon : {0.0, 0.001, 0.01, 0.1, 0.5}) {
    JsonDocument doc;
    ASSERT_TRUE(parseJson(point(13.4 + dLon, 52.5), doc).isOk());
    std::optional<double> d = f.distanceTo(doc);
    ASSERT_TRUE(d);
    EXPECT_GT(*d, previous);
    previous = *d;
  }
}

TEST(SearchBox, TopologicalRelationsUseTheReferenceBox) {
  for (const char* rel : {"within", "contains", "intersects", "overlaps", "equals"}) {
    EXPECT_EQ(filter(rel, "Polygon", "[[[1,2],[10,2],[10,8],[1,2]]]").searchBox(), (BoundingBox{1, 2, 10, 8})) << rel;
  }
  EXPECT_EQ(filter("disjoint", "Polygon", kSquare).searchBox(), std::nullopt);
  EXPECT_EQ(filter("near;minDistance==10", "Point", "[0,0]").searchBox(), std::nullopt);
}

TEST(SearchBox, NearAtPolesAndAntimeridian) {
  std::optional<BoundingBox> polar = filter("near;maxDistance==200000", "Point", "[20,89]").searchBox();
  ASSERT_TRUE(polar);
  EXPECT_EQ(polar->minX, -180);
  EXPECT_EQ(polar->maxX, 180);
  EXPECT_EQ(polar->maxY, 90);
  std::optional<BoundingBox> dateline = filter("near;maxDistance==50000", "Point", "[179.9,-17]").searchBox();
  ASSERT_TRUE(dateline);
  EXPECT_EQ(dateline->minX, -180);
  EXPECT_EQ(dateline->maxX, 180);
  EXPECT_LT(dateline->maxY - dateline->minY, 1.0);
}

// The point at distance `meters` and bearing `bearingRad` from `from` (spherical).
Position destination(const Position& from, double meters, double bearingRad) {
  constexpr double kDeg = std::numbers::pi / 180;
  double delta = meters / kEarthRadiusMeters;
  double lat1 = from.lat * kDeg, lon1 = from.lon * kDeg;
  double lat2 = std::asin(std::sin(lat1) * std::cos(delta) + std::cos(lat1) * std::sin(delta) * std::cos(bearingRad));
  double lon2 = lon1 + std::atan2(std::sin(bearingRad) * std::sin(delta) * std::cos(lat1),
                                  std::cos(delta) - std::sin(lat1) * std::sin(lat2));
  double lon = std::remainder(lon2 / kDeg, 360.0);
  return {std::clamp(lon, -180.0, 180.0), std::clamp(lat2 / kDeg, -90.0, 90.0)};
}

TEST(SearchBox, NearBoxContainsEveryMatchingPoint) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const Position centres[] = {{13.4, 52.5}, {0, 0}, {-70.6, -33.4}, {179.95, 10}, {25, 80}, {-150, -84}};
  const double radii[] = {10, 2000, 50000, 500000};
  for (const Position& c : centres) {
    for (double r : radii) {
      char coords[64];
      std::snprintf(coords, sizeof coords, "[%.10f,%.10f]", c.lon, c.lat);
      GeoFilter f = filter("near;maxDistance==" + std::to_string(static_cast<int>(r)), "Point", coords);
      std::optional<BoundingBox> box = f.searchBox();
      ASSERT_TRUE(box);
      for (int i = 0; i < 500; ++i) {
        // Biased towards the rim, where a box that is too small would show.
        double d = r * std::sqrt(std::sqrt(unit(rng)));
        Position p = destination(c, d, unit(rng) * 2 * std::numbers::pi);
        if (!matches(f, point(p.lon, p.lat))) continue;
        EXPECT_TRUE(box->contains(p.lon, p.lat))
            << "centre " << c.lon << "," << c.lat << " r " << r << " point " << p.lon << "," << p.lat;
      }
      // The rim itself (just inside) must match and be in the box.
      for (int k = 0; k < 16; ++k) {
        Position p = destination(c, r * 0.999, k * std::numbers::pi / 8);
        EXPECT_TRUE(matches(f, point(p.lon, p.lat)));
        EXPECT_TRUE(box->contains(p.lon, p.lat)) << "rim point " << p.lon << "," << p.lat;
      }
    }
  }
}

TEST(GeoFilter, SharedAcrossThreads) {
  std::vector<GeoFilter> filters;
  filters.push_back(filter("within", "Polygon", kHoled));
  filters.push_back(filter("intersects", "Polygon", kHoled));
  filters.push_back(filter("near;maxDistance==300000", "Polygon", kSquare));
  filters.push_back(filter("equals", "Polygon", kSquare));
  std::vector<std::string> stored;
  for (int x = -2; x <= 12; ++x) {
    for (int y = -2; y <= 12; ++y) stored.push_back(point(x + 0.5, y + 0.5));
  }
  stored.push_back(polygon(kSquare));
  stored.push_back(line("[[-5,5],[15,5]]"));
  std::vector<JsonDocument> docs(stored.size());
  for (size_t i = 0; i < stored.size(); ++i) ASSERT_TRUE(parseJson(stored[i], docs[i]).isOk());

  std::vector<std::vector<bool>> expected(filters.size());
  for (size_t f = 0; f < filters.size(); ++f) {
    for (const auto& d : docs) expected[f].push_back(filters[f].matches(d));
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 20; ++round) {
        for (size_t f = 0; f < filters.size(); ++f) {
          for (size_t i = 0; i < docs.size(); ++i) {
            if (filters[f].matches(docs[i]) != expected[f][i]) ++mismatches;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
  // Sanity: the tables are not trivial.
  EXPECT_TRUE(expected[0][0] == false);
  EXPECT_TRUE(std::count(expected[0].begin(), expected[0].end(), true) > 10);
}

}  // namespace
}  // namespace allmende::geo
