#include "model/expand.h"

#include "model/entity.h"
#include "model_test_util.h"

namespace allmende::model {
namespace {

using testing::core;
using testing::json;
using testing::kDefault;

TEST(ExpandEntity, ExpandsTypesAndAttributeNamesWithTheContext) {
  auto e = expandEntity(json(R"({"id": "urn:a:1", "type": "Car", "speed": {"type": "Property", "value": 3}})"), core());
  ASSERT_TRUE(e.isOk()) << e.status().toString();
  EXPECT_EQ(asView((*e)["type"][0]), kDefault("Car"));
  const Json* speed = findMember((*e)["attrs"], kDefault("speed"));
  ASSERT_NE(speed, nullptr);
  ASSERT_TRUE(speed->IsArray());
  EXPECT_EQ((*speed)[0]["value"].GetInt(), 3);
}

TEST(ExpandEntity, ConciseValuesBecomeNormalizedInstances) {
  auto e = expandEntity(json(R"({"id": "urn:a:1", "type": "T", "n": 5, "r": {"object": "urn:b:1"},
                                 "g": {"type": "Point", "coordinates": [1, 2]}, "l": {"languageMap": {"en": "x"}}})"),
                        core());
  ASSERT_TRUE(e.isOk()) << e.status().toString();
  const Json& attrs = (*e)["attrs"];
  EXPECT_EQ(asView(attrs[kDefault("n").c_str()][0]["type"]), "Property");
  EXPECT_EQ(asView(attrs[kDefault("r").c_str()][0]["type"]), "Relationship");
  EXPECT_EQ(asView(attrs[kDefault("g").c_str()][0]["type"]), "GeoProperty");
  EXPECT_EQ(asView(attrs[kDefault("l").c_str()][0]["type"]), "LanguageProperty");
}

TEST(ExpandEntity, DefaultInstanceComesFirst) {
  auto e = expandEntity(json(R"({"id": "urn:a:1", "type": "T", "p": [
      {"type": "Property", "value": 1, "datasetId": "urn:ds:1"}, {"type": "Property", "value": 2}]})"),
                        core());
  ASSERT_TRUE(e.isOk());
  const Json& p = (*e)["attrs"][kDefault("p").c_str()];
  ASSERT_EQ(p.Size(), 2u);
  EXPECT_EQ(datasetIdOf(p[0]), "");
  EXPECT_EQ(datasetIdOf(p[1]), "urn:ds:1");
}

TEST(ExpandEntity, RejectsWhatTheSpecForbids) {
  const char* bad[] = {
      R"({"type": "T"})",                                                        // no id
      R"({"id": "nouri", "type": "T"})",                                         // id not a URI
      R"({"id": "urn:a:1"})",                                                    // no type
      R"({"id": "urn:a:1", "type": []})",                                        // empty type array
      R"({"id": "urn:a:1", "type": "A B"})",                                     // invalid type name
      R"({"id": "urn:a:1", "type": "T", "a=b": 1})",                             // invalid attribute name
      R"({"id": "urn:a:1", "type": "T", "p": {"type": "Property", "value": null}})",
      R"({"id": "urn:a:1", "type": "T", "p": {"type": "Banana", "value": 1}})",  // unknown kind
      R"({"id": "urn:a:1", "type": "T", "p": {"type": "Property"}})",            // no value
      R"({"id": "urn:a:1", "type": "T", "r": {"type": "Relationship", "object": "x y"}})",
      R"({"id": "urn:a:1", "type": "T", "p": {"type": "Property", "value": 1, "observedAt": "noon"}})",
      R"({"id": "urn:a:1", "type": "T", "p": {"type": "Property", "value": 1, "datasetId": "x"}})",
      R"({"id": "urn:a:1", "type": "T", "scope": "noslash"})",
      R"({"id": "urn:a:1", "type": "T", "p": [{"type": "Property", "value": 1}, {"type": "Property", "value": 2}]})",
  };
  for (const char* text : bad) {
    auto e = expandEntity(json(text), core());
    ASSERT_FALSE(e.isOk()) << text;
    EXPECT_EQ(e.status().type(), ErrorType::kBadRequestData) << text;
  }
}

TEST(ExpandFragment, IdMustMatchAndTypeIsOptional) {
  EXPECT_TRUE(expandFragment(json(R"({"p": 1})"), core(), "urn:a:1").isOk());
  EXPECT_TRUE(expandFragment(json(R"({"id": "urn:a:1", "p": 1})"), core(), "urn:a:1").isOk());
  EXPECT_FALSE(expandFragment(json(R"({"id": "urn:a:2", "p": 1})"), core(), "urn:a:1").isOk());
}

TEST(ExpandAttributeBody, GivesAnArrayOfInstances) {
  auto a = expandAttributeBody(json(R"({"type": "Property", "value": 4, "unitCode": "MTR"})"), core());
  ASSERT_TRUE(a.isOk());
  ASSERT_TRUE(a->IsArray());
  EXPECT_EQ(asView((*a)[0]["unitCode"]), "MTR");
}

TEST(ExpandNames, ValidatesNames) {
  EXPECT_EQ(*expandAttributeName("speed", core()), kDefault("speed"));
  EXPECT_FALSE(expandAttributeName("sp(eed", core()).isOk());
  EXPECT_FALSE(expandTypeName("", core()).isOk());
}

}  // namespace
}  // namespace allmende::model
