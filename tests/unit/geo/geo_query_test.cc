#include "geo/geo_query.h"

#include <gtest/gtest.h>

#include <string>

namespace allmende::geo {
namespace {

constexpr const char* kPoint = "[13.4,52.5]";
constexpr const char* kSquare = "[[[0,0],[10,0],[10,10],[0,10],[0,0]]]";

void expectBad(const Result<GeoQuery>& r, const std::string& fragment) {
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().type(), ErrorType::kBadRequestData);
  EXPECT_NE(r.status().detail().find(fragment), std::string::npos) << r.status().detail();
}

TEST(ParseGeoQuery, EveryTopologicalGeorel) {
  struct Case {
    const char* text;
    GeoRel rel;
  };
  for (Case c : {Case{"within", GeoRel::kWithin}, Case{"contains", GeoRel::kContains},
                 Case{"intersects", GeoRel::kIntersects}, Case{"overlaps", GeoRel::kOverlaps},
                 Case{"disjoint", GeoRel::kDisjoint}, Case{"equals", GeoRel::kEquals}}) {
    Result<GeoQuery> q = parseGeoQuery(c.text, "Polygon", kSquare, "");
    ASSERT_TRUE(q.isOk()) << c.text << ": " << q.status().toString();
    EXPECT_EQ(q->georel, c.rel);
    EXPECT_FALSE(q->maxDistance);
    EXPECT_FALSE(q->minDistance);
    EXPECT_EQ(q->geometry.type, GeometryType::kPolygon);
    EXPECT_EQ(q->geoproperty, kDefaultGeoProperty);
    EXPECT_EQ(q->georelText(), c.text);
    expectBad(parseGeoQuery(std::string(c.text) + ";maxDistance==5", "Polygon", kSquare, ""), "takes no modifier");
  }
}

TEST(ParseGeoQuery, Near) {
  Result<GeoQuery> q = parseGeoQuery("near;maxDistance==2000", "Point", kPoint, "");
  ASSERT_TRUE(q.isOk());
  EXPECT_EQ(q->georel, GeoRel::kNear);
  EXPECT_EQ(q->maxDistance, 2000.0);
  EXPECT_FALSE(q->minDistance);
  EXPECT_EQ(q->georelText(), "near;maxDistance==2000");
  EXPECT_EQ(q->geometry.point(), (Position{13.4, 52.5}));

  q = parseGeoQuery("near;minDistance==12.5e1", "Point", kPoint, "");
  ASSERT_TRUE(q.isOk());
  EXPECT_EQ(q->minDistance, 125.0);
  EXPECT_FALSE(q->maxDistance);

  // NGSI-LD 4.10: near takes any reference geometry (the buffer of it).
  EXPECT_TRUE(parseGeoQuery("near;maxDistance==10", "Polygon", kSquare, "").isOk());
  EXPECT_TRUE(parseGeoQuery("near;maxDistance==0.5", "Point", kPoint, "").isOk());
}

TEST(ParseGeoQuery, BadNear) {
  expectBad(parseGeoQuery("near", "Point", kPoint, ""), "needs a distance");
  expectBad(parseGeoQuery("near;", "Point", kPoint, ""), "invalid near modifier");
  expectBad(parseGeoQuery("near;maxDistance=100", "Point", kPoint, ""), "invalid near modifier");
  expectBad(parseGeoQuery("near;distance==100", "Point", kPoint, ""), "invalid near modifier");
  expectBad(parseGeoQuery("near;maxDistance:100", "Point", kPoint, ""), "invalid near modifier");
  for (const char* bad : {"0", "0.0", "0e3", "-100", "+100", "01", "1.", ".5", "1e", "abc", "", "1e999", "100m",
                          "5;minDistance==1"}) {
    expectBad(parseGeoQuery(std::string("near;maxDistance==") + bad, "Point", kPoint, ""),
              "must be a positive non-zero number");
  }
}

TEST(ParseGeoQuery, BadGeorel) {
  expectBad(parseGeoQuery("touches", "Point", kPoint, ""), "unknown georel \"touches\"");
  expectBad(parseGeoQuery("Within", "Point", kPoint, ""), "unknown georel");
  expectBad(parseGeoQuery("", "Point", kPoint, ""), "georel is missing");
}

TEST(ParseGeoQuery, Geometry) {
  EXPECT_TRUE(parseGeoQuery("intersects", "MultiPoint", "[[1,2],[3,4]]", "").isOk());
  EXPECT_TRUE(parseGeoQuery("intersects", "LineString", "[[1,2],[3,4]]", "").isOk());
  EXPECT_TRUE(parseGeoQuery("intersects", "MultiLineString", "[[[1,2],[3,4]]]", "").isOk());
  EXPECT_TRUE(parseGeoQuery("intersects", "MultiPolygon", "[[[[0,0],[1,0],[1,1],[0,0]]]]", "").isOk());
  Result<GeoQuery> lower = parseGeoQuery("intersects", "point", kPoint, "");
  ASSERT_TRUE(lower.isOk());
  EXPECT_EQ(lower->geometry.type, GeometryType::kPoint);
  expectBad(parseGeoQuery("intersects", "GeometryCollection", "[]", ""), "unsupported geometry");
  expectBad(parseGeoQuery("intersects", "Circle", kPoint, ""), "unsupported geometry \"Circle\"");
  expectBad(parseGeoQuery("intersects", "", kPoint, ""), "geometry is missing");
}

TEST(ParseGeoQuery, BadCoordinates) {
  expectBad(parseGeoQuery("within", "Polygon", "", ""), "coordinates are missing");
  expectBad(parseGeoQuery("within", "Polygon", "[[[0,0],[1,0]", ""), "not a JSON array");
  expectBad(parseGeoQuery("within", "Polygon", "{}", ""), "must be a JSON array");
  expectBad(parseGeoQuery("within", "Polygon", "[[[0,0],[10,0],[10,10],[0,10]]]", ""), "must be closed");
  expectBad(parseGeoQuery("within", "Point", "[[0,0]]", ""), "numbers");
  expectBad(parseGeoQuery("near;maxDistance==5", "Point", "[0,91]", ""), "latitude 91");
  expectBad(parseGeoQuery("within", "Point", "13.4,52.5", ""), "not a JSON array");
}

TEST(ParseGeoQuery, Geoproperty) {
  Result<GeoQuery> q = parseGeoQuery("within", "Polygon", kSquare, "https://uri.etsi.org/ngsi-ld/observationSpace");
  ASSERT_TRUE(q.isOk());
  EXPECT_EQ(q->geoproperty, "https://uri.etsi.org/ngsi-ld/observationSpace");
}

Result<GeoQuery> parseObject(const std::string& text) {
  JsonDocument doc;
  Status st = parseJson(text, doc);
  EXPECT_TRUE(st.isOk()) << text;
  return parseGeoQuery(doc, [](std::string_view term) { return "https://example.org/" + std::string(term); });
}

TEST(ParseGeoQueryObject, ArrayAndStringCoordinates) {
  Result<GeoQuery> q = parseObject(R"({"georel":"near;maxDistance==2000","geometry":"Point","coordinates":[8,40]})");
  ASSERT_TRUE(q.isOk()) << q.status().toString();
  EXPECT_EQ(q->maxDistance, 2000.0);
  EXPECT_EQ(q->geometry.point(), (Position{8, 40}));
  EXPECT_EQ(q->geoproperty, kDefaultGeoProperty);

  // NGSI-LD 5.2.13: coordinates may be a string for JSON-LD compatibility.
  q = parseObject(R"({"georel":"within","geometry":"Polygon","coordinates":"[[[0,0],[10,0],[10,10],[0,0]]]",
                      "geoproperty":"observationSpace"})");
  ASSERT_TRUE(q.isOk()) << q.status().toString();
  EXPECT_EQ(q->georel, GeoRel::kWithin);
  EXPECT_EQ(q->geoproperty, "https://example.org/observationSpace");
}

TEST(ParseGeoQueryObject, Invalid) {
  expectBad(parseObject(R"([])"), "must be a JSON object");
  expectBad(parseObject(R"({"geometry":"Point","coordinates":[8,40]})"), "\"georel\" is missing");
  expectBad(parseObject(R"({"georel":"within","coordinates":[8,40]})"), "\"geometry\" is missing");
  expectBad(parseObject(R"({"georel":"within","geometry":"Point"})"), "\"coordinates\" is missing");
  expectBad(parseObject(R"({"georel":"within","geometry":"Point","coordinates":8})"), "must be an array or a string");
  expectBad(parseObject(R"({"georel":5,"geometry":"Point","coordinates":[8,40]})"), "must be a string");
  expectBad(parseObject(R"({"georel":"within","geometry":"Point","coordinates":[8,40],"geoproperty":[]})"),
            "must be a string");
  expectBad(parseObject(R"({"georel":"near","geometry":"Point","coordinates":[8,40]})"), "needs a distance");
  expectBad(parseObject(R"({"georel":"within","geometry":"Point","coordinates":"[8,"})"), "not a JSON array");
}

}  // namespace
}  // namespace allmende::geo
