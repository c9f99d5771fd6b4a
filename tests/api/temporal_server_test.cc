// The temporal API where the case format cannot reach: history acknowledged is kept across
// kill -9, the demo municipality's history (and that a restart does not seed it twice), and
// concurrent writers each leaving every one of their instances.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <thread>

#include "harness.h"

namespace allmende::testing {
namespace {

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

// The number of value pairs of attribute `attr` in a temporalValues answer.
size_t valueCount(const std::string& body, const char* attr) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  if (!d.IsObject() || !d.HasMember(attr)) return 0;
  const auto& a = d[attr];
  return a.IsObject() && a.HasMember("values") ? a["values"].Size() : 0;
}

TEST(TemporalServer, AcknowledgedHistorySurvivesKill9) {
  TempDir dir;
  {
    ServerProcess server(ALLMENDE_BINARY, dir.path());
    ASSERT_TRUE(server.ok());
    HttpClient c(server.port());
    ASSERT_EQ(
        c.request(
             "POST", "/ngsi-ld/v1/entities", kJson,
             R"({"id":"urn:ngsi-ld:G:1","type":"G","level":{"type":"Property","value":0,"observedAt":"2026-01-01T00:00:00Z"}})")
            .status,
        201);
    for (int i = 1; i < 50; ++i) {
      std::string body = R"({"level":{"type":"Property","value":)" + std::to_string(i) +
                         R"(,"observedAt":"2026-01-01T00:)" + (i < 10 ? "0" : "") + std::to_string(i) + R"(:00Z"}})";
      ASSERT_EQ(c.request("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:G:1/attrs", kJson, body).status, 204);
    }
    server.kill9();
  }
  ServerProcess again(ALLMENDE_BINARY, dir.path());
  ASSERT_TRUE(again.ok());
  HttpClient c(again.port());
  HttpResult r = c.request("GET", "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:G:1?options=temporalValues");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(valueCount(r.body, "level"), 50u);
  r = c.request("GET",
                "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:G:1?options=aggregatedValues&aggrMethods=sum,totalCount");
  EXPECT_NE(r.body.find("\"sum\":[[1225"), std::string::npos) << r.body;  // 0 + 1 + ... + 49, from the rollups
}

TEST(TemporalServer, DemoHasThreeDaysOfHourlyHistorySeededOnce) {
  TempDir dir;
  const std::string path =
      "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:FloodMonitoring:09999001:1?attrs=currentLevel&options=temporalValues";
  size_t first = 0;
  {
    ServerProcess server(ALLMENDE_BINARY, dir.path(), {"--demo"});
    ASSERT_TRUE(server.ok());
    HttpClient c(server.port());
    HttpResult r = c.request("GET", path);
    ASSERT_EQ(r.status, 200) << r.body;
    first = valueCount(r.body, "currentLevel");
    EXPECT_EQ(first, 1u + 72u);  // the seeded state, then 72 hourly observations
    r = c.request("GET",
                  "/ngsi-ld/v1/temporal/entities?type=AirQualityObserved&attrs=no2&lastN=24&options=temporalValues");
    ASSERT_EQ(r.status, 200);
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    ASSERT_TRUE(d.IsArray());
    EXPECT_EQ(d.Size(), 5u);
    EXPECT_EQ(d[0]["no2"]["values"].Size(), 24u);
    server.stop();
  }
  ServerProcess again(ALLMENDE_BINARY, dir.path(), {"--demo"});
  ASSERT_TRUE(again.ok());
  HttpClient c(again.port());
  // The restart re-seeds the entity (one more instance) but not its history.
  EXPECT_EQ(valueCount(c.request("GET", path).body, "currentLevel"), first + 1);
}

TEST(TemporalServer, ConcurrentWritersLoseNoInstance) {
  TempDir dir;
  ServerProcess server(ALLMENDE_BINARY, dir.path());
  ASSERT_TRUE(server.ok());
  constexpr int kWriters = 8, kWrites = 40;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      HttpClient c(server.port());
      // Two entities, four writers each; every write a distinct value (two writes of one value in
      // one group commit share their instant and are one change, not two).
      const std::string id = "urn:ngsi-ld:W:" + std::to_string(w % 2);
      for (int i = 0; i < kWrites; ++i) {
        std::string body =
            R"({"id":")" + id + R"(","type":"W","v":{"type":"Property","value":)" + std::to_string(w * 1000 + i) + "}}";
        HttpResult r = c.request("POST", "/ngsi-ld/v1/entityOperations/upsert?options=update", kJson, "[" + body + "]");
        EXPECT_TRUE(r.status == 201 || r.status == 204) << r.status << " " << r.body;
      }
    });
  }
  for (auto& t : writers) t.join();
  HttpClient c(server.port());
  size_t total = 0;
  for (int e = 0; e < 2; ++e) {
    HttpResult r = c.request("GET", "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:W:" + std::to_string(e) +
                                        "?options=aggregatedValues&aggrMethods=totalCount&timeproperty=createdAt");
    ASSERT_EQ(r.status, 200) << r.body;
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    total += d["v"]["totalCount"][0][0].GetUint();
  }
  EXPECT_EQ(total, static_cast<size_t>(kWriters * kWrites));
}

TEST(TemporalServer, RetentionRemovesOldInstancesPerTenant) {
  TempDir dir;
  const std::string body =
      R"({"id":"urn:ngsi-ld:G:1","type":"G","level":[{"type":"Property","value":1,"observedAt":"2000-01-01T00:00:00Z"},)"
      R"({"type":"Property","value":2,"observedAt":"2999-01-01T00:00:00Z"}]})";
  const std::string path = "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:G:1?options=temporalValues";
  {
    ServerProcess server(ALLMENDE_BINARY, dir.path());
    ASSERT_TRUE(server.ok());
    HttpClient c(server.port());
    ASSERT_EQ(c.request("POST", "/ngsi-ld/v1/temporal/entities", kJson, body).status, 201);
    auto tenant = kJson;
    tenant.emplace_back("NGSILD-Tenant", "archive");
    ASSERT_EQ(c.request("POST", "/ngsi-ld/v1/temporal/entities", tenant, body).status, 201);
    server.stop();
  }
  // A year by default, forever for "archive"; the job runs when the server starts.
  ServerProcess server(ALLMENDE_BINARY, dir.path(),
                       {"--history-retention-days", "365", "--history-retention-tenant", "archive=0"});
  ASSERT_TRUE(server.ok());
  HttpClient c(server.port());
  size_t remaining = 2;
  for (int i = 0; i < 200 && remaining == 2; ++i) {  // the job runs in the background: wait for it
    remaining = valueCount(c.request("GET", path).body, "level");
    if (remaining == 2) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(remaining, 1u);
  EXPECT_EQ(valueCount(c.request("GET", path, {{"NGSILD-Tenant", "archive"}}).body, "level"), 2u);
}

}  // namespace
}  // namespace allmende::testing
