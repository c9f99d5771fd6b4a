// Notifications end to end: the real server, a real HTTP receiver (receiver.h). What must not
// arrive is checked with a sentinel: a second subscription to the same endpoint that is notified
// by a later write to the same entity. Notifications of one entity to one endpoint arrive in
// commit order, so once the sentinel's has arrived, an earlier one can no longer come.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <functional>
#include <set>

#include "harness.h"
#include "receiver.h"

namespace allmende::testing {
namespace {

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  return d;
}

// Polls `cond` until it holds or 15 s passed (state the server updates after a delivery).
bool eventually(const std::function<bool()>& cond) {
  for (int i = 0; i < 1500; ++i) {
    if (cond()) return true;
    usleep(10000);
  }
  return false;
}

class Notify : public ::testing::Test {
 protected:
  void SetUp() override { start(); }

  void start(std::vector<std::string> args = {}) {
    server_ = std::make_unique<ServerProcess>(ALLMENDE_BINARY, dir_.path(), args);
    ASSERT_TRUE(server_->ok());
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  HttpResult call(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::string& tenant = "") {
    auto headers = kJson;
    if (!tenant.empty()) headers.emplace_back("NGSILD-Tenant", tenant);
    return client_->request(method, target, headers, body);
  }

  // Creates a subscription; returns its id.
  std::string subscribe(const std::string& body, const std::string& tenant = "") {
    HttpResult r = call("POST", "/ngsi-ld/v1/subscriptions", body, tenant);
    EXPECT_EQ(r.status, 201) << r.body;
    std::string loc = r.header("location");
    return loc.substr(loc.rfind('/') + 1);
  }

  void write(const std::string& method, const std::string& target, const std::string& body,
             const std::string& tenant = "") {
    HttpResult r = call(method, target, body, tenant);
    ASSERT_TRUE(r.status == 201 || r.status == 204) << method << " " << target << ": " << r.status << " " << r.body;
  }

  void createGauge(const std::string& id, double level, const std::string& extra = "", const std::string& tenant = "") {
    write("POST", "/ngsi-ld/v1/entities",
          R"({"id": ")" + id + R"(", "type": "Gauge", "level": {"type": "Property", "value": )" +
              std::to_string(level) + "}" + extra + "}",
          tenant);
  }

  void setLevel(const std::string& id, double level, const std::string& tenant = "") {
    write("PATCH", "/ngsi-ld/v1/entities/" + id + "/attrs",
          R"({"level": {"type": "Property", "value": )" + std::to_string(level) + "}}", tenant);
  }

  // A counter of the subscription's notification status, -1 when absent.
  int counter(const std::string& sub, const char* name) {
    HttpResult r = call("GET", "/ngsi-ld/v1/subscriptions/" + sub);
    auto d = parse(r.body);
    if (!d.IsObject() || !d.HasMember("notification") || !d["notification"].HasMember(name)) return -1;
    return d["notification"][name].GetInt();
  }

  // The notifications received so far for subscription `id`.
  std::vector<ReceivedRequest> of(const std::string& subscriptionId) {
    std::vector<ReceivedRequest> out;
    for (auto& r : receiver_.requests()) {
      if (parse(r.body)["subscriptionId"] == subscriptionId.c_str()) out.push_back(r);
    }
    return out;
  }

  // Waits until subscription `id` has `n` notifications.
  bool waitFor(const std::string& subscriptionId, size_t n) {
    return receiver_.waitUntil([&](const std::vector<ReceivedRequest>& all) {
      size_t k = 0;
      for (const auto& r : all) k += parse(r.body)["subscriptionId"] == subscriptionId.c_str();
      return k >= n;
    });
  }

  // A subscription to the same endpoint notified by every change of Gauge entities.
  std::string sentinel() {
    return subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
        "notificationTrigger": ["entityCreated", "entityUpdated", "entityDeleted"],
        "notification": {"endpoint": {"uri": ")" +
                     receiver_.url() + R"("}}})");
  }

