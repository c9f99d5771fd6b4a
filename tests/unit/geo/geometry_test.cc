#include "geo/geometry.h"

#include <gtest/gtest.h>

#include <string>

namespace allmende::geo {
namespace {

Status validate(const std::string& text) {
  JsonDocument doc;
  Status st = parseJson(text, doc);
  EXPECT_TRUE(st.isOk()) << text;
  return validateGeometry(doc);
}

void expectValid(const std::string& text) {
  Status st = validate(text);
  EXPECT_TRUE(st.isOk()) << text << " -> " << st.toString();
}

// Fails with BadRequestData whose detail contains `fragment`.
void expectInvalid(const std::string& text, const std::string& fragment) {
  Status st = validate(text);
  ASSERT_FALSE(st.isOk()) << text;
  EXPECT_EQ(st.type(), ErrorType::kBadRequestData) << text;
  EXPECT_NE(st.detail().find(fragment), std::string::npos) << text << " -> " << st.detail();
}

TEST(ValidateGeometry, Point) {
  expectValid(R"({"type":"Point","coordinates":[13.4,52.5]})");
  expectValid(R"({"type":"Point","coordinates":[13.4,52.5,34.0]})");
  expectValid(R"({"type":"Point","coordinates":[-180,-90]})");
  expectValid(R"({"type":"Point","coordinates":[180,90],"bbox":[180,90,180,90]})");
  expectInvalid(R"({"type":"Point","coordinates":[13.4]})", "2 or 3 numbers");
  expectInvalid(R"({"type":"Point","coordinates":[1,2,3,4]})", "2 or 3 numbers");
  expectInvalid(R"({"type":"Point","coordinates":["13.4",52.5]})", "numbers");
  expectInvalid(R"({"type":"Point","coordinates":[180.5,0]})", "longitude 180.5 outside [-180, 180]");
  expectInvalid(R"({"type":"Point","coordinates":[0,-90.01]})", "latitude -90.01 outside [-90, 90]");
  expectInvalid(R"({"type":"Point","coordinates":[[1,2]]})", "numbers");
  expectInvalid(R"({"type":"Point"})", "needs a member \"coordinates\"");
}

TEST(ValidateGeometry, MultiPoint) {
  expectValid(R"({"type":"MultiPoint","coordinates":[[1,2],[3,4,5]]})");
  expectValid(R"({"type":"MultiPoint","coordinates":[[1,2]]})");
  expectInvalid(R"({"type":"MultiPoint","coordinates":[]})", "must not be an empty array");
  expectInvalid(R"({"type":"MultiPoint","coordinates":[1,2]})", "nesting level missing");
}

TEST(ValidateGeometry, LineString) {
  expectValid(R"({"type":"LineString","coordinates":[[1,2],[3,4]]})");
  expectInvalid(R"({"type":"LineString","coordinates":[[1,2]]})", "at least 2 positions");
  expectInvalid(R"({"type":"LineString","coordinates":[[1,2],[3,95]]})", "coordinates[1]: latitude 95");
}

TEST(ValidateGeometry, MultiLineString) {
  expectValid(R"({"type":"MultiLineString","coordinates":[[[1,2],[3,4]],[[5,6],[7,8],[9,10]]]})");
  expectInvalid(R"({"type":"MultiLineString","coordinates":[[[1,2],[3,4]],[[5,6]]]})", "coordinates[1]: needs at least 2");
  expectInvalid(R"({"type":"MultiLineString","coordinates":[[1,2],[3,4]]})", "must be an array of positions");
}

TEST(ValidateGeometry, Polygon) {
  expectValid(R"({"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]})");
  // With a hole.
  expectValid(R"({"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],
                                                  [[4,4],[6,4],[6,6],[4,6],[4,4]]]})");
  expectInvalid(R"({"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[1,1]]]})",
                "coordinates of a Polygon ring must be closed");
  expectInvalid(R"({"type":"Polygon","coordinates":[[[0,0],[10,0],[0,0]]]})", "at least 4 positions");
  expectInvalid(R"({"type":"Polygon","coordinates":[[0,0],[10,0],[10,10],[0,0]]})", "must be an array of positions");
  expectInvalid(R"({"type":"Polygon","coordinates":[]})", "must not be an empty array");
  // A bow tie: closed but self-intersecting.
  expectInvalid(R"({"type":"Polygon","coordinates":[[[0,0],[10,10],[10,0],[0,10],[0,0]]]})", "Self-intersection");
  // A hole outside its shell.
  expectInvalid(R"({"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],
                                                    [[20,20],[21,20],[21,21],[20,20]]]})",
                "Hole lies outside shell");
}

