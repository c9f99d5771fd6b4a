// The subscription matcher: which subscriptions a change notifies, through the index.
#include "notify/matcher.h"

#include <gtest/gtest.h>

#include "ld/context_store.h"

namespace allmende::notify {
namespace {

constexpr const char* kDefault = "https://uri.etsi.org/ngsi-ld/default-context/";

class MatcherTest : public ::testing::Test {
 protected:
  MatcherTest() : contexts_(ld::ContextStore::Options{}, nullptr) {}

  SubscriptionPtr add(const std::string& json, const std::string& tenant = "") {
    JsonDocument body;
    EXPECT_TRUE(parseJson(json, body).isOk());
    auto s = buildSubscription(body, "null", tenant, [this](const Json& v) { return contexts_.resolve(v); });
    EXPECT_TRUE(s.isOk()) << (s ? "" : s.status().toString());
    index_.put(*s);
    return *s;
  }

  // Entity in the internal form with a default-context type and attribute `level`.
  JsonDocument entity(const std::string& id, const std::string& type, double level, const char* extraAttr = nullptr) {
    std::string text = R"({"id":")" + id + R"(","type":[")" + kDefault + type + R"("],"attrs":{")" + kDefault +
                       R"(level":[{"type":"Property","value":)" + std::to_string(level) + "}]";
    if (extraAttr) text += R"(,")" + std::string(kDefault) + extraAttr + R"(":[{"type":"Property","value":1}])";
    text += "}}";
    JsonDocument d;
    d.Parse(text.c_str());
    return d;
  }

  std::vector<std::string> matched(const Json* before, const Json* after, const std::string& tenant = "") {
    std::vector<store::OutboxEntry> out;
    index_.match(tenant, before, after, 0, out);
    std::vector<std::string> ids;
    for (auto& e : out) ids.push_back(e.subscriptionId);
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  ld::ContextStore contexts_;
  SubscriptionIndex index_;
};

TEST_F(MatcherTest, IndexesByIdTypeAndAttribute) {
  add(R"({"id":"urn:s:id","type":"Subscription","entities":[{"id":"urn:e:1","type":"Gauge"}],"notification":{"endpoint":{"uri":"http://a/"}}})");
  add(R"({"id":"urn:s:type","type":"Subscription","entities":[{"type":"Gauge"}],"notification":{"endpoint":{"uri":"http://a/"}}})");
  add(R"({"id":"urn:s:attr","type":"Subscription","watchedAttributes":["flow"],"notification":{"endpoint":{"uri":"http://a/"}}})");
  add(R"({"id":"urn:s:other","type":"Subscription","entities":[{"type":"Weather"}],"notification":{"endpoint":{"uri":"http://a/"}}})");
  auto e1 = entity("urn:e:1", "Gauge", 1);
  auto e2 = entity("urn:e:2", "Gauge", 1);
  auto e2flow = entity("urn:e:2", "Gauge", 1, "flow");
  EXPECT_EQ(matched(nullptr, &e1), (std::vector<std::string>{"urn:s:id", "urn:s:type"}));
  EXPECT_EQ(matched(nullptr, &e2), (std::vector<std::string>{"urn:s:type"}));
  EXPECT_EQ(matched(&e2, &e2flow), (std::vector<std::string>{"urn:s:attr", "urn:s:type"}));
  EXPECT_EQ(index_.size(), 4u);
  EXPECT_TRUE(index_.remove("", "urn:s:type"));
  EXPECT_EQ(matched(nullptr, &e2), std::vector<std::string>{});
  EXPECT_FALSE(index_.remove("", "urn:s:type"));
}

TEST_F(MatcherTest, TenantsAreSeparate) {
  add(R"({"id":"urn:s:a","type":"Subscription","entities":[{"type":"Gauge"}],"notification":{"endpoint":{"uri":"http://a/"}}})",
      "a");
  auto e = entity("urn:e:1", "Gauge", 1);
  EXPECT_EQ(matched(nullptr, &e, "a"), std::vector<std::string>{"urn:s:a"});
  EXPECT_EQ(matched(nullptr, &e, "b"), std::vector<std::string>{});
  EXPECT_EQ(matched(nullptr, &e, ""), std::vector<std::string>{});
}

TEST_F(MatcherTest, ReplacingASubscriptionReindexesIt) {
  add(R"({"id":"urn:s:1","type":"Subscription","entities":[{"type":"Gauge"}],"notification":{"endpoint":{"uri":"http://a/"}}})");
  add(R"({"id":"urn:s:1","type":"Subscription","entities":[{"type":"Weather"}],"notification":{"endpoint":{"uri":"http://a/"}}})");
  auto g = entity("urn:e:1", "Gauge", 1);
  auto w = entity("urn:e:2", "Weather", 1);
  EXPECT_EQ(matched(nullptr, &g), std::vector<std::string>{});
  EXPECT_EQ(matched(nullptr, &w), std::vector<std::string>{"urn:s:1"});
}

TEST_F(MatcherTest, ChangeEventsNameWhatChanged) {
  auto a = entity("urn:e:1", "Gauge", 1);
  auto b = entity("urn:e:1", "Gauge", 2, "flow");
  ChangeEvents created = changeEventsOf(nullptr, &a);
  EXPECT_EQ(created.entity, kEntityCreated);
  ASSERT_EQ(created.attributes.size(), 1u);
  EXPECT_EQ(created.attributes[0].second, kAttributeCreated);
  ChangeEvents updated = changeEventsOf(&a, &b);
  EXPECT_EQ(updated.entity, kEntityUpdated);
  ASSERT_EQ(updated.attributes.size(), 2u);
  EXPECT_EQ(updated.attributes[0].second, kAttributeUpdated);
  EXPECT_EQ(updated.attributes[1].second, kAttributeCreated);
  ChangeEvents removed = changeEventsOf(&b, &a);
  EXPECT_EQ(removed.attributes.back().second, kAttributeDeleted);
  EXPECT_EQ(changeEventsOf(&a, nullptr).entity, kEntityDeleted);
  EXPECT_TRUE(changeEventsOf(&a, &a).attributes.empty());
}

TEST_F(MatcherTest, QAndWatchedAttributesFilter) {
  add(R"({"id":"urn:s:q","type":"Subscription","entities":[{"type":"Gauge"}],"q":"level>1.5","notification":{"endpoint":{"uri":"http://a/"}}})");
  add(R"({"id":"urn:s:w","type":"Subscription","entities":[{"type":"Gauge"}],"watchedAttributes":["flow"],"notification":{"endpoint":{"uri":"http://a/"}}})");
  auto a = entity("urn:e:1", "Gauge", 1);
  auto b = entity("urn:e:1", "Gauge", 2);
  auto c = entity("urn:e:1", "Gauge", 2, "flow");
  EXPECT_EQ(matched(nullptr, &a), std::vector<std::string>{});
  EXPECT_EQ(matched(&a, &b), std::vector<std::string>{"urn:s:q"});
  EXPECT_EQ(matched(&b, &c), (std::vector<std::string>{"urn:s:q", "urn:s:w"}));
}

}  // namespace
}  // namespace allmende::notify
