// Merging of discovery answers (federation/discovery_merge.h): name lists united, details
// merged by id, counts added up.
#include "federation/discovery_merge.h"

#include <gtest/gtest.h>

namespace allmende::federation {
namespace {

JsonDocument doc(const std::string& text) {
  JsonDocument d;
  EXPECT_TRUE(parseJson(text, d).isOk()) << text;
  return d;
}

std::string merged(const std::string& target, const std::string& incoming) {
  JsonDocument t = doc(target);
  JsonDocument i = doc(incoming);
  mergeDiscovery(t, i, t.GetAllocator());
  return toJsonString(t);
}

TEST(DiscoveryMerge, TypeListsAreUnitedKeepingTheTargetsIdAndOrder) {
  EXPECT_EQ(merged(R"({"id": "urn:l:1", "type": "EntityTypeList", "typeList": ["B", "A"]})",
                   R"({"id": "urn:l:2", "type": "EntityTypeList", "typeList": ["C", "A"]})"),
            R"({"id":"urn:l:1","type":"EntityTypeList","typeList":["B","A","C"]})");
}

TEST(DiscoveryMerge, DetailsAreMergedByIdAndNewOnesAppended) {
  EXPECT_EQ(merged(R"([{"id": "urn:T", "type": "EntityType", "typeName": "T", "attributeNames": ["a"]}])",
                   R"([{"id": "urn:T", "type": "EntityType", "typeName": "T", "attributeNames": ["b", "a"]},
                       {"id": "urn:U", "type": "EntityType", "typeName": "U", "attributeNames": []}])"),
            R"([{"id":"urn:T","type":"EntityType","typeName":"T","attributeNames":["a","b"]},)"
            R"({"id":"urn:U","type":"EntityType","typeName":"U","attributeNames":[]}])");
}

TEST(DiscoveryMerge, CountsAreAddedAndAttributeDetailsUnited) {
  EXPECT_EQ(merged(R"({"id": "urn:T", "type": "EntityTypeInfo", "typeName": "T", "entityCount": 2,
                       "attributeDetails": [{"id": "urn:a", "type": "Attribute", "attributeName": "a",
                                             "attributeTypes": ["Property"]}]})",
                   R"({"id": "urn:T", "type": "EntityTypeInfo", "typeName": "T", "entityCount": 3,
                       "attributeDetails": [{"id": "urn:a", "type": "Attribute", "attributeName": "a",
                                             "attributeTypes": ["GeoProperty"]},
                                            {"id": "urn:b", "type": "Attribute", "attributeName": "b",
                                             "attributeTypes": ["Relationship"]}]})"),
            R"({"id":"urn:T","type":"EntityTypeInfo","typeName":"T","entityCount":5,"attributeDetails":[)"
            R"({"id":"urn:a","type":"Attribute","attributeName":"a","attributeTypes":["Property","GeoProperty"]},)"
            R"({"id":"urn:b","type":"Attribute","attributeName":"b","attributeTypes":["Relationship"]}]})");
  EXPECT_EQ(merged(R"({"id": "urn:a", "type": "Attribute", "attributeName": "a", "attributeCount": 1,
                       "typeNames": ["T"]})",
                   R"({"id": "urn:a", "type": "Attribute", "attributeName": "a", "attributeCount": 4,
                       "typeNames": ["U", "T"], "attributeTypes": ["Property"]})"),
            R"({"id":"urn:a","type":"Attribute","attributeName":"a","attributeCount":5,"typeNames":["T","U"],)"
            R"("attributeTypes":["Property"]})");
}

TEST(DiscoveryMerge, AnAnswerOfAnotherShapeChangesNothing) {
  EXPECT_EQ(merged(R"({"id": "urn:l", "typeList": ["A"]})", R"(["B"])"), R"({"id":"urn:l","typeList":["A"]})");
}

}  // namespace
}  // namespace allmende::federation
