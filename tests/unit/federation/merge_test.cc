// Entity merging (federation/merge.h): ids, types, scopes, datasetIds, the recency rule and the
// precedence of registration modes.
#include "federation/merge.h"

#include <gtest/gtest.h>

namespace allmende::federation {
namespace {

JsonDocument doc(const std::string& text) {
  JsonDocument d;
  EXPECT_TRUE(parseJson(text, d).isOk()) << text;
  return d;
}

std::vector<JsonDocument> list(std::initializer_list<std::string> texts) {
  std::vector<JsonDocument> out;
  for (const auto& t : texts) out.push_back(doc(t));
  return out;
}

const char* kT = "https://example.org/temperature";

TEST(EntityMerger, UnitesEntitiesByIdInOrderOfArrival) {
  EntityMerger m;
  m.add(
      list(
          {R"({"id": "urn:a", "type": ["T"], "attrs": {"https://example.org/temperature": [{"type": "Property", "value": 1}]}})",
           R"({"id": "urn:b", "type": ["T"], "attrs": {}})"}),
      Precedence::kInclusive);
  m.add(
      list(
          {R"({"id": "urn:c", "type": ["T"], "attrs": {}})",
           R"({"id": "urn:a", "type": ["U"], "scope": ["/x"], "attrs": {"https://example.org/humidity": [{"type": "Property", "value": 2}]}})"}),
      Precedence::kInclusive);
  auto out = m.take();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_STREQ(out[0]["id"].GetString(), "urn:a");
  EXPECT_STREQ(out[1]["id"].GetString(), "urn:b");
  EXPECT_STREQ(out[2]["id"].GetString(), "urn:c");
  EXPECT_EQ(out[0]["type"].Size(), 2u);
  EXPECT_EQ(out[0]["scope"].Size(), 1u);
  EXPECT_TRUE(out[0]["attrs"].HasMember(kT));
  EXPECT_TRUE(out[0]["attrs"].HasMember("https://example.org/humidity"));
  EXPECT_EQ(m.size(), 0u);
}

TEST(EntityMerger, SameInstanceTheLaterObservationWinsThenModification) {
  EntityMerger m;
  m.add(list({R"({"id": "urn:a", "type": ["T"], "attrs": {"https://example.org/temperature": [
                  {"type": "Property", "value": 1, "observedAt": "2026-01-01T10:00:00Z"},
                  {"type": "Property", "value": 10, "datasetId": "urn:d", "modifiedAt": "2026-01-01T10:00:00Z"}]}})"}),
        Precedence::kInclusive);
  m.add(list({R"({"id": "urn:a", "type": ["T"], "attrs": {"https://example.org/temperature": [
                  {"type": "Property", "value": 2, "observedAt": "2026-01-01T11:00:00.000Z"},
                  {"type": "Property", "value": 20, "datasetId": "urn:d", "modifiedAt": "2026-01-01T09:00:00Z"},
                  {"type": "Property", "value": 30, "datasetId": "urn:e"}]}})"}),
        Precedence::kInclusive);
  auto out = m.take();
  const Json& t = out[0]["attrs"][kT];
  ASSERT_EQ(t.Size(), 3u);
  EXPECT_EQ(t[0]["value"].GetInt(), 2);   // observed later
  EXPECT_EQ(t[1]["value"].GetInt(), 10);  // modified later
  EXPECT_EQ(t[2]["value"].GetInt(), 30);  // a new dataset
}

TEST(EntityMerger, TheDefaultInstanceStaysFirst) {
  EntityMerger m;
  m.add(list({R"({"id": "urn:a", "type": ["T"], "attrs": {"https://example.org/temperature": [
                  {"type": "Property", "value": 10, "datasetId": "urn:d"}]}})"}),
        Precedence::kInclusive);
  m.add(list({R"({"id": "urn:a", "type": ["T"], "attrs": {"https://example.org/temperature": [
                  {"type": "Property", "value": 1}]}})"}),
        Precedence::kInclusive);
  auto out = m.take();
  const Json& t = out[0]["attrs"][kT];
  ASSERT_EQ(t.Size(), 2u);
  EXPECT_FALSE(t[0].HasMember("datasetId"));
  EXPECT_EQ(t[1]["value"].GetInt(), 10);
}

