// SSRF (issue 7): remote @context URLs and notification endpoints (HTTP and MQTT) are checked
// against the egress policy. The tests run the server without --production (so other tests can
// reach loopback), and exercise the deny path with --egress-private deny, with --production, and
// with explicit --egress-deny rules that a host name only meets after resolution (the check is
// on the address connected to).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "harness.h"
#include "receiver.h"

namespace allmende::testing {
namespace {

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};
const std::vector<std::pair<std::string, std::string>> kLdJson = {{"Content-Type", "application/ld+json"}};

std::string subscription(const std::string& uri) {
  return R"({"type": "Subscription", "entities": [{"type": "Probe"}],
             "notification": {"endpoint": {"uri": ")" +
         uri + R"("}}})";
}

void expectEgressRefusal(const HttpResult& r, const std::string& what) {
  EXPECT_EQ(r.status, 400) << what << ": " << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json") << what;
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  ASSERT_TRUE(d.IsObject()) << r.body;
  EXPECT_STREQ(d["type"].GetString(), "https://uri.etsi.org/ngsi-ld/errors/BadRequestData");
  EXPECT_NE(std::string(d["detail"].GetString()).find("egress policy"), std::string::npos) << r.body;
}

// Waits until the subscription's notification status reports a failure; returns the document.
rapidjson::Document waitForFailure(HttpClient& client, const std::string& location) {
  rapidjson::Document d;
  for (int i = 0; i < 300; ++i) {
    HttpResult r = client.request("GET", location);
    d.Parse(r.body.c_str());
    if (d.IsObject() && d.HasMember("notification") && d["notification"].HasMember("timesFailed") &&
        d["notification"]["timesFailed"].GetUint64() > 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return d;
}

TEST(EgressTest, PrivateDestinationsAreRefusedAtOnceWhenDenied) {
  TempDir dir;
  Receiver receiver;
  ServerProcess server(ALLMENDE_BINARY, dir.path(), {"--egress-private", "deny"});
  ASSERT_TRUE(server.ok());
  HttpClient client(server.port());
  for (std::string uri :
       {receiver.url(), "http://localhost:" + std::to_string(receiver.port()) + "/n", std::string("http://[::1]:9/n"),
        std::string("https://169.254.169.254/latest/meta-data"), std::string("http://10.1.2.3/n"),
        std::string("mqtt://127.0.0.1:1883/topic"), std::string("mqtts://192.168.0.1/topic")}) {
    expectEgressRefusal(client.request("POST", "/ngsi-ld/v1/subscriptions", kJson, subscription(uri)), uri);
  }
  // A remote @context on a private address is refused the same way, before any connection.
  for (std::string ctx : {"http://127.0.0.1:" + std::to_string(receiver.port()) + "/ctx.jsonld",
                          "http://localhost:" + std::to_string(receiver.port()) + "/ctx.jsonld"}) {
    HttpResult r = client.request("POST", "/ngsi-ld/v1/entities", kLdJson,
                                  R"({"id": "urn:ngsi-ld:Probe:1", "type": "Probe", "@context": ")" + ctx + R"("})");
    expectEgressRefusal(r, ctx);
    r = client.request(
        "GET", "/ngsi-ld/v1/entities?type=Probe",
        {{"Link", "<" + ctx + R"(>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json")"}});
    expectEgressRefusal(r, "Link " + ctx);
  }
  EXPECT_EQ(receiver.count(), 0u);
}

TEST(EgressTest, ProductionModeDeniesPrivateRangesByDefault) {
  TempDir dir;
  std::string keyFile = dir.path() + "-admin.key";
  const std::string key = "test-admin-key-0123456789abcdefghijklmnop";
  std::ofstream(keyFile) << key << "\n";
  Receiver receiver;
  ServerProcess server(ALLMENDE_BINARY, dir.path(), {"--production", "--admin-key-file", keyFile});
  ASSERT_TRUE(server.ok());
  HttpClient client(server.port());
  HttpResult r =
      client.request("POST", "/ngsi-ld/v1/subscriptions", {{"Content-Type", "application/json"}, {"X-API-Key", key}},
                     subscription(receiver.url()));
  expectEgressRefusal(r, "production, loopback receiver");
  unlink(keyFile.c_str());
}

// The name passes the check that needs no resolution; the address it resolves to is denied at
// the connect. Nothing reaches the receiver, and the failure names the policy.
TEST(EgressTest, ResolvedAddressIsCheckedAtDelivery) {
  TempDir dir;
  Receiver receiver;
  ServerProcess server(ALLMENDE_BINARY, dir.path(),
                       {"--egress-deny", "127.0.0.0/8", "--egress-deny", "::1", "--notify-attempts", "2"});
  ASSERT_TRUE(server.ok());
  HttpClient client(server.port());
  const std::string port = std::to_string(receiver.port());
  HttpResult http =
      client.request("POST", "/ngsi-ld/v1/subscriptions", kJson, subscription("http://localhost:" + port + "/notify"));
  ASSERT_EQ(http.status, 201) << http.body;
  HttpResult mqtt =
      client.request("POST", "/ngsi-ld/v1/subscriptions", kJson, subscription("mqtt://localhost:" + port + "/topic"));
  ASSERT_EQ(mqtt.status, 201) << mqtt.body;
  HttpResult e = client.request("POST", "/ngsi-ld/v1/entities", kJson,
                                R"({"id": "urn:ngsi-ld:Probe:1", "type": "Probe", "n": 1})");
  ASSERT_EQ(e.status, 201) << e.body;
  for (const auto& sub : {http, mqtt}) {
    rapidjson::Document d = waitForFailure(client, sub.header("location"));
    ASSERT_TRUE(d.IsObject());
    EXPECT_EQ(d["notification"]["timesFailed"].GetUint64(), 1u) << sub.header("location");
    EXPECT_TRUE(d["notification"].HasMember("lastFailure"));
  }
  // An @context behind such a name is refused with 400 too (not 503): the policy, not the network.
  HttpResult r = client.request(
      "POST", "/ngsi-ld/v1/entities", kLdJson,
      R"({"id": "urn:ngsi-ld:Probe:2", "type": "Probe", "@context": "http://localhost:)" + port + R"(/ctx.jsonld"})");
  expectEgressRefusal(r, "@context via localhost");
  EXPECT_EQ(receiver.count(), 0u) << "a denied address was connected to";
}

// Without restrictions (the default outside production), the same receiver gets notified.
TEST(EgressTest, AllowedDestinationsWork) {
  TempDir dir;
  Receiver receiver;
  ServerProcess server(ALLMENDE_BINARY, dir.path(),
                       {"--egress-private", "deny", "--egress-allow", "127.0.0.1", "--egress-deny", "10.0.0.0/8"});
  ASSERT_TRUE(server.ok());
  HttpClient client(server.port());
  ASSERT_EQ(client.request("POST", "/ngsi-ld/v1/subscriptions", kJson, subscription(receiver.url())).status, 201);
  expectEgressRefusal(client.request("POST", "/ngsi-ld/v1/subscriptions", kJson, subscription("http://10.0.0.1/n")),
                      "explicitly denied");
  ASSERT_EQ(
      client.request("POST", "/ngsi-ld/v1/entities", kJson, R"({"id": "urn:ngsi-ld:Probe:1", "type": "Probe", "n": 1})")
          .status,
      201);
  EXPECT_TRUE(receiver.waitFor(1));
}

}  // namespace
}  // namespace allmende::testing
