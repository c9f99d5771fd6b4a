#include "model/history.h"

#include "model/entity.h"
#include "model/expand.h"
#include "model/mutation.h"
#include "model_test_util.h"

namespace allmende::model {
namespace {

using testing::core;
using testing::json;
using testing::kDefault;

constexpr Micros kT0 = 1'700'000'000'000'000;
constexpr Micros kT1 = kT0 + 1'000'000;
constexpr Micros kT2 = kT0 + 2'000'000;

JsonDocument entity(const std::string& text) {
  auto e = expandEntity(json(text), core());
  EXPECT_TRUE(e.isOk()) << e.status().toString();
  return std::move(e).value();
}

JsonDocument fragment(const std::string& text) {
  auto f = expandFragment(json(text), core(), "urn:a:1");
  EXPECT_TRUE(f.isOk()) << f.status().toString();
  return std::move(f).value();
}

JsonDocument created(const std::string& text) {
  auto c = createEntity(nullptr, entity(text), kT0);
  EXPECT_TRUE(c.isOk());
  return std::move(c).value();
}

HistoryChange diff(const Json* before, const Json* after, Micros deletedAt = 0) {
  HistoryChange h;
  diffHistory(before, after, deletedAt, h);
  return h;
}

TEST(History, CreateRecordsEveryInstanceAndTheTypes) {
  JsonDocument e = created(R"({"id": "urn:a:1", "type": "T", "p": 1.5, "s": "x",
      "w": [{"value": 2, "observedAt": "2026-01-01T10:00:00+01:00"}, {"value": 3, "datasetId": "urn:d:1"}]})");
  HistoryChange h = diff(nullptr, &e);
  EXPECT_EQ(h.entityId, "urn:a:1");
  EXPECT_EQ(h.types, "[\"" + kDefault("T") + "\"]");
  EXPECT_FALSE(h.entityDeleted);
  ASSERT_EQ(h.instances.size(), 4u);
  const HistoryInstance& p = h.instances[0];
  EXPECT_EQ(p.attr, kDefault("p"));
  EXPECT_EQ(p.number, 1.5);
  EXPECT_EQ(p.doc, "");  // a plain number needs no document
  EXPECT_EQ(p.recordedAt, kT0);
  EXPECT_FALSE(p.observedAt);
  const HistoryInstance& s = h.instances[1];
  EXPECT_FALSE(s.number);
  EXPECT_EQ(s.doc, R"({"type":"Property","value":"x"})");
  // observedAt with an offset is kept as the UTC instant.
  EXPECT_EQ(h.instances[2].observedAt, parseDateTime("2026-01-01T09:00:00Z"));
  EXPECT_EQ(h.instances[3].datasetId, "urn:d:1");
  EXPECT_EQ(h.instances[3].number, 3.0);
}

TEST(History, UpdateRecordsOnlyTheChangedInstance) {
  JsonDocument e = created(R"({"id": "urn:a:1", "type": "T", "p": 1, "r": 2})");
  auto next = updateAttributes(&e, fragment(R"({"p": 7})"), kT1, nullptr);
  ASSERT_TRUE(next.isOk());
  HistoryChange h = diff(&e, &*next);
  EXPECT_EQ(h.types, "");  // types unchanged
  ASSERT_EQ(h.instances.size(), 1u);
  EXPECT_EQ(h.instances[0].attr, kDefault("p"));
  EXPECT_EQ(h.instances[0].number, 7.0);
  EXPECT_EQ(h.instances[0].recordedAt, kT1);
}

TEST(History, RewritingTheSameValueIsANewInstance) {
  JsonDocument e = created(R"({"id": "urn:a:1", "type": "T", "p": 1})");
  auto next = mergeEntity(&e, fragment(R"({"p": 1})"), kT1);
  ASSERT_TRUE(next.isOk());
  EXPECT_EQ(diff(&e, &*next).instances.size(), 1u);  // modifiedAt changed: one more observation
}

TEST(History, DeletedAttributeBecomesADeletionAtTheChangeTime) {
  JsonDocument e =
      created(R"({"id": "urn:a:1", "type": "T", "p": 1, "r": {"type": "Relationship", "object": "urn:b:1"}})");
  auto next = deleteAttribute(&e, kDefault("r"), "", false, kT2);
  ASSERT_TRUE(next.isOk());
  HistoryChange h = diff(&e, &*next);
  ASSERT_EQ(h.instances.size(), 1u);
  EXPECT_TRUE(h.instances[0].deleted);
  EXPECT_EQ(h.instances[0].recordedAt, kT2);
  JsonDocument back;
  instanceJson(h.instances[0], back);
  EXPECT_EQ(toJsonString(back),
            R"({"type":"Relationship","object":"urn:ngsi-ld:null","deletedAt":")" + formatDateTime(kT2) + "\"}");
}

