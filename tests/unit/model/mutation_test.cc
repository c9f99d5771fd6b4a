#include "model/mutation.h"

#include "model/entity.h"
#include "model/expand.h"
#include "model_test_util.h"

namespace allmende::model {
namespace {

using testing::core;
using testing::json;
using testing::kDefault;

constexpr Micros kT0 = 1'700'000'000'000'000;
constexpr Micros kT1 = kT0 + 1'000'000;

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

const Json* attr(const Json& e, const std::string& term) { return findMember(e["attrs"], kDefault(term)); }

JsonDocument created() {
  auto c = createEntity(nullptr, entity(R"({"id": "urn:a:1", "type": "T", "p": 1, "w": {"value": 2, "s": 3}})"), kT0);
  EXPECT_TRUE(c.isOk());
  return std::move(c).value();
}

TEST(Mutation, CreateStampsAndRefusesExisting) {
  JsonDocument c = created();
  EXPECT_EQ(asView(c["createdAt"]), formatDateTime(kT0));
  EXPECT_EQ(asView((*attr(c, "p"))[0]["modifiedAt"]), formatDateTime(kT0));
  auto again = createEntity(&c, entity(R"({"id": "urn:a:1", "type": "T"})"), kT1);
  ASSERT_FALSE(again.isOk());
  EXPECT_EQ(again.status().type(), ErrorType::kAlreadyExists);
}

TEST(Mutation, ReplaceKeepsCreatedAtAndDropsOldAttributes) {
  JsonDocument c = created();
  auto r = replaceEntity(&c, entity(R"({"id": "urn:a:1", "type": "T", "z": 9})"), kT1);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(asView((*r)["createdAt"]), formatDateTime(kT0));
  EXPECT_EQ(asView((*r)["modifiedAt"]), formatDateTime(kT1));
  EXPECT_EQ(attr(*r, "p"), nullptr);
  EXPECT_NE(attr(*r, "z"), nullptr);
  EXPECT_EQ(replaceEntity(nullptr, entity(R"({"id": "urn:a:1", "type": "T"})"), kT1).status().type(),
            ErrorType::kResourceNotFound);
}

TEST(Mutation, MergeRemovesNullsAndMergesSubAttributes) {
  JsonDocument c = created();
  auto m = mergeEntity(&c, fragment(R"({"p": "urn:ngsi-ld:null", "w": {"value": 5, "t": 6}})"), kT1);
  ASSERT_TRUE(m.isOk());
  EXPECT_EQ(attr(*m, "p"), nullptr);
  ASSERT_NE(attr(*m, "w"), nullptr) << toJsonString(*m);
  const Json& q = (*attr(*m, "w"))[0];
  EXPECT_EQ(q["value"].GetInt(), 5);
  EXPECT_NE(findMember(q, kDefault("s")), nullptr);  // kept
  EXPECT_NE(findMember(q, kDefault("t")), nullptr);  // added
  EXPECT_EQ(asView(q["createdAt"]), formatDateTime(kT0));
}

TEST(Mutation, AppendWithNoOverwriteReports) {
  JsonDocument c = created();
  AttributeReport report;
  auto a = appendAttributes(&c, fragment(R"({"p": 7, "n": 8})"), kT1, true, &report);
  ASSERT_TRUE(a.isOk());
  EXPECT_EQ((*attr(*a, "p"))[0]["value"].GetInt(), 1);
  EXPECT_EQ((*attr(*a, "n"))[0]["value"].GetInt(), 8);
  ASSERT_EQ(report.updated.size(), 1u);
  EXPECT_EQ(report.updated[0], kDefault("n"));
  ASSERT_EQ(report.notUpdated.size(), 1u);
  EXPECT_EQ(report.notUpdated[0].first, kDefault("p"));
}

TEST(Mutation, UpdateOnlyTouchesExistingAttributes) {
  JsonDocument c = created();
  AttributeReport report;
  auto u = updateAttributes(&c, fragment(R"({"p": 7, "n": 8})"), kT1, &report);
  ASSERT_TRUE(u.isOk());
  EXPECT_EQ((*attr(*u, "p"))[0]["value"].GetInt(), 7);
  EXPECT_EQ(attr(*u, "n"), nullptr);
  EXPECT_EQ(report.notUpdated.size(), 1u);
}

TEST(Mutation, UpsertUpdateModeKeepsOtherAttributes) {
  JsonDocument c = created();
  auto u = upsertEntity(&c, entity(R"({"id": "urn:a:1", "type": "U", "n": 1})"), kT1, true);
  ASSERT_TRUE(u.isOk());
  EXPECT_NE(attr(*u, "p"), nullptr);
  EXPECT_NE(attr(*u, "n"), nullptr);
  EXPECT_EQ((*u)["type"].Size(), 2u);
  auto r = upsertEntity(&c, entity(R"({"id": "urn:a:1", "type": "T", "n": 1})"), kT1, false);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(attr(*r, "p"), nullptr);
}

TEST(Mutation, PartialUpdateAndReplaceOfOneAttribute) {
  JsonDocument c = created();
  auto body = expandAttributeBody(json(R"({"value": 10})"), core());
  ASSERT_TRUE(body.isOk());
  auto p = partialAttributeUpdate(&c, kDefault("w"), *body, kT1);
  ASSERT_TRUE(p.isOk());
  EXPECT_EQ((*attr(*p, "w"))[0]["value"].GetInt(), 10);
  EXPECT_NE(findMember((*attr(*p, "w"))[0], kDefault("s")), nullptr);
  auto r = replaceAttribute(&c, kDefault("w"), *body, kT1);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(findMember((*attr(*r, "w"))[0], kDefault("s")), nullptr);
  EXPECT_EQ(partialAttributeUpdate(&c, kDefault("nope"), *body, kT1).status().type(), ErrorType::kResourceNotFound);
}

TEST(Mutation, DeleteOneInstanceOrAll) {
  auto c = createEntity(nullptr, entity(R"({"id": "urn:a:1", "type": "T", "p": [
      {"type": "Property", "value": 1}, {"type": "Property", "value": 2, "datasetId": "urn:ds:1"}]})"), kT0);
  ASSERT_TRUE(c.isOk());
  auto one = deleteAttribute(&*c, kDefault("p"), "urn:ds:1", false, kT1);
  ASSERT_TRUE(one.isOk());
  EXPECT_EQ(attr(*one, "p")->Size(), 1u);
  auto all = deleteAttribute(&*c, kDefault("p"), "", true, kT1);
  ASSERT_TRUE(all.isOk());
  EXPECT_EQ(attr(*all, "p"), nullptr);
  EXPECT_EQ(deleteAttribute(&*c, kDefault("p"), "urn:ds:2", false, kT1).status().type(), ErrorType::kResourceNotFound);
  EXPECT_EQ(deleteAttribute(&*c, kDefault("x"), "", false, kT1).status().type(), ErrorType::kResourceNotFound);
}

}  // namespace
}  // namespace allmende::model