  TempDir dir_;
  Receiver receiver_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(Notify, CreateAndUpdateAreNotifiedWithTheStateOfTheChange) {
  std::string sub = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notification": {"format": "keyValues", "endpoint": {"uri": ")" +
                              receiver_.url() + R"("}}})");
  createGauge("urn:ngsi-ld:Gauge:1", 1.5);
  setLevel("urn:ngsi-ld:Gauge:1", 2.5);
  ASSERT_TRUE(waitFor(sub, 2));
  auto got = of(sub);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].target, "/notify");
  EXPECT_EQ(got[0].header("content-type"), "application/json");
  EXPECT_NE(got[0].header("link").find("rel=\"http://www.w3.org/ns/json-ld#context\""), std::string::npos);
  auto first = parse(got[0].body);
  EXPECT_EQ(std::string(first["type"].GetString()), "Notification");
  EXPECT_EQ(std::string(first["id"].GetString()).rfind("urn:ngsi-ld:Notification:", 0), 0u);
  EXPECT_TRUE(first["notifiedAt"].IsString());
  ASSERT_EQ(first["data"].Size(), 1u);
  EXPECT_EQ(std::string(first["data"][0]["id"].GetString()), "urn:ngsi-ld:Gauge:1");
  EXPECT_EQ(std::string(first["data"][0]["type"].GetString()), "Gauge");
  EXPECT_EQ(first["data"][0]["level"].GetDouble(), 1.5);
  EXPECT_EQ(parse(got[1].body)["data"][0]["level"].GetDouble(), 2.5);
  // Status fields, updated once the receiver has answered.
  ASSERT_TRUE(eventually([&] { return counter(sub, "timesSent") == 2; }));
  auto st = parse(call("GET", "/ngsi-ld/v1/subscriptions/" + sub).body);
  EXPECT_EQ(st["notification"]["timesSent"].GetInt(), 2);
  EXPECT_EQ(st["notification"]["timesFailed"].GetInt(), 0);
  EXPECT_TRUE(st["notification"]["lastSuccess"].IsString());
  EXPECT_EQ(std::string(st["notification"]["status"].GetString()), "ok");
}

TEST_F(Notify, TriggersDecideWhichChangesNotify) {
  std::string created = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notificationTrigger": ["entityCreated"], "notification": {"endpoint": {"uri": ")" +
                                  receiver_.url() + R"("}}})");
  std::string deleted = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notificationTrigger": ["entityDeleted"], "notification": {"endpoint": {"uri": ")" +
                                  receiver_.url() + R"("}}})");
  std::string attrDeleted = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notificationTrigger": ["attributeDeleted"], "notification": {"endpoint": {"uri": ")" +
                                      receiver_.url() + R"("}}})");
  std::string byDefault = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notification": {"endpoint": {"uri": ")" +
                                    receiver_.url() + R"("}}})");
  std::string sent = sentinel();
  createGauge("urn:ngsi-ld:Gauge:t", 1, R"(, "note": {"type": "Property", "value": "x"})");
  setLevel("urn:ngsi-ld:Gauge:t", 2);
  write("DELETE", "/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:t/attrs/note", "");
  write("DELETE", "/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:t", "");
  ASSERT_TRUE(waitFor(sent, 4));  // create, update, attribute delete (an update), delete
  EXPECT_EQ(of(created).size(), 1u);
  EXPECT_EQ(of(attrDeleted).size(), 1u);
  auto del = of(deleted);
  ASSERT_EQ(del.size(), 1u);
  auto d = parse(del[0].body);
  EXPECT_EQ(std::string(d["data"][0]["id"].GetString()), "urn:ngsi-ld:Gauge:t");
  EXPECT_TRUE(d["data"][0]["deletedAt"].IsString());
  // Default triggers (attributeCreated, attributeUpdated): the create and the update only.
  auto def = of(byDefault);
  ASSERT_EQ(def.size(), 2u);
  EXPECT_EQ(parse(def[1].body)["data"][0]["level"]["value"].GetDouble(), 2);
}

