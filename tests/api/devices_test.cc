// IoT devices (docs/ingestion.md): the health of silent devices, and the `allmende device` CLI
// on the same registry as the server's /admin/v1/devices, alone and next to a running server.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "harness.h"

namespace allmende::testing {
namespace {

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

std::string deviceBody(const std::string& id, int expectedInterval) {
  return R"({"id": ")" + id + R"(", "entity": {"id": "urn:ngsi-ld:Sensor:)" + id +
         R"(", "type": "Sensor"}, "mapping": {"format": "flat"}, "expectedInterval": )" +
         std::to_string(expectedInterval) + "}";
}

rapidjson::Document parsed(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body);
  return d;
}

bool listed(const std::string& listBody, const std::string& id) {
  auto d = parsed(listBody);
  if (!d.IsArray()) return false;
  for (const auto& dev : d.GetArray()) {
    if (dev.IsObject() && dev.HasMember("id") && dev["id"] == id.c_str()) return true;
  }
  return false;
}

// Polls `cond` every 50 ms, at most 20 s: a wait for something asynchronous (the clock passing a
// device's interval, the server taking in a CLI change), not a speed assertion.
template <typename F>
bool eventually(F cond) {
  for (int i = 0; i < 400; ++i) {
    if (cond()) return true;
    usleep(50000);
  }
  return cond();
}

TEST(DeviceHealth, ASilentDeviceIsFlaggedAndListedUntilItSendsAgain) {
  TempDir dir;
  ServerProcess server(ALLMENDE_BINARY, dir.path());
  ASSERT_TRUE(server.ok());
  HttpClient c(server.port());
  const std::vector<std::pair<std::string, std::string>> town = {{"NGSILD-Tenant", "town"}};
  auto withTown = kJson;
  withTown.push_back(town[0]);
  ASSERT_EQ(c.request("POST", "/admin/v1/devices", withTown, deviceBody("pegel", 1)).status, 201);
  ASSERT_EQ(c.request("POST", "/admin/v1/devices", withTown, deviceBody("never-checked", 0)).status, 201);
  ASSERT_EQ(c.request("POST", "/ingest/v1/town/pegel", kJson, R"({"level": 3})").status, 204);
  ASSERT_EQ(c.request("POST", "/ingest/v1/town/never-checked", kJson, R"({"level": 4})").status, 204);

  // More than its interval (1 s) without a measurement: flagged, and listed by ?silent=true.
  ASSERT_TRUE(
      eventually([&] { return listed(c.request("GET", "/admin/v1/devices?silent=true", town).body, "pegel"); }));
  auto shown = parsed(c.request("GET", "/admin/v1/devices/pegel", town).body);
  ASSERT_TRUE(shown.IsObject());
  EXPECT_TRUE(shown["silent"].GetBool());
  EXPECT_TRUE(shown.HasMember("lastSeen"));
  ASSERT_TRUE(shown.HasMember("silentSince"));
  EXPECT_GT(std::string(shown["silentSince"].GetString()), std::string(shown["lastSeen"].GetString()))
      << "overdue since its interval after the last measurement";
  HttpResult silent = c.request("GET", "/admin/v1/devices?silent=true", town);
  EXPECT_FALSE(listed(silent.body, "never-checked")) << "interval 0: never flagged; " << silent.body;
  EXPECT_TRUE(listed(c.request("GET", "/admin/v1/devices", town).body, "never-checked"));
  // Another tenant's query does not see it.
  EXPECT_EQ(c.request("GET", "/admin/v1/devices?silent=true").body, "[]");

  // A measurement: no longer silent (its interval starts again from lastSeen).
  ASSERT_EQ(c.request("POST", "/ingest/v1/town/pegel", kJson, R"({"level": 5})").status, 204);
  shown = parsed(c.request("GET", "/admin/v1/devices/pegel", town).body);
  // The check and the measurement are less than the interval apart unless the machine stalls;
  // then the device is rightly silent again, which this assertion cannot tell apart.
  if (!shown["silent"].GetBool()) {
    EXPECT_FALSE(listed(c.request("GET", "/admin/v1/devices?silent=true", town).body, "pegel"));
  }
  // Silence is measured against the interval: a longer one unflags it.
  auto withTownJson = withTown;
  ASSERT_EQ(c.request("PUT", "/admin/v1/devices/pegel", withTownJson,
                      R"({"entity": {"id": "urn:ngsi-ld:Sensor:pegel", "type": "Sensor"}, "mapping": {"format": "flat"},
                          "expectedInterval": 3600})")
                .status,
            204);
  EXPECT_FALSE(parsed(c.request("GET", "/admin/v1/devices/pegel", town).body)["silent"].GetBool());
  EXPECT_FALSE(listed(c.request("GET", "/admin/v1/devices?silent=true", town).body, "pegel"));
  ASSERT_EQ(c.request("PUT", "/admin/v1/devices/pegel", withTownJson, deviceBody("pegel", 1)).status, 204);
  // A rejected payload is not a sign of life.
  ASSERT_TRUE(
      eventually([&] { return listed(c.request("GET", "/admin/v1/devices?silent=true", town).body, "pegel"); }));
  ASSERT_EQ(c.request("POST", "/ingest/v1/town/pegel", kJson, "[1, 2]").status, 400);
  shown = parsed(c.request("GET", "/admin/v1/devices/pegel", town).body);
  EXPECT_TRUE(shown["silent"].GetBool());
  EXPECT_EQ(shown["rejected"].GetInt64(), 1);
}