TEST(ValidateGeometry, MultiPolygon) {
  expectValid(R"({"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,5]]]]})");
  expectInvalid(R"({"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,4]]]]})",
                "coordinates[1][0]: coordinates of a Polygon ring must be closed");
  // Overlapping members are not a valid MultiPolygon.
  expectInvalid(R"({"type":"MultiPolygon","coordinates":[[[[0,0],[2,0],[2,2],[0,2],[0,0]]],[[[1,1],[3,1],[3,3],[1,3],[1,1]]]]})",
                "invalid MultiPolygon");
}

TEST(ValidateGeometry, TypeAndShape) {
  expectInvalid(R"({"type":"GeometryCollection","geometries":[]})", "GeometryCollection is not allowed");
  expectInvalid(R"({"type":"Feature","geometry":null})", "unsupported GeoJSON geometry type \"Feature\"");
  expectInvalid(R"({"type":"point","coordinates":[1,2]})", "unsupported GeoJSON geometry type");
  expectInvalid(R"({"coordinates":[1,2]})", "\"type\"");
  expectInvalid(R"([1,2])", "must be an object");
}

TEST(ValidateGeometry, PositionLimit) {
  std::string text = R"({"type":"LineString","coordinates":[)";
  for (size_t i = 0; i <= kMaxPositions; ++i) text += (i ? ",[" : "[") + std::to_string(i % 100) + ",1]";
  text += "]}";
  expectInvalid(text, "more than 100000 positions");

  JsonDocument doc;
  ASSERT_TRUE(parseJson(R"({"type":"MultiPoint","coordinates":[[1,2],[3,4],[5,6]]})", doc).isOk());
  EXPECT_TRUE(parseGeometry(doc, GeometryCheck{.maxPositions = 3}).isOk());
  EXPECT_FALSE(parseGeometry(doc, GeometryCheck{.maxPositions = 2}).isOk());
}

TEST(Geometry, RoundTripsThroughGeoJson) {
  const char* text = R"({"type":"Polygon","coordinates":[[[0.0,0.0],[10.0,0.0],[10.0,10.0],[0.0,0.0]]]})";
  JsonDocument doc;
  ASSERT_TRUE(parseJson(text, doc).isOk());
  Result<Geometry> g = parseGeometry(doc);
  ASSERT_TRUE(g.isOk());
  EXPECT_EQ(g->positionCount(), 4u);
  JsonDocument out;
  Json j = toGeoJson(*g, out.GetAllocator());
  EXPECT_EQ(toJsonString(j), text);
}

TEST(BoundingBox, OfEachType) {
  auto box = [](const char* text) {
    JsonDocument doc;
    EXPECT_TRUE(parseJson(text, doc).isOk());
    return bboxOf(doc);
  };
  EXPECT_EQ(box(R"({"type":"Point","coordinates":[13.4,52.5]})"), (BoundingBox{13.4, 52.5, 13.4, 52.5}));
  EXPECT_EQ(box(R"({"type":"LineString","coordinates":[[1,5],[-3,2],[4,-1]]})"), (BoundingBox{-3, -1, 4, 5}));
  EXPECT_EQ(box(R"({"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,7],[5,5]]]]})"),
            (BoundingBox{0, 0, 6, 7}));
  EXPECT_EQ(box(R"({"type":"Point","coordinates":[200,0]})"), std::nullopt);
}

}  // namespace
}  // namespace allmende::geo
