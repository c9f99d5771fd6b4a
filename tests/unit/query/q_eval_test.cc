#include <gtest/gtest.h>

#include <map>

#include "query/q.h"

namespace allmende::query {
namespace {

#define D "https://uri.etsi.org/ngsi-ld/default-context/"

std::string expandTerm(std::string_view term) {
  if (term.find(':') != std::string_view::npos) return std::string(term);
  return D + std::string(term);
}

// A vehicle in the internal form (docs/architecture.md).
const char* kVehicle = R"({
  "id": "urn:ngsi-ld:Vehicle:A1",
  "type": [")" D R"(Vehicle"],
  "attrs": {
    ")" D R"(speed": [
      {"type": "Property", "value": 80, "unitCode": "KMH", "observedAt": "2020-08-01T12:00:00Z",
       ")" D R"(accuracy": {"type": "Property", "value": 0.5, "observedAt": "2020-08-01T12:00:05Z"}},
      {"type": "Property", "value": 40, "datasetId": "urn:ngsi-ld:Dataset:gps"}
    ],
    ")" D R"(brandName": [{"type": "Property", "value": "Mercedes"}],
    ")" D R"(colors": [{"type": "Property", "value": ["blue", "red", "green"]}],
    ")" D R"(isParked": [{"type": "Relationship", "object": "urn:ngsi-ld:Parking:P1"}],
    ")" D R"(passengers": [{"type": "Relationship", "object": ["urn:ngsi-ld:Person:1", "urn:ngsi-ld:Person:2"]}],
    ")" D R"(route": [{"type": "ListRelationship", "objectList": [{"object": "urn:ngsi-ld:Stop:1"}, {"object": "urn:ngsi-ld:Stop:2"}]}],
    ")" D R"(address": [{"type": "Property", "value": {"city": "Berlin", "geo": {"zip": 10115}}}],
    ")" D R"(name": [{"type": "LanguageProperty", "languageMap": {"en": "red car", "fr": ["voiture", "rouge"]}}],
    ")" D R"(gender": [{"type": "VocabProperty", "vocab": ")" D R"(Male"}],
    ")" D R"(readings": [{"type": "ListProperty", "valueList": [1, 5, 9]}],
    ")" D R"(raw": [{"type": "JsonProperty", "json": {"id": "85a6", "value": "Overstay"}}],
    ")" D R"(active": [{"type": "Property", "value": true}],
    ")" D R"(lastService": [{"type": "Property", "value": "2021-03-04T10:00:00Z"}],
    ")" D R"(serviceDay": [{"type": "Property", "value": "2021-03-04"}],
    ")" D R"(opens": [{"type": "Property", "value": "08:30:00Z"}],
    ")" D R"(location": [{"type": "GeoProperty", "value": {"type": "Point", "coordinates": [11.5, 48.1]}}],
    ")" D R"(sensor": [{"type": "Relationship", "object": "urn:ngsi-ld:Device:345"}]
  }
})";

const char* kDevice = R"({
  "id": "urn:ngsi-ld:Device:345",
  "type": [")" D R"(Device"],
  "attrs": {")" D R"(humidity": [{"type": "Property", "value": 40}]}
})";

class QEvalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(parseJson(kVehicle, vehicle_).isOk());
    ASSERT_TRUE(parseJson(kDevice, device_).isOk());
    entities_["urn:ngsi-ld:Device:345"] = &device_;
  }

  bool match(std::string_view q) {
    auto parsed = parseQ(q, expandTerm);
    EXPECT_TRUE(parsed.isOk()) << q << ": " << (parsed.isOk() ? "" : parsed.status().toString());
    if (!parsed.isOk()) return false;
    EntityLookup lookup = [this](std::string_view id) -> const Json* {
      auto it = entities_.find(std::string(id));
      return it == entities_.end() ? nullptr : it->second;
    };
    return evaluate(*parsed, vehicle_, lookup);
  }

  JsonDocument vehicle_;
  JsonDocument device_;
  std::map<std::string, const Json*> entities_;
};

TEST_F(QEvalTest, Existence) {
  EXPECT_TRUE(match("speed"));
  EXPECT_FALSE(match("rpm"));
  EXPECT_TRUE(match("!rpm"));
  EXPECT_FALSE(match("!speed"));
  EXPECT_TRUE(match("speed.accuracy"));
  EXPECT_FALSE(match("speed.precision"));
  EXPECT_TRUE(match("address[city]"));
  EXPECT_FALSE(match("address[country]"));  // 4.9: undefined member = non-existent target
  EXPECT_TRUE(match("!address[country]"));
  EXPECT_TRUE(match("speed.unitCode"));
  EXPECT_FALSE(match("brandName.unitCode"));
}