TEST_F(Notify, FiltersSelectTheChanges) {
  std::string q = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}], "q": "level>5",
      "notification": {"endpoint": {"uri": ")" +
                            receiver_.url() + R"("}}})");
  std::string watched =
      subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}], "watchedAttributes": ["flow"],
      "notification": {"endpoint": {"uri": ")" +
                receiver_.url() + R"("}}})");
  std::string pattern = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge", "idPattern": ":Gauge:b"}],
      "notification": {"endpoint": {"uri": ")" +
                                  receiver_.url() + R"("}}})");
  std::string geo = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "geoQ": {"georel": "near;maxDistance==1000", "geometry": "Point", "coordinates": [11.0, 48.0]},
      "notification": {"endpoint": {"uri": ")" +
                              receiver_.url() + R"("}}})");
  std::string scope = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}], "scopeQ": "/Isar/#",
      "notification": {"endpoint": {"uri": ")" +
                                receiver_.url() + R"("}}})");
  std::string otherType = subscribe(R"({"type": "Subscription", "entities": [{"type": "Weather"}],
      "notification": {"endpoint": {"uri": ")" +
                                    receiver_.url() + R"("}}})");
  std::string sent = sentinel();
  createGauge("urn:ngsi-ld:Gauge:a", 1,
              R"(, "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [11.001, 48.001]}})");
  setLevel("urn:ngsi-ld:Gauge:a", 7);
  write("POST", "/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:a/attrs", R"({"flow": {"type": "Property", "value": 3}})");
  createGauge("urn:ngsi-ld:Gauge:b", 1, R"(, "scope": "/Isar/North")");
  ASSERT_TRUE(waitFor(sent, 4));
  auto idsOf = [&](const std::string& sub) {
    std::vector<std::string> out;
    for (auto& r : of(sub)) out.push_back(parse(r.body)["data"][0]["id"].GetString());
    return out;
  };
  // q: only the update to 7 and the later flow change (level still 7).
  EXPECT_EQ(of(q).size(), 2u);
  EXPECT_EQ(idsOf(watched), std::vector<std::string>{"urn:ngsi-ld:Gauge:a"});
  EXPECT_EQ(idsOf(pattern), std::vector<std::string>{"urn:ngsi-ld:Gauge:b"});
  EXPECT_EQ(idsOf(geo).size(), 3u);  // a: create, update, flow; b has no location
  EXPECT_EQ(idsOf(scope), std::vector<std::string>{"urn:ngsi-ld:Gauge:b"});
  EXPECT_EQ(of(otherType).size(), 0u);
}

TEST_F(Notify, RenderingFollowsTheSubscription) {
  std::string attrs = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notification": {"attributes": ["level"], "format": "concise", "endpoint": {"uri": ")" +
                                receiver_.url() + R"("}}})");
  std::string ld = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notification": {"format": "keyValues", "endpoint": {"uri": ")" +
                             receiver_.url() +
                             R"(", "accept": "application/ld+json",
      "receiverInfo": [{"key": "X-Auth-Token", "value": "secret-1"}]}}})");
  createGauge("urn:ngsi-ld:Gauge:r", 4, R"(, "note": {"type": "Property", "value": "n"})");
  ASSERT_TRUE(waitFor(attrs, 1));
  ASSERT_TRUE(waitFor(ld, 1));
  auto a = parse(of(attrs)[0].body);
  EXPECT_EQ(a["data"][0]["level"].GetDouble(), 4);  // concise
  EXPECT_FALSE(a["data"][0].HasMember("note"));
  auto l = of(ld)[0];
  EXPECT_EQ(l.header("content-type"), "application/ld+json");
  EXPECT_EQ(l.header("link"), "");
  EXPECT_EQ(l.header("x-auth-token"), "secret-1");
  auto lb = parse(l.body);
  EXPECT_TRUE(lb.HasMember("@context"));
  EXPECT_EQ(std::string(lb["data"][0]["note"].GetString()), "n");
}

TEST_F(Notify, TermsAreCompactedWithTheSubscriptionsContext) {
  HttpResult ctx =
      call("POST", "/ngsi-ld/v1/jsonldContexts", R"({"@context": {"pegel": "https://example.org/hydro#waterLevel"}})");
  ASSERT_EQ(ctx.status, 201) << ctx.body;
  std::string url = ctx.header("location");
  std::string link = "<" + url + R"(>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json")";
  auto withLink = kJson;
  withLink.emplace_back("Link", link);
  HttpResult sub =
      client_->request("POST", "/ngsi-ld/v1/subscriptions", withLink,
                       R"({"type": "Subscription", "entities": [{"type": "Gauge"}], "watchedAttributes": ["pegel"],
      "notification": {"format": "keyValues", "endpoint": {"uri": ")" +
                           receiver_.url() + R"("}}})");
  ASSERT_EQ(sub.status, 201) << sub.body;
  std::string id = sub.header("location").substr(sub.header("location").rfind('/') + 1);
  HttpResult created = client_->request("POST", "/ngsi-ld/v1/entities", withLink,
                                        R"({"id": "urn:ngsi-ld:Gauge:ctx", "type": "Gauge", "pegel": 1.25})");
  ASSERT_EQ(created.status, 201) << created.body;
  // The same attribute written with its full IRI is the same attribute.
  write("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:ctx/attrs",
        R"({"https://example.org/hydro#waterLevel": 1.5})");
  ASSERT_TRUE(waitFor(id, 2));
  auto got = of(id);
  EXPECT_EQ(got[0].header("link"), link);
  EXPECT_EQ(parse(got[0].body)["data"][0]["pegel"].GetDouble(), 1.25);
  EXPECT_EQ(parse(got[1].body)["data"][0]["pegel"].GetDouble(), 1.5);
}

