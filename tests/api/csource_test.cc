// Context source registrations and csourceSubscriptions end to end (issue 12): notifications
// about registrations (NGSI-LD 5.11, CSourceNotification 5.3.2) at a real HTTP receiver, tenant
// separation of notifications, and registrations surviving a restart. Notifications to one
// endpoint arrive in the order of the changes, so a later expected notification proves that an
// unexpected earlier one was not sent.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <functional>

#include "harness.h"
#include "receiver.h"

namespace allmende::testing {
namespace {

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  return d;
}

bool eventually(const std::function<bool()>& cond) {
  for (int i = 0; i < 1500; ++i) {
    if (cond()) return true;
    usleep(10000);
  }
  return false;
}

class CSource : public ::testing::Test {
 protected:
  void SetUp() override { start(); }

  void start() {
    server_ = std::make_unique<ServerProcess>(ALLMENDE_BINARY, dir_.path());
    ASSERT_TRUE(server_->ok());
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  HttpResult call(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::string& tenant = "") {
    std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"}};
    if (!tenant.empty()) headers.emplace_back("NGSILD-Tenant", tenant);
    return client_->request(method, target, headers, body);
  }

  void expectStatus(int status, const std::string& method, const std::string& target, const std::string& body = "",
                    const std::string& tenant = "") {
    HttpResult r = call(method, target, body, tenant);
    EXPECT_EQ(r.status, status) << method << " " << target << ": " << r.body;
  }

  void subscribe(const std::string& id, const std::string& type, const std::string& tenant = "") {
    expectStatus(201, "POST", "/ngsi-ld/v1/csourceSubscriptions",
                 R"({"id": ")" + id + R"(", "type": "Subscription", "entities": [{"type": ")" + type +
                     R"("}], "notification": {"endpoint": {"uri": ")" + receiver_.url() + R"("}}})",
                 tenant);
  }

  void registerSource(const std::string& id, const std::string& type, const std::string& tenant = "") {
    expectStatus(201, "POST", "/ngsi-ld/v1/csourceRegistrations",
                 R"({"id": ")" + id + R"(", "type": "ContextSourceRegistration", "endpoint": "http://src.example.org",
                     "information": [{"entities": [{"type": ")" +
                     type + R"("}]}]})",
                 tenant);
  }

  // The n-th notification (from 0) once it arrived: its triggerReason and registration id.
  std::pair<std::string, std::string> notification(size_t n) {
    EXPECT_TRUE(receiver_.waitFor(n + 1)) << "notification " << n << " did not arrive";
    auto all = receiver_.requests();
    if (all.size() <= n) return {};
    auto d = parse(all[n].body);
    if (!d.IsObject() || !d.HasMember("data") || !d["data"].IsArray() || d["data"].Empty()) return {"?", all[n].body};
    return {d["triggerReason"].GetString(), d["data"][0]["id"].GetString()};
  }

  TempDir dir_;
  Receiver receiver_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(CSource, NotifiesNewlyMatchingUpdatedAndNoLongerMatching) {
  subscribe("urn:s:1", "Car");
  registerSource("urn:r:bus", "Bus");  // does not match: nothing
  registerSource("urn:r:car", "Car");
  EXPECT_EQ(notification(0), std::make_pair(std::string("newlyMatching"), std::string("urn:r:car")));
  auto first = receiver_.requests()[0];
  auto body = parse(first.body);
  EXPECT_STREQ(body["type"].GetString(), "Notification");
  EXPECT_STREQ(body["subscriptionId"].GetString(), "urn:s:1");
  EXPECT_TRUE(body.HasMember("notifiedAt"));
  EXPECT_STREQ(body["data"][0]["information"][0]["entities"][0]["type"].GetString(), "Car");
  EXPECT_EQ(first.header("content-type"), "application/json");
  EXPECT_NE(first.header("link").find("ngsi-ld-core-context"), std::string::npos);

  expectStatus(204, "PATCH", "/ngsi-ld/v1/csourceRegistrations/urn:r:car",
               R"({"endpoint": "http://other.example.org"})");
  EXPECT_EQ(notification(1), std::make_pair(std::string("updated"), std::string("urn:r:car")));
  EXPECT_STREQ(parse(receiver_.requests()[1].body)["data"][0]["endpoint"].GetString(), "http://other.example.org");

  expectStatus(204, "PATCH", "/ngsi-ld/v1/csourceRegistrations/urn:r:car",
               R"({"information": [{"entities": [{"type": "Tram"}]}]})");
  EXPECT_EQ(notification(2), std::make_pair(std::string("noLongerMatching"), std::string("urn:r:car")));

  // Neither the deletion of a registration that no longer matches nor changes of the bus
  // registration are notified: the next notification is the new car registration's.
  expectStatus(204, "DELETE", "/ngsi-ld/v1/csourceRegistrations/urn:r:car");
  expectStatus(204, "PATCH", "/ngsi-ld/v1/csourceRegistrations/urn:r:bus", R"({"endpoint": "http://x.example.org"})");
  registerSource("urn:r:car2", "Car");
  EXPECT_EQ(notification(3), std::make_pair(std::string("newlyMatching"), std::string("urn:r:car2")));
  expectStatus(204, "DELETE", "/ngsi-ld/v1/csourceRegistrations/urn:r:car2");
  EXPECT_EQ(notification(4), std::make_pair(std::string("noLongerMatching"), std::string("urn:r:car2")));

  // The subscription shows its delivery status.
  EXPECT_TRUE(eventually([&] {
    auto d = parse(call("GET", "/ngsi-ld/v1/csourceSubscriptions/urn:s:1").body);
    return d.IsObject() && d.HasMember("timesSent") && d["timesSent"].GetInt() == 5;
  }));
}

TEST_F(CSource, ANewSubscriptionHearsOfMatchingRegistrations) {
  registerSource("urn:r:1", "Car");
  registerSource("urn:r:2", "Bus");
  subscribe("urn:s:1", "Car");
  EXPECT_EQ(notification(0), std::make_pair(std::string("newlyMatching"), std::string("urn:r:1")));
}

TEST_F(CSource, InactiveSubscriptionsAreNotNotified) {
  subscribe("urn:s:paused", "Car");
  expectStatus(204, "PATCH", "/ngsi-ld/v1/csourceSubscriptions/urn:s:paused", R"({"isActive": false})");
  subscribe("urn:s:sentinel", "Bus");
  registerSource("urn:r:car", "Car");
  registerSource("urn:r:bus", "Bus");
  EXPECT_EQ(notification(0), std::make_pair(std::string("newlyMatching"), std::string("urn:r:bus")));
  EXPECT_STREQ(parse(receiver_.requests()[0].body)["subscriptionId"].GetString(), "urn:s:sentinel");
}

TEST_F(CSource, NotificationsStayInTheirTenant) {
  subscribe("urn:s:a", "Car", "a");
  registerSource("urn:r:b", "Car", "b");
  registerSource("urn:r:default", "Car");
  registerSource("urn:r:a", "Car", "a");
  EXPECT_EQ(notification(0), std::make_pair(std::string("newlyMatching"), std::string("urn:r:a")));
  EXPECT_EQ(receiver_.requests()[0].header("ngsild-tenant"), "a");
}

TEST_F(CSource, RegistrationsAndSubscriptionsSurviveARestart) {
  registerSource("urn:r:1", "Car", "a");
  subscribe("urn:s:1", "Bus", "a");
  server_->stop();
  start();
  HttpResult r = call("GET", "/ngsi-ld/v1/csourceRegistrations/urn:r:1", "", "a");
  EXPECT_EQ(r.status, 200) << r.body;
  r = call("GET", "/ngsi-ld/v1/csourceSubscriptions/urn:s:1", "", "a");
  EXPECT_EQ(r.status, 200) << r.body;
  registerSource("urn:r:2", "Bus", "a");
  EXPECT_EQ(notification(0), std::make_pair(std::string("newlyMatching"), std::string("urn:r:2")));
}

}  // namespace
}  // namespace allmende::testing