TEST(DeviceQuotas, HttpIngestCreatesNoEntityBeyondTheTenantsQuota) {
  TempDir dir;
  ServerProcess server(ALLMENDE_BINARY, dir.path(), {"--quota-entities", "1"});
  ASSERT_TRUE(server.ok());
  HttpClient c(server.port());
  ASSERT_EQ(c.request("POST", "/admin/v1/devices", kJson, deviceBody("a", 0)).status, 201);
  ASSERT_EQ(c.request("POST", "/admin/v1/devices", kJson, deviceBody("b", 0)).status, 201);
  EXPECT_EQ(c.request("POST", "/ingest/v1/@default/a", kJson, R"({"level": 1})").status, 204);
  // b's first measurement would create a second entity.
  HttpResult refused = c.request("POST", "/ingest/v1/@default/b", kJson, R"({"level": 2})");
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(refused.body.find("entity quota"), std::string::npos) << refused.body;
  EXPECT_EQ(c.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Sensor:b").status, 404);
  // a's entity exists: its measurements go on.
  EXPECT_EQ(c.request("POST", "/ingest/v1/@default/a", kJson, R"({"level": 3})").status, 204);
  auto b = parsed(c.request("GET", "/admin/v1/devices/b").body);
  EXPECT_EQ(b["rejected"].GetInt64(), 1);
}

struct CliRun {
  int code = -1;
  std::string out;
};

// Runs `allmende <args>` (stdin from /dev/null), returning exit code and standard output.
CliRun cli(const std::string& args) {
  CliRun r;
  FILE* p = ::popen((std::string(ALLMENDE_BINARY) + " " + args + " </dev/null 2>/dev/null").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string quoted(const std::string& json) { return "'" + json + "'"; }

TEST(DeviceCli, AddListShowReplaceRemove) {
  TempDir dir;
  const std::string data = " --data " + dir.path();
  CliRun add = cli("device add --tenant town" + data + " --json " + quoted(deviceBody("d1", 60)));
  ASSERT_EQ(add.code, 0) << add.out;
  auto d = parsed(add.out);
  ASSERT_TRUE(d.IsObject()) << add.out;
  EXPECT_STREQ(d["entity"]["id"].GetString(), "urn:ngsi-ld:Sensor:d1");
  EXPECT_EQ(d["expectedInterval"].GetInt64(), 60);
  EXPECT_NE(cli("device add --tenant town" + data + " --json " + quoted(deviceBody("d1", 60))).code, 0)
      << "the id is taken";
  // Checked as the admin API checks it.
  EXPECT_NE(cli("device add" + data + " --json " +
                quoted(R"({"id": "x", "entity": {"id": "no uri", "type": "S"}, "mapping": {}})"))
                .code,
            0);
  EXPECT_NE(cli("device add" + data + " --json " +
                quoted(R"({"id": "x/y", "entity": {"id": "urn:a:b", "type": "S"}, "mapping": {}})"))
                .code,
            0);
  EXPECT_NE(cli("device add" + data + " --json " +
                quoted(R"({"id": "x", "entity": {"id": "urn:a:b", "type": "S"}, "mapping": {"format": "xml"}})"))
                .code,
            0);
  EXPECT_NE(cli("device add" + data + " --json 'not json'").code, 0);
  EXPECT_NE(cli("device add --tenant 'bad tenant'" + data + " --json " + quoted(deviceBody("d2", 0))).code, 0);

  CliRun list = cli("device list --tenant town" + data);
  EXPECT_EQ(list.code, 0);
  EXPECT_NE(list.out.find("\"id\":\"d1\""), std::string::npos) << list.out;
  EXPECT_EQ(cli("device list" + data).out, "") << "the default tenant has none";
  CliRun show = cli("device show d1 --tenant town" + data);
  EXPECT_EQ(show.code, 0);
  EXPECT_NE(show.out.find("\"accepted\":0"), std::string::npos) << show.out;
  EXPECT_NE(cli("device show d1" + data).code, 0) << "not in the default tenant";
  CliRun replace = cli("device replace d1 --tenant town" + data + " --json " + quoted(deviceBody("d1", 5)));
  EXPECT_EQ(replace.code, 0) << replace.out;
  EXPECT_NE(replace.out.find("\"expectedInterval\":5"), std::string::npos) << replace.out;
  EXPECT_EQ(cli("device remove d1 --tenant town" + data).code, 0);
  EXPECT_NE(cli("device remove d1 --tenant town" + data).code, 0);
  EXPECT_EQ(cli("device list --tenant town" + data).out, "");
}

TEST(DeviceCli, ARunningServerTakesInCliChangesAndTheCliSeesItsHealth) {
  TempDir dir;
  const std::string data = " --data " + dir.path();
  ServerProcess server(ALLMENDE_BINARY, dir.path());
  ASSERT_TRUE(server.ok());
  HttpClient c(server.port());
  // Registered by the API, seen by the CLI.
  ASSERT_EQ(c.request("POST", "/admin/v1/devices", kJson, deviceBody("api-dev", 0)).status, 201);
  EXPECT_NE(cli("device list" + data).out.find("\"id\":\"api-dev\""), std::string::npos);
  // Registered by the CLI, taken in by the running server: its payloads are stored.
  ASSERT_EQ(cli("device add" + data + " --json " + quoted(deviceBody("cli-dev", 0))).code, 0);
  ASSERT_TRUE(eventually([&] { return c.request("GET", "/admin/v1/devices/cli-dev").status == 200; }));
  ASSERT_EQ(c.request("POST", "/ingest/v1/@default/cli-dev", kJson, R"({"level": 9})").status, 204);
  HttpResult e = c.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Sensor:cli-dev?format=keyValues");
  EXPECT_NE(e.body.find("\"level\":9"), std::string::npos) << e.body;
  // The server's health counters reach the CLI (flushed every second).
  ASSERT_TRUE(
      eventually([&] { return cli("device show cli-dev" + data).out.find("\"accepted\":1") != std::string::npos; }));
  // A replacement by the CLI keeps the server's counters; a removal stops the device's payloads.
  ASSERT_EQ(cli("device replace cli-dev" + data + " --json " + quoted(deviceBody("cli-dev", 3600))).code, 0);
  ASSERT_TRUE(eventually([&] {
    return parsed(c.request("GET", "/admin/v1/devices/cli-dev").body)["expectedInterval"].GetInt64() == 3600;
  }));
  EXPECT_EQ(parsed(c.request("GET", "/admin/v1/devices/cli-dev").body)["accepted"].GetInt64(), 1);
  ASSERT_EQ(cli("device remove cli-dev" + data).code, 0);
  ASSERT_TRUE(eventually([&] { return c.request("GET", "/admin/v1/devices/cli-dev").status == 404; }));
  EXPECT_EQ(c.request("POST", "/ingest/v1/@default/cli-dev", kJson, R"({"level": 10})").status, 404);
}

}  // namespace
}  // namespace allmende::testing
