// What must outlive a restart of the server: entities, and hosted @contexts (their URLs are in
// clients' Link headers).
#include <gtest/gtest.h>

#include "harness.h"

namespace allmende::testing {
namespace {

std::string linkTo(const std::string& url) {
  return "<" + url + ">; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"";
}

TEST(Persistence, HostedContextsSurviveARestartUntilDeleted) {
  TempDir dir;
  std::string url;
  {
    ServerProcess server(ALLMENDE_BINARY, dir.path());
    ASSERT_TRUE(server.ok());
    HttpClient client(server.port());
    HttpResult added = client.request("POST", "/ngsi-ld/v1/jsonldContexts", {{"Content-Type", "application/json"}},
                                      R"({"@context": {"pegel": "https://example.org/hydro#waterLevel"}})");
    ASSERT_EQ(added.status, 201) << added.body;
    url = added.header("location");
    ASSERT_FALSE(url.empty());
    HttpResult created = client.request(
        "POST", "/ngsi-ld/v1/entities", {{"Content-Type", "application/json"}, {"Link", linkTo(url)}},
        R"({"id": "urn:ngsi-ld:Gauge:1", "type": "Gauge", "pegel": {"type": "Property", "value": 1.2}})");
    ASSERT_EQ(created.status, 201) << created.body;
  }
  // The port changes with the restart; the context is found by its id, wherever it is served.
  std::string id = url.substr(url.rfind('/') + 1);
  {
    ServerProcess server(ALLMENDE_BINARY, dir.path());
    ASSERT_TRUE(server.ok());
    HttpClient client(server.port());
    HttpResult got = client.request("GET", "/ngsi-ld/v1/jsonldContexts/" + id);
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_NE(got.body.find("example.org/hydro#waterLevel"), std::string::npos);
    std::string now = "http://localhost:" + std::to_string(server.port()) + "/ngsi-ld/v1/jsonldContexts/" + id;
    HttpResult entity = client.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:1?options=keyValues",
                                       {{"Link", linkTo(now)}});
    ASSERT_EQ(entity.status, 200) << entity.body;
    EXPECT_NE(entity.body.find("\"pegel\":1.2"), std::string::npos) << entity.body;
    ASSERT_EQ(client.request("DELETE", "/ngsi-ld/v1/jsonldContexts/" + id).status, 204);
  }
  {
    ServerProcess server(ALLMENDE_BINARY, dir.path());
    ASSERT_TRUE(server.ok());
    HttpClient client(server.port());
    EXPECT_EQ(client.request("GET", "/ngsi-ld/v1/jsonldContexts/" + id).status, 404);
  }
}

}  // namespace
}  // namespace allmende::testing