TEST_F(Notify, BatchesNotifyEveryEntity) {
  // 20 ops: the batch is worked out on the request's thread (prepared writes), the matcher too.
  std::string sub = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notificationTrigger": ["entityCreated", "entityDeleted"],
      "notification": {"format": "keyValues", "endpoint": {"uri": ")" +
                              receiver_.url() + R"("}}})");
  std::string batch = "[", ids = "[";
  for (int i = 0; i < 20; ++i) {
    std::string id = "urn:ngsi-ld:Gauge:batch" + std::to_string(i);
    batch +=
        std::string(i ? "," : "") + R"({"id": ")" + id + R"(", "type": "Gauge", "level": )" + std::to_string(i) + "}";
    ids += std::string(i ? "," : "") + "\"" + id + "\"";
  }
  write("POST", "/ngsi-ld/v1/entityOperations/upsert", batch + "]");
  write("POST", "/ngsi-ld/v1/entityOperations/delete", ids + "]");
  ASSERT_TRUE(waitFor(sub, 40));
  std::set<std::string> created, deleted;
  for (auto& r : of(sub)) {
    auto d = parse(r.body);
    (d["data"][0].HasMember("deletedAt") ? deleted : created).insert(d["data"][0]["id"].GetString());
  }
  EXPECT_EQ(created.size(), 20u);
  EXPECT_EQ(deleted.size(), 20u);
}

TEST_F(Notify, SysAttrsAndGeoJson) {
  std::string sys = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notification": {"sysAttrs": true, "endpoint": {"uri": ")" +
                              receiver_.url() + R"("}}})");
  std::string geo = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notification": {"format": "keyValues", "endpoint": {"uri": ")" +
                              receiver_.url() + R"(", "accept": "application/geo+json"}}})");
  createGauge("urn:ngsi-ld:Gauge:geo", 3,
              R"(, "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [11.5, 48.1]}})");
  ASSERT_TRUE(waitFor(sys, 1));
  ASSERT_TRUE(waitFor(geo, 1));
  auto s1 = parse(of(sys)[0].body);
  EXPECT_TRUE(s1["data"][0]["createdAt"].IsString());
  EXPECT_TRUE(s1["data"][0]["level"]["modifiedAt"].IsString());
  auto g = of(geo)[0];
  EXPECT_EQ(g.header("content-type"), "application/geo+json");
  auto g1 = parse(g.body);
  EXPECT_EQ(std::string(g1["data"]["type"].GetString()), "FeatureCollection");
  EXPECT_EQ(std::string(g1["data"]["features"][0]["type"].GetString()), "Feature");
  EXPECT_EQ(g1["data"]["features"][0]["geometry"]["coordinates"][0].GetDouble(), 11.5);
}

TEST_F(Notify, ShowChangesAddsThePreviousValue) {
  std::string sub = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notification": {"showChanges": true, "endpoint": {"uri": ")" +
                              receiver_.url() + R"("}}})");
  createGauge("urn:ngsi-ld:Gauge:sc", 1, R"(, "note": {"type": "Property", "value": "same"})");
  setLevel("urn:ngsi-ld:Gauge:sc", 2);
  ASSERT_TRUE(waitFor(sub, 2));
  auto first = parse(of(sub)[0].body);
  EXPECT_FALSE(first["data"][0]["level"].HasMember("previousValue"));
  auto second = parse(of(sub)[1].body);
  EXPECT_EQ(second["data"][0]["level"]["value"].GetDouble(), 2);
  EXPECT_EQ(second["data"][0]["level"]["previousValue"].GetDouble(), 1);
  EXPECT_FALSE(second["data"][0]["note"].HasMember("previousValue"));
}