TEST(EntityMerger, ExclusiveBeatsNewerInclusiveAuxiliaryLosesToAnything) {
  EntityMerger m;
  m.add(list({R"({"id": "urn:a", "type": ["T"], "attrs": {"https://example.org/temperature": [
                  {"type": "Property", "value": 1, "observedAt": "2026-01-01T12:00:00Z"}],
                  "https://example.org/noise": [{"type": "Property", "value": 5, "observedAt": "2026-01-01T08:00:00Z"}]}})"}),
        Precedence::kInclusive);
  m.add(list({R"({"id": "urn:a", "type": ["T"], "attrs": {"https://example.org/temperature": [
                  {"type": "Property", "value": 2, "observedAt": "2026-01-01T08:00:00Z"}]}})"}),
        Precedence::kExclusive);
  m.add(list({R"({"id": "urn:a", "type": ["T"], "attrs": {"https://example.org/temperature": [
                  {"type": "Property", "value": 3, "observedAt": "2026-01-01T13:00:00Z"}],
                  "https://example.org/noise": [{"type": "Property", "value": 9, "observedAt": "2026-01-01T13:00:00Z"}],
                  "https://example.org/light": [{"type": "Property", "value": 7}]}})"}),
        Precedence::kAuxiliary);
  auto out = m.take();
  const Json& attrs = out[0]["attrs"];
  EXPECT_EQ(attrs[kT][0]["value"].GetInt(), 2);
  EXPECT_EQ(attrs["https://example.org/noise"][0]["value"].GetInt(), 5);
  EXPECT_EQ(attrs["https://example.org/light"][0]["value"].GetInt(), 7);  // only the auxiliary source has it
}

TEST(EntityMerger, EntityTimesSpanTheSources) {
  EntityMerger m;
  m.add(
      list(
          {R"({"id": "urn:a", "type": ["T"], "createdAt": "2026-01-02T00:00:00Z", "modifiedAt": "2026-01-03T00:00:00Z", "attrs": {}})"}),
      Precedence::kInclusive);
  m.add(
      list(
          {R"({"id": "urn:a", "type": ["T"], "createdAt": "2026-01-01T00:00:00Z", "modifiedAt": "2026-01-04T00:00:00Z", "attrs": {}})"}),
      Precedence::kInclusive);
  auto out = m.take();
  EXPECT_STREQ(out[0]["createdAt"].GetString(), "2026-01-01T00:00:00.000Z");
  EXPECT_STREQ(out[0]["modifiedAt"].GetString(), "2026-01-04T00:00:00.000Z");
}

TEST(RestoreSystemTimes, CopiesTimesOfTheEntityAndItsInstances) {
  JsonDocument received = doc(R"({"id": "urn:a", "type": "T", "createdAt": "2026-01-01T00:00:00Z",
      "temperature": [{"type": "Property", "value": 1, "modifiedAt": "2026-01-05T00:00:00Z"},
                      {"type": "Property", "value": 2, "datasetId": "urn:d", "modifiedAt": "2026-01-06T00:00:00Z"}]})");
  JsonDocument expanded = doc(R"({"id": "urn:a", "type": ["T"], "attrs": {"https://example.org/temperature": [
      {"type": "Property", "value": 1}, {"type": "Property", "value": 2, "datasetId": "urn:d"}]}})");
  restoreSystemTimes(received, expanded, [](std::string_view n) { return "https://example.org/" + std::string(n); });
  EXPECT_STREQ(expanded["createdAt"].GetString(), "2026-01-01T00:00:00Z");
  EXPECT_STREQ(expanded["attrs"][kT][0]["modifiedAt"].GetString(), "2026-01-05T00:00:00Z");
  EXPECT_STREQ(expanded["attrs"][kT][1]["modifiedAt"].GetString(), "2026-01-06T00:00:00Z");
}

}  // namespace
}  // namespace allmende::federation
