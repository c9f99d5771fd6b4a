// The `allmende tenant` and `allmende key` commands (docs/tenancy.md) against a data directory,
// alone and next to a running server.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "harness.h"

namespace allmende::testing {
namespace {

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

std::string keyOf(const std::string& out) {
  size_t k = out.find("\"key\":\"");
  if (k == std::string::npos) return "";
  k += 7;
  return out.substr(k, out.find('"', k) - k);
}

class Cli : public ::testing::Test {
 protected:
  // The data directory, and the server's store when the tests run on PostgreSQL.
  std::string data() const {
    const std::string store = testStoreFor(dir_.path());
    return "--data " + dir_.path() + (store.empty() ? "" : " --store '" + store + "'");
  }
  TempDir dir_;
};

TEST_F(Cli, CreateListShowSuspendDelete) {
  CliRun c = cli("tenant create " + data() +
                 " --ags 09189155 --name musterhausen --display-name 'Markt Musterhausen' "
                 "--template small-town");
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_NE(c.out.find("\"name\":\"musterhausen\""), std::string::npos) << c.out;
  EXPECT_EQ(keyOf(c.out).substr(0, 4), "alm_") << "the initial admin key is shown once";
  EXPECT_NE(cli("tenant create " + data() + " --ags 09189155 --name other").code, 0) << "the AGS is taken";
  EXPECT_NE(cli("tenant create " + data() + " --ags 123").code, 0) << "an AGS has 8 digits";
  CliRun list = cli("tenant list " + data());
  EXPECT_EQ(list.code, 0);
  EXPECT_NE(list.out.find("Markt Musterhausen"), std::string::npos) << list.out;
  CliRun show = cli("tenant show musterhausen " + data());
  EXPECT_NE(show.out.find("\"open\":"), std::string::npos) << "show reports the checklist: " << show.out;
  EXPECT_EQ(cli("tenant suspend musterhausen " + data()).code, 0);
  EXPECT_NE(cli("tenant list " + data()).out.find("\"status\":\"suspended\""), std::string::npos);
  EXPECT_NE(cli("tenant delete musterhausen " + data()).code, 0) << "without --yes and no confirmation";
  EXPECT_EQ(cli("tenant delete musterhausen --yes " + data()).code, 0);
  EXPECT_EQ(cli("tenant list " + data()).out, "");
  EXPECT_NE(cli("tenant show musterhausen " + data()).code, 0);
}

TEST_F(Cli, ARunningServerSeesCliChangesAndRefusesCliImport) {
  CliRun key = cli("key create " + data() + " --role platform-admin --name ops");
  ASSERT_EQ(key.code, 0) << key.out;
  std::string admin = keyOf(key.out);
  ServerProcess server(ALLMENDE_BINARY, dir_.path(), {"--production", "--egress-private", "allow"});
  ASSERT_TRUE(server.ok());
  HttpClient client(server.port());
  auto list = [&] { return client.request("GET", "/admin/v1/tenants", {{"X-API-Key", admin}}); };
  EXPECT_EQ(list().status, 200) << "a platform-admin key made by the CLI works";
  ASSERT_EQ(cli("tenant create " + data() + " --ags 09162000 --name late").code, 0);
  // The server re-reads the registry when the file changed, at most once a second.
  bool seen = false;
  for (int i = 0; i < 40 && !seen; ++i) {
    seen = list().body.find("\"late\"") != std::string::npos;
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(seen);
  CliRun exported = cli("tenant export late " + data() + " --out " + dir_.path() + "/late.jsonl");
  EXPECT_EQ(exported.code, 0);
  EXPECT_NE(cli("tenant import " + dir_.path() + "/late.jsonl --name late2 --ags 09162001 " + data()).code, 0)
      << "importing next to a running server must go through its admin API";
  server.stop();
  CliRun imported = cli("tenant import " + dir_.path() + "/late.jsonl --name late2 --ags 09162001 " + data());
  EXPECT_EQ(imported.code, 0) << imported.out;
  EXPECT_NE(cli("tenant list " + data()).out.find("\"late2\""), std::string::npos);
}

TEST_F(Cli, KeysAreRevocable) {
  ASSERT_EQ(cli("tenant create " + data() + " --ags 09162000 --name t").code, 0);
  CliRun k = cli("key create " + data() + " --tenant t --role reader --name r");
  ASSERT_EQ(k.code, 0);
  EXPECT_NE(cli("key create " + data() + " --tenant t --role device").code, 0) << "device keys need a prefix";
  EXPECT_NE(cli("key create " + data() + " --tenant t --role platform-admin").code, 0);
  size_t id = k.out.find("\"id\":\"") + 6;
  std::string keyId = k.out.substr(id, k.out.find('"', id) - id);
  EXPECT_NE(cli("key list " + data() + " --tenant t").out.find(keyId), std::string::npos);
  EXPECT_EQ(cli("key list " + data() + " --tenant t").out.find("\"key\":"), std::string::npos) << "no secrets in lists";
  EXPECT_EQ(cli("key revoke " + keyId + " --tenant t " + data()).code, 0);
  EXPECT_NE(cli("key list " + data() + " --tenant t").out.find("\"revoked\":true"), std::string::npos);
}

// `tenant delete` removes everything of the tenant (it once left the open-data datasets behind),
// after writing the archive; refused next to a running server, which holds subscriptions,
// devices and @contexts in memory.
TEST_F(Cli, DeleteRemovesEverythingOfTheTenant) {
  CliRun key = cli("key create " + data() + " --role platform-admin --name ops");
  ASSERT_EQ(key.code, 0) << key.out;
  std::string admin = keyOf(key.out);
  ASSERT_EQ(cli("tenant create " + data() + " --ags 09162000 --name m").code, 0);
  using Headers = std::vector<std::pair<std::string, std::string>>;
  const Headers h = {{"X-API-Key", admin}, {"NGSILD-Tenant", "m"}, {"Content-Type", "application/json"}};
  auto fill = [&](HttpClient& c) {
    EXPECT_EQ(c.request("POST", "/ngsi-ld/v1/entities", h,
                        R"({"id": "urn:ngsi-ld:Gauge:1", "type": "Gauge", "level": {"type": "Property", "value": 1}})")
                  .status,
              201);
    EXPECT_EQ(c.request("PUT", "/admin/v1/tenants/m/datasets/levels", h,
                        R"({"title": {"de": "Pegel"}, "description": {"de": "Pegel"}, "types": ["Gauge"],
                            "license": "dl-by-de/2.0", "accrualPeriodicity": "CONT", "themes": ["ENVI"],
                            "contactPoint": {"name": "IT", "email": "it@example.org"}})")
                  .status,
              201);
    EXPECT_EQ(c.request("POST", "/admin/v1/devices", h,
                        R"({"id": "d1", "entity": {"id": "urn:ngsi-ld:Gauge:1", "type": "Gauge"}, "mapping": {}})")
                  .status,
              201);
    EXPECT_EQ(c.request("POST", "/ngsi-ld/v1/subscriptions", h,
                        R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
                            "notification": {"endpoint": {"uri": "http://127.0.0.1:9/x"}}})")
                  .status,
              201);
  };
  {
    ServerProcess server(ALLMENDE_BINARY, dir_.path(), {"--production", "--egress-private", "allow"});
    ASSERT_TRUE(server.ok());
    HttpClient c(server.port());
    fill(c);
    EXPECT_NE(cli("tenant delete m --yes " + data()).code, 0) << "the server holds the directory";
  }
  CliRun del = cli("tenant delete m --yes " + data());
  ASSERT_EQ(del.code, 0) << del.out;
  EXPECT_NE(del.out.find("/exports/m-"), std::string::npos) << "the archive is written first: " << del.out;
  ASSERT_EQ(cli("tenant create " + data() + " --ags 09162000 --name m").code, 0);
  ServerProcess server(ALLMENDE_BINARY, dir_.path(), {"--production", "--egress-private", "allow"});
  ASSERT_TRUE(server.ok());
  HttpClient c(server.port());
  for (const char* target : {"/ngsi-ld/v1/entities?type=Gauge", "/admin/v1/tenants/m/datasets", "/admin/v1/devices",
                             "/ngsi-ld/v1/subscriptions"}) {
    HttpResult r = c.request("GET", target, h);
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_EQ(r.body, "[]") << target;
  }
  EXPECT_EQ(c.request("GET", "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:Gauge:1", h).status, 404);
}

}  // namespace
}  // namespace allmende::testing