TEST_F(Notify, SubscriptionsNeverSeeAnotherTenant) {
  std::string mine = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notification": {"endpoint": {"uri": ")" +
                                   receiver_.url() + R"("}}})",
                               "town-a");
  std::string sentB = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notification": {"endpoint": {"uri": ")" +
                                    receiver_.url() + R"("}}})",
                                "town-b");
  createGauge("urn:ngsi-ld:Gauge:x", 1, "", "town-b");
  createGauge("urn:ngsi-ld:Gauge:x", 1, "", "");
  createGauge("urn:ngsi-ld:Gauge:x", 2, "", "town-a");
  ASSERT_TRUE(waitFor(mine, 1));
  ASSERT_TRUE(waitFor(sentB, 1));
  auto got = of(mine);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].header("ngsild-tenant"), "town-a");
  EXPECT_EQ(parse(got[0].body)["data"][0]["level"]["value"].GetDouble(), 2);
  EXPECT_EQ(of(sentB)[0].header("ngsild-tenant"), "town-b");
}

TEST_F(Notify, FailedDeliveriesAreRetriedAndCounted) {
  receiver_.setStatusFn([](size_t n) { return n < 2 ? 500 : 204; });
  std::string sub = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notification": {"endpoint": {"uri": ")" +
                              receiver_.url() + R"("}}})");
  createGauge("urn:ngsi-ld:Gauge:f", 1);
  ASSERT_TRUE(waitFor(sub, 3));
  auto got = of(sub);
  // The same notification three times (same id), the third accepted.
  EXPECT_EQ(std::string(parse(got[0].body)["id"].GetString()), parse(got[2].body)["id"].GetString());
  ASSERT_TRUE(eventually([&] { return counter(sub, "timesSent") == 3; }));
  auto st = parse(call("GET", "/ngsi-ld/v1/subscriptions/" + sub).body);
  EXPECT_EQ(st["notification"]["timesSent"].GetInt(), 3);
  EXPECT_EQ(st["notification"]["timesFailed"].GetInt(), 2);
  EXPECT_TRUE(st["notification"]["lastFailure"].IsString());
}

TEST_F(Notify, GivesUpAfterTheLastAttemptAndGoesOn) {
  server_.reset();
  start({"--notify-attempts", "2"});
  receiver_.setStatusFn([](size_t n) { return n < 2 ? 503 : 204; });
  std::string sub = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notification": {"format": "keyValues", "endpoint": {"uri": ")" +
                              receiver_.url() + R"("}}})");
  createGauge("urn:ngsi-ld:Gauge:g", 1);
  ASSERT_TRUE(eventually([&] { return counter(sub, "timesFailed") == 2; }));
  // Given up after two attempts; the endpoint counts as down for the longest backoff (0.1 s
  // with two attempts), then the next notification is tried and delivered.
  usleep(300000);
  setLevel("urn:ngsi-ld:Gauge:g", 2);
  ASSERT_TRUE(waitFor(sub, 3));
  auto got = of(sub);
  EXPECT_EQ(parse(got[0].body)["data"][0]["level"].GetDouble(), 1);
  EXPECT_EQ(parse(got[1].body)["data"][0]["level"].GetDouble(), 1);
  EXPECT_EQ(parse(got[2].body)["data"][0]["level"].GetDouble(), 2);
  ASSERT_TRUE(eventually([&] { return counter(sub, "timesSent") == 3; }));
}

TEST_F(Notify, ADeadEndpointsBacklogIsGivenUpNotHeld) {
  server_.reset();
  start({"--notify-attempts", "2"});
  // Port 1 on loopback: nothing listens, every connection is refused.
  std::string sub = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notification": {"endpoint": {"uri": "http://127.0.0.1:1/dead"}}})");
  for (int i = 0; i < 30; ++i) createGauge("urn:ngsi-ld:Gauge:d" + std::to_string(i), i);
  // Every notification ends as failed (counted), none stays queued.
  ASSERT_TRUE(eventually([&] { return counter(sub, "timesFailed") >= 30; }));
}

TEST_F(Notify, AHungReceiverDoesNotDelayOthers) {
  server_.reset();
  start({"--notify-timeout-ms", "120000"});
  Receiver hung(true);
  subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notification": {"endpoint": {"uri": ")" +
            hung.url() + R"("}}})");
  std::string sub = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notification": {"endpoint": {"uri": ")" +
                              receiver_.url() + R"("}}})");
  for (int i = 0; i < 20; ++i) createGauge("urn:ngsi-ld:Gauge:h" + std::to_string(i), i);
  // The hung receiver holds its connections for two minutes; the other gets everything now.
  EXPECT_TRUE(waitFor(sub, 20));
  server_.reset();  // before `hung` goes away
}