TEST_F(QEvalTest, NumberComparisons) {
  EXPECT_TRUE(match("speed==80"));
  EXPECT_TRUE(match("speed==40"));  // any instance
  EXPECT_FALSE(match("speed==60"));
  EXPECT_TRUE(match("speed>79.5"));
  EXPECT_FALSE(match("speed>80"));
  EXPECT_TRUE(match("speed>=80"));
  EXPECT_TRUE(match("speed<41"));
  EXPECT_FALSE(match("speed<40"));
  EXPECT_TRUE(match("speed<=40"));
  EXPECT_TRUE(match("speed!=80"));  // the instance with 40 is unequal
  EXPECT_FALSE(match("rpm!=80"));   // 4.9: the target element must exist
  EXPECT_TRUE(match("speed==8e1"));
}

TEST_F(QEvalTest, RangesAndValueLists) {
  EXPECT_TRUE(match("speed==70..90"));
  EXPECT_TRUE(match("speed==80..80"));
  EXPECT_FALSE(match("speed==81..90"));
  EXPECT_TRUE(match("brandName==\"A\"..\"N\""));
  EXPECT_FALSE(match("brandName!=\"A\"..\"N\""));
  EXPECT_TRUE(match("brandName==\"BMW\",\"Mercedes\""));
  EXPECT_FALSE(match("brandName!=\"BMW\",\"Mercedes\""));
  EXPECT_TRUE(match("brandName!=\"BMW\",\"Audi\""));
  EXPECT_TRUE(match("readings==2..6"));
}

TEST_F(QEvalTest, StringsAndDataTypeMismatch) {
  EXPECT_TRUE(match("brandName==\"Mercedes\""));
  EXPECT_FALSE(match("brandName==\"mercedes\""));
  EXPECT_TRUE(match("brandName>\"Audi\""));
  EXPECT_FALSE(match("brandName<\"Audi\""));
  // 4.9: different data types never match, and are "unequal".
  EXPECT_FALSE(match("brandName==5"));
  EXPECT_TRUE(match("brandName!=5"));
  EXPECT_FALSE(match("brandName>5"));
  EXPECT_FALSE(match("speed==\"80\""));
  EXPECT_FALSE(match("active==\"true\""));
}

TEST_F(QEvalTest, Booleans) {
  EXPECT_TRUE(match("active==true"));
  EXPECT_FALSE(match("active==false"));
  EXPECT_TRUE(match("active!=false"));
}

TEST_F(QEvalTest, ArrayValuesMatchAnyElement) {
  EXPECT_TRUE(match("colors==\"red\""));
  EXPECT_FALSE(match("colors!=\"red\""));  // 4.9: "not included in the target value"
  EXPECT_TRUE(match("colors!=\"black\""));
  EXPECT_TRUE(match("colors==\"black\",\"red\""));
  EXPECT_FALSE(match("colors!=\"black\",\"red\""));
  EXPECT_TRUE(match("colors>\"p\""));
}

TEST_F(QEvalTest, DateTimeDateAndTimeCompareTemporally) {
  EXPECT_TRUE(match("lastService>2021-03-04T09:00:00Z"));
  EXPECT_TRUE(match("lastService==2021-03-04T11:00:00+01:00"));  // same instant
  EXPECT_FALSE(match("lastService<2021-01-01T00:00:00Z"));
  EXPECT_TRUE(match("lastService==2021-03-01T00:00:00Z..2021-03-31T00:00:00Z"));
  EXPECT_TRUE(match("serviceDay==2021-03-04"));
  EXPECT_TRUE(match("serviceDay<2021-03-05"));
  EXPECT_TRUE(match("lastService>2021-03-04"));  // a date against a dateTime value
  EXPECT_TRUE(match("opens<09:00:00Z"));
  EXPECT_FALSE(match("opens>09:00:00Z"));
  EXPECT_FALSE(match("brandName>2021-03-04T09:00:00Z"));  // not a date: no match
  EXPECT_FALSE(match("speed>2021-03-04"));
}