TEST(History, EntityDeletionDeletesEveryInstance) {
  JsonDocument e =
      created(R"({"id": "urn:a:1", "type": "T", "p": 1, "w": [{"value": 2}, {"value": 3, "datasetId": "urn:d:1"}]})");
  HistoryChange h = diff(&e, nullptr, kT2);
  EXPECT_TRUE(h.entityDeleted);
  EXPECT_EQ(h.entityId, "urn:a:1");
  ASSERT_EQ(h.instances.size(), 3u);
  for (const auto& i : h.instances) {
    EXPECT_TRUE(i.deleted);
    EXPECT_EQ(i.recordedAt, kT2);
  }
  EXPECT_EQ(h.instances[2].datasetId, "urn:d:1");
}

TEST(History, ReplaceRecordsNewAndRemovedInstances) {
  JsonDocument e = created(R"({"id": "urn:a:1", "type": "T", "p": 1, "r": 2})");
  auto next = replaceEntity(&e, entity(R"({"id": "urn:a:1", "type": ["T", "U"], "p": 1, "z": true})"), kT1);
  ASSERT_TRUE(next.isOk());
  HistoryChange h = diff(&e, &*next);
  EXPECT_NE(h.types.find(kDefault("U")), std::string::npos);
  ASSERT_EQ(h.instances.size(), 3u);  // p rewritten, z new, r deleted
  EXPECT_EQ(h.instances[1].attr, kDefault("z"));
  EXPECT_EQ(h.instances[1].number, 1.0);                                 // a boolean counts as 1 for aggregation ...
  EXPECT_EQ(h.instances[1].doc, R"({"type":"Property","value":true})");  // ... and keeps its value
  EXPECT_TRUE(h.instances[2].deleted);
  EXPECT_EQ(h.instances[2].attr, kDefault("r"));
}

TEST(History, CompactFormRoundTrips) {
  JsonDocument e = created(R"({"id": "urn:a:1", "type": "T",
      "p": {"value": 4.25, "unitCode": "MTR", "observedAt": "2026-01-01T00:00:00Z", "datasetId": "urn:d:2",
            "quality": {"value": "good"}}})");
  const Json& inst = e["attrs"][kDefault("p").c_str()][0];
  HistoryInstance h = historyInstanceOf(kDefault("p"), inst);
  EXPECT_EQ(h.number, 4.25);
  EXPECT_NE(h.doc.find("MTR"), std::string::npos);  // more than a plain number: the document stays
  JsonDocument back;
  instanceJson(h, back);
  EXPECT_EQ(back["value"].GetDouble(), 4.25);
  EXPECT_EQ(asView(back["unitCode"]), "MTR");
  EXPECT_EQ(asView(back["datasetId"]), "urn:d:2");
  EXPECT_EQ(asView(back["observedAt"]), "2026-01-01T00:00:00.000Z");
  EXPECT_TRUE(findMember(back, kDefault("quality")));
}

TEST(History, NothingForNoEntity) { EXPECT_TRUE(diff(nullptr, nullptr).instances.empty()); }

}  // namespace
}  // namespace allmende::model