TEST_F(Notify, PausedAndExpiredSubscriptionsDoNotNotify) {
  std::string sub = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notification": {"format": "keyValues", "endpoint": {"uri": ")" +
                              receiver_.url() + R"("}}})");
  std::string sent = sentinel();
  write("PATCH", "/ngsi-ld/v1/subscriptions/" + sub, R"({"isActive": false})");
  createGauge("urn:ngsi-ld:Gauge:p", 1);
  ASSERT_TRUE(waitFor(sent, 1));
  EXPECT_EQ(of(sub).size(), 0u);
  write("PATCH", "/ngsi-ld/v1/subscriptions/" + sub, R"({"isActive": true})");
  setLevel("urn:ngsi-ld:Gauge:p", 2);
  ASSERT_TRUE(waitFor(sub, 1));
  write("PATCH", "/ngsi-ld/v1/subscriptions/" + sub, R"({"expiresAt": "2021-01-01T00:00:00Z"})");
  setLevel("urn:ngsi-ld:Gauge:p", 3);
  ASSERT_TRUE(waitFor(sent, 3));
  auto got = of(sub);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(parse(got[0].body)["data"][0]["level"].GetDouble(), 2);
  write("DELETE", "/ngsi-ld/v1/subscriptions/" + sub, "");
  write("PATCH", "/ngsi-ld/v1/subscriptions/" + sent, R"({"expiresAt": null})");
}

TEST_F(Notify, ThrottlingSpacesNotificationsWithoutDroppingThem) {
  std::string sub = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}], "throttling": 0.3,
      "notification": {"format": "keyValues", "endpoint": {"uri": ")" +
                              receiver_.url() + R"("}}})");
  createGauge("urn:ngsi-ld:Gauge:th", 1);
  setLevel("urn:ngsi-ld:Gauge:th", 2);
  setLevel("urn:ngsi-ld:Gauge:th", 3);
  ASSERT_TRUE(waitFor(sub, 3));
  auto got = of(sub);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(parse(got[i].body)["data"][0]["level"].GetDouble(), i + 1.0);
  // Sends are spaced by the throttling period (0.3 s); arrivals differ from sends by each
  // message's delivery time, the first one's including the connection, so the bounds leave
  // room for that. Unthrottled, all three arrive within milliseconds.
  EXPECT_GE(got[2].receivedMicros - got[1].receivedMicros, 250000);
  EXPECT_GE(got[2].receivedMicros - got[0].receivedMicros, 500000);
}

TEST_F(Notify, TimeIntervalNotifiesTheCurrentStatePeriodically) {
  createGauge("urn:ngsi-ld:Gauge:ti1", 1);
  createGauge("urn:ngsi-ld:Gauge:ti2", 2);
  std::string sub = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}], "timeInterval": 0.2,
      "notification": {"format": "keyValues", "endpoint": {"uri": ")" +
                              receiver_.url() + R"("}}})");
  ASSERT_TRUE(waitFor(sub, 1));
  setLevel("urn:ngsi-ld:Gauge:ti1", 5);
  // A later periodic notification carries both entities in their current state.
  ASSERT_TRUE(receiver_.waitUntil([&](const std::vector<ReceivedRequest>& all) {
    for (auto& r : all) {
      auto d = parse(r.body);
      if (d["subscriptionId"] != sub.c_str()) continue;
      if (d["data"].Size() == 2 && d["data"][0]["level"].GetDouble() == 5) return true;
    }
    return false;
  }));
  ASSERT_TRUE(waitFor(sub, 5));
  auto got = of(sub);
  // Periods apart: three periods from the second to the fifth (the first may have waited for its
  // connection; one late send only shortens the gap after it, not the span of three periods).
  EXPECT_GE(got[4].receivedMicros - got[1].receivedMicros, 3 * 150000);
}

TEST_F(Notify, SubscriptionsSurviveARestart) {
  std::string sub = subscribe(R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
      "notification": {"format": "keyValues", "endpoint": {"uri": ")" +
                              receiver_.url() + R"("}}})");
  server_->stop();
  start();
  ASSERT_EQ(call("GET", "/ngsi-ld/v1/subscriptions/" + sub).status, 200);
  createGauge("urn:ngsi-ld:Gauge:rs", 1);
  ASSERT_TRUE(waitFor(sub, 1));
}

}  // namespace
}  // namespace allmende::testing