TEST_F(QEvalTest, CoreMembersAndSubAttributes) {
  // 4.9 example 8.
  EXPECT_TRUE(match("speed.observedAt>=2020-08-01T12:00:00Z"));
  EXPECT_FALSE(match("speed.observedAt>2020-08-01T12:00:00Z"));
  EXPECT_TRUE(match("speed.unitCode==\"KMH\""));
  EXPECT_TRUE(match("speed.datasetId==urn:ngsi-ld:Dataset:gps"));
  EXPECT_TRUE(match("speed.accuracy<1"));
  EXPECT_FALSE(match("speed.accuracy>1"));
  EXPECT_TRUE(match("speed.accuracy.observedAt==2020-08-01T12:00:05Z"));
}

TEST_F(QEvalTest, CompoundValues) {
  // 4.9 examples 9 and 10.
  EXPECT_TRUE(match("address[city]==\"Berlin\""));
  EXPECT_FALSE(match("address[city]==\"Paris\""));
  EXPECT_TRUE(match("address[geo.zip]==10115"));
  EXPECT_TRUE(match("address[geo][zip]>10000"));
  EXPECT_FALSE(match("address[geo.missing]==1"));
  EXPECT_FALSE(match("address[geo]==1"));  // an object is not comparable
  EXPECT_FALSE(match("address==\"Berlin\""));
  EXPECT_TRUE(match("raw[value]==\"Overstay\""));  // 4.9 example 11: JsonProperty
  EXPECT_FALSE(match("location[type]==\"Polygon\""));
  EXPECT_TRUE(match("location[type]==\"Point\""));
}

TEST_F(QEvalTest, Relationships) {
  // 4.9 example 3: quoted or unquoted URI.
  EXPECT_TRUE(match("isParked==\"urn:ngsi-ld:Parking:P1\""));
  EXPECT_TRUE(match("isParked==urn:ngsi-ld:Parking:P1"));
  EXPECT_FALSE(match("isParked==urn:ngsi-ld:Parking:P2"));
  EXPECT_TRUE(match("isParked!=urn:ngsi-ld:Parking:P2"));
  EXPECT_TRUE(match("passengers==urn:ngsi-ld:Person:2"));
  EXPECT_FALSE(match("passengers!=urn:ngsi-ld:Person:2"));
  EXPECT_TRUE(match("passengers==urn:ngsi-ld:Person:9,urn:ngsi-ld:Person:1"));
  EXPECT_TRUE(match("route==urn:ngsi-ld:Stop:2"));
  EXPECT_FALSE(match("route==urn:ngsi-ld:Stop:3"));
  // 4.9: any other operator on a Relationship does not match.
  EXPECT_FALSE(match("isParked>\"a\""));
  EXPECT_FALSE(match("isParked~=\"Parking\""));
  EXPECT_FALSE(match("isParked!~=\"xyz\""));
}

TEST_F(QEvalTest, LanguageProperty) {
  EXPECT_TRUE(match("name==\"red car\""));
  EXPECT_TRUE(match("name[*]==\"rouge\""));
  EXPECT_TRUE(match("name[fr]==\"rouge\""));
  EXPECT_FALSE(match("name[en]==\"rouge\""));
  EXPECT_TRUE(match("name[en]!=\"rouge\""));
  EXPECT_FALSE(match("name[fr]!=\"rouge\""));
  EXPECT_FALSE(match("name[de]==\"rot\""));
  EXPECT_FALSE(match("name[de]!=\"rot\""));  // no such language: target does not exist
  EXPECT_TRUE(match("name~=\"^voit\""));
}

TEST_F(QEvalTest, VocabPropertyComparesExpandedValues) {
  // 4.9 example 12.
  EXPECT_TRUE(match("gender==Male"));
  EXPECT_TRUE(match("gender==\"Male\""));
  EXPECT_FALSE(match("gender==Female"));
  EXPECT_TRUE(match("gender!=Female"));
  EXPECT_TRUE(match("gender==" D "Male"));
}

TEST_F(QEvalTest, ListProperty) {
  EXPECT_TRUE(match("readings==5"));
  EXPECT_FALSE(match("readings==6"));
  EXPECT_TRUE(match("readings>8"));
  EXPECT_FALSE(match("readings>9"));
  EXPECT_FALSE(match("readings!=5"));
}

TEST_F(QEvalTest, Patterns) {
  EXPECT_TRUE(match("brandName~=\"^Merc\""));
  EXPECT_TRUE(match("brandName~=ced"));
  EXPECT_FALSE(match("brandName~=\"^merc\""));
  EXPECT_TRUE(match("brandName~=\"^(BMW|Mercedes)$\""));
  EXPECT_FALSE(match("brandName!~=\"^Merc\""));
  EXPECT_TRUE(match("brandName!~=\"^BMW\""));
  EXPECT_FALSE(match("speed~=\"8\""));   // 4.9: non-string target does not match
  EXPECT_FALSE(match("speed!~=\"x\""));  // ... either operator
  EXPECT_TRUE(match("colors~=\"^gr\""));
  EXPECT_FALSE(match("colors!~=\"^gr\""));
  EXPECT_TRUE(match("colors!~=\"^y\""));
  EXPECT_FALSE(match("rpm!~=\"x\""));
}

