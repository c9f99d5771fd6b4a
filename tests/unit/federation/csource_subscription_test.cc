// Context source subscriptions: reading, validation, which registrations they select and the
// triggerReason of a change (NGSI-LD 5.11, 5.3.2).
#include "federation/csource_subscription.h"

#include <gtest/gtest.h>

namespace allmende::federation {
namespace {

std::string ex(std::string_view t) {
  return t.find(':') != std::string_view::npos ? std::string(t) : "https://example.org/" + std::string(t);
}

Result<CSourceSubscription> sub(const std::string& text) {
  JsonDocument d;
  EXPECT_TRUE(parseJson(text, d).isOk());
  return parseCSourceSubscription(d, ex, "t", "", 7);
}

Registration reg(const std::string& text) {
  JsonDocument d;
  EXPECT_TRUE(parseJson(text, d).isOk());
  auto r = parseRegistration(d, ex, "t", 7);
  EXPECT_TRUE(r) << r.status().toString();
  return *r;
}

TEST(CSourceSubscription, ParsesAndRoundTrips) {
  auto s =
      sub(R"({"id": "urn:s:1", "type": "Subscription", "entities": [{"type": "Car"}], "watchedAttributes": ["speed"],
    "scopeQ": "/a/#", "q": "operator==\"x\"", "geoQ": {"georel": "intersects", "geometry": "Point", "coordinates": [1, 2]},
    "notification": {"endpoint": {"uri": "http://r.example.org/n", "accept": "application/ld+json",
      "receiverInfo": [{"key": "X-K", "value": "v"}]}}})");
  ASSERT_TRUE(s) << s.status().toString();
  EXPECT_EQ(s->entities[0].types[0], "https://example.org/Car");
  EXPECT_EQ(s->watchedAttributes[0], "https://example.org/speed");
  std::string text = toInternalJson(*s);
  auto back = csourceSubscriptionFromJson("t", text);
  ASSERT_TRUE(back) << back.status().toString();
  EXPECT_EQ(toInternalJson(*back), text);
}

TEST(CSourceSubscription, Validation) {
  EXPECT_FALSE(sub(R"({"type": "Subscription", "entities": [{"type": "Car"}]})"));  // no notification
  EXPECT_FALSE(sub(R"({"type": "Subscription", "notification": {"endpoint": {"uri": "http://r.org"}}})"));
  EXPECT_FALSE(
      sub(R"({"type": "X", "entities": [{"type": "Car"}], "notification": {"endpoint": {"uri": "http://r.org"}}})"));
  EXPECT_FALSE(sub(
      R"({"type": "Subscription", "entities": [{"type": "Car"}], "notification": {"endpoint": {"uri": "mqtt://r.org"}}})"));
  EXPECT_FALSE(sub(R"({"type": "Subscription", "entities": [{"type": "Car"}], "timeInterval": 10,
    "notification": {"endpoint": {"uri": "http://r.org"}}})"));
  EXPECT_FALSE(sub(R"({"type": "Subscription", "entities": [{"type": "Car"}], "q": "(((",
    "notification": {"endpoint": {"uri": "http://r.org"}}})"));
  EXPECT_FALSE(sub(R"({"type": "Subscription", "entities": [{"id": "urn:a"}],
    "notification": {"endpoint": {"uri": "http://r.org"}}})"));
}

TEST(CSourceSubscription, SelectsRegistrations) {
  auto s = sub(R"({"type": "Subscription", "entities": [{"type": "Car"}], "watchedAttributes": ["speed"],
    "notification": {"endpoint": {"uri": "http://r.org"}}})");
  ASSERT_TRUE(s);
  EXPECT_TRUE(subscriptionSelects(*s, reg(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.org",
    "information": [{"entities": [{"type": "Car"}]}]})")));
  EXPECT_FALSE(subscriptionSelects(*s, reg(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.org",
    "information": [{"entities": [{"type": "Bus"}]}]})")));
  EXPECT_FALSE(subscriptionSelects(*s, reg(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.org",
    "information": [{"entities": [{"type": "Car"}], "propertyNames": ["color"]}]})")));
  auto geo = sub(R"({"type": "Subscription", "entities": [{"type": "Car"}],
    "geoQ": {"georel": "near;maxDistance==1000", "geometry": "Point", "coordinates": [11.5, 48.1]},
    "notification": {"endpoint": {"uri": "http://r.org"}}})");
  ASSERT_TRUE(geo) << geo.status().toString();
  EXPECT_TRUE(subscriptionSelects(*geo, reg(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.org",
    "location": {"type": "Polygon", "coordinates": [[[11, 48], [12, 48], [12, 49], [11, 49], [11, 48]]]},
    "information": [{"entities": [{"type": "Car"}]}]})")));
  EXPECT_FALSE(subscriptionSelects(*geo, reg(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.org",
    "location": {"type": "Point", "coordinates": [13.4, 52.5]}, "information": [{"entities": [{"type": "Car"}]}]})")));
}

TEST(CSourceSubscription, TriggerReasons) {
  EXPECT_EQ(triggerReason(false, true), "newlyMatching");
  EXPECT_EQ(triggerReason(true, true), "updated");
  EXPECT_EQ(triggerReason(true, false), "noLongerMatching");
  EXPECT_FALSE(triggerReason(false, false));
}

}  // namespace
}  // namespace allmende::federation
