#include "model/render.h"

#include "model/expand.h"
#include "model_test_util.h"

namespace allmende::model {
namespace {

using testing::core;
using testing::json;

std::string render(const std::string& entityText, RenderOptions o) {
  auto e = expandEntity(json(entityText), core());
  EXPECT_TRUE(e.isOk()) << e.status().toString();
  JsonBuffer buf;
  JsonWriter w(buf);
  renderEntity(*e, core(), o, w);
  return buf.GetString();
}

RenderOptions as(Format f) {
  RenderOptions o;
  o.format = f;
  return o;
}

TEST(Render, NormalizedRoundTrip) {
  EXPECT_EQ(render(R"({"id": "urn:a:1", "type": "T", "p": {"type": "Property", "value": 1, "unitCode": "MTR"}})",
                   as(Format::kNormalized)),
            R"({"id":"urn:a:1","type":"T","p":{"type":"Property","value":1,"unitCode":"MTR"}})");
}

TEST(Render, ConciseDropsTypesAndShortensBareValues) {
  EXPECT_EQ(render(R"({"id": "urn:a:1", "type": "T", "p": 1, "r": {"object": "urn:b:1"}, "o": {"value": {"k": 1}}})",
                   as(Format::kConcise)),
            R"({"id":"urn:a:1","type":"T","p":1,"r":{"object":"urn:b:1"},"o":{"value":{"k":1}}})");
}

TEST(Render, KeyValuesKeepsKeywordsOfTheOtherKinds) {
  EXPECT_EQ(render(R"({"id": "urn:a:1", "type": "T", "p": 1, "r": {"object": "urn:b:1"},
                       "l": {"languageMap": {"en": "x"}}, "v": {"vocab": "V"}, "lp": {"valueList": [1]},
                       "j": {"json": {"a": 1}}})",
                   as(Format::kKeyValues)),
            R"({"id":"urn:a:1","type":"T","p":1,"r":"urn:b:1","l":{"languageMap":{"en":"x"}},"v":{"vocab":"V"},)"
            R"("lp":{"valueList":[1]},"j":{"json":{"a":1}}})");
}

TEST(Render, LangPicksOneString) {
  RenderOptions o;
  o.lang = "de";
  EXPECT_EQ(render(R"({"id": "urn:a:1", "type": "T", "l": {"languageMap": {"en": "x", "de": "y"}}})", o),
            R"({"id":"urn:a:1","type":"T","l":{"type":"Property","value":"y","lang":"de"}})");
}

TEST(Render, ProjectionPickAndOmit) {
  RenderOptions pick;
  pick.projection.pick = std::unordered_set<std::string>{"id", testing::kDefault("p")};
  EXPECT_EQ(render(R"({"id": "urn:a:1", "type": "T", "p": 1, "q": 2})", pick),
            R"({"id":"urn:a:1","p":{"type":"Property","value":1}})");
  RenderOptions omit;
  omit.projection.omit = {"type", testing::kDefault("p")};
  EXPECT_EQ(render(R"({"id": "urn:a:1", "type": "T", "p": 1, "q": 2})", omit),
            R"({"id":"urn:a:1","q":{"type":"Property","value":2}})");
}

TEST(Render, FeatureTakesTheGeometryProperty) {
  auto e = expandEntity(json(R"({"id": "urn:a:1", "type": "T", "location": {"type": "Point", "coordinates": [1, 2]}})"),
                        core());
  ASSERT_TRUE(e.isOk());
  JsonBuffer buf;
  JsonWriter w(buf);
  renderFeature(*e, core(), as(Format::kKeyValues), "https://uri.etsi.org/ngsi-ld/location", w);
  EXPECT_EQ(std::string(buf.GetString()),
            R"({"id":"urn:a:1","type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},)"
            R"("properties":{"type":"T","location":{"type":"Point","coordinates":[1,2]}}})");
}

}  // namespace
}  // namespace allmende::model