TEST_F(QEvalTest, LogicalOperatorsAndPrecedence) {
  EXPECT_TRUE(match("speed>50;brandName!=\"BMW\""));
  EXPECT_FALSE(match("speed>50;brandName==\"BMW\""));
  EXPECT_TRUE(match("speed>500|brandName==\"Mercedes\""));
  EXPECT_FALSE(match("speed>500|brandName==\"BMW\""));
  // a|b;c is a|(b;c): true with a true and c false.
  EXPECT_TRUE(match("speed==80|rpm;brandName==\"BMW\""));
  EXPECT_FALSE(match("(speed==80|rpm);brandName==\"BMW\""));
  EXPECT_TRUE(match("((speed>50|rpm>3000);brandName==\"Mercedes\")"));  // 4.9 example 6
  EXPECT_TRUE(match("(speed>=20;speed<=25)|speed<=80"));                  // 4.9 example 7
}

TEST_F(QEvalTest, LinkedEntities) {
  // 4.9 examples 13 and 14.
  EXPECT_TRUE(match("sensor{humidity}==40"));
  EXPECT_FALSE(match("sensor{humidity}==41"));
  EXPECT_TRUE(match("sensor{Device:humidity}==40"));
  EXPECT_FALSE(match("sensor{Car:humidity}==40"));
  EXPECT_TRUE(match("sensor{Car,Device:humidity}"));
  EXPECT_FALSE(match("isParked{humidity}"));  // target entity unknown
  EXPECT_FALSE(match("brandName{humidity}"));  // not a Relationship
  auto q = parseQ("sensor{humidity}==40", expandTerm);
  ASSERT_TRUE(q.isOk());
  EXPECT_FALSE(evaluate(*q, vehicle_));  // no lookup: no match
}

TEST_F(QEvalTest, MalformedEntitiesDoNotCrash) {
  auto q = parseQ("a[b]==1;c.d>2|e~=x", expandTerm);
  ASSERT_TRUE(q.isOk());
  for (const char* text : {"{}", "[]", "{\"attrs\": 5}", R"({"attrs": {")" D R"(a": 5}})",
                           R"({"attrs": {")" D R"(a": [5, {"type": 3}]}})",
                           R"({"attrs": {")" D R"(c": [{"type": "Property", ")" D R"(d": [1]}]}})"}) {
    JsonDocument d;
    ASSERT_TRUE(parseJson(text, d).isOk()) << text;
    EXPECT_FALSE(evaluate(*q, d)) << text;
  }
}

TEST_F(QEvalTest, LongSubjectsDoNotMatchPatterns) {
  JsonDocument d;
  std::string text = R"({"attrs": {")" D R"(a": [{"type": "Property", "value": ")" + std::string(100000, 'a') + "\"}]}}";
  ASSERT_TRUE(parseJson(text, d).isOk());
  auto q = parseQ("a~=\"(a|a)*b\"", expandTerm);
  ASSERT_TRUE(q.isOk());
  EXPECT_FALSE(evaluate(*q, d));
  auto notQ = parseQ("a!~=\"(a|a)*b\"", expandTerm);
  ASSERT_TRUE(notQ.isOk());
  EXPECT_FALSE(evaluate(*notQ, d));  // undecided: matches neither operator
}

TEST_F(QEvalTest, HostilePatternsFinishOnSubjectsWithinTheLimit) {
  JsonDocument d;
  std::string text = R"({"attrs": {")" D R"(a": [{"type": "Property", "value": ")" + std::string(1000, 'a') + "\"}]}}";
  ASSERT_TRUE(parseJson(text, d).isOk());
  auto q = parseQ("a~=\"(a|a)*b\"", expandTerm);
  ASSERT_TRUE(q.isOk());
  EXPECT_FALSE(evaluate(*q, d));  // backtracking would not finish; the polynomial executor does
  auto ok = parseQ("a~=\"^(a|a)*$\"", expandTerm);
  ASSERT_TRUE(ok.isOk());
  EXPECT_TRUE(evaluate(*ok, d));
}

}  // namespace
}  // namespace allmende::query
