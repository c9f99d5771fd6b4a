// Several nodes behind a load balancer (issue 6): with `--trusted-proxy`, the client address of
// a request is the one the balancer forwards in X-Forwarded-For (audit records, per-client
// limits); without it, or from a peer that is not trusted, the header is ignored.
#include <gtest/gtest.h>

#include <fstream>

#include "harness.h"

namespace allmende::testing {
namespace {

const char* kAdminKey = "alm_proxy-test-platform-admin-key-00000";

std::unique_ptr<ServerProcess> start(const TempDir& dir, const std::string& name, std::vector<std::string> args) {
  std::ofstream(dir.path() + "/admin.key") << kAdminKey << "\n";
  args.insert(args.end(), {"--production", "--admin-key-file", dir.path() + "/admin.key"});
  return std::make_unique<ServerProcess>(ALLMENDE_BINARY, dir.path() + "/" + name, args);
}

// The `remote` of the audit records of tenant t.
std::string auditRemotes(HttpClient& c) {
  HttpResult r = c.request("GET", "/admin/v1/tenants/t/audit?limit=100", {{"X-API-Key", kAdminKey}});
  EXPECT_EQ(r.status, 200) << r.body;
  std::string out;
  for (size_t p = r.body.find("\"remote\":\""); p != std::string::npos; p = r.body.find("\"remote\":\"", p + 1)) {
    size_t s = p + 10;
    out += r.body.substr(s, r.body.find('"', s) - s) + ";";
  }
  return out;
}

std::string writeThroughProxy(const std::vector<std::string>& args) {
  TempDir dir;
  auto server = start(dir, "data", args);
  EXPECT_TRUE(server->ok());
  if (!server->ok()) return "";
  HttpClient c(server->port());
  EXPECT_EQ(c.request("POST", "/admin/v1/tenants", {{"X-API-Key", kAdminKey}, {"Content-Type", "application/json"}},
                      R"({"name": "t", "ags": "09162000"})")
                .status,
            201);
  HttpResult w = c.request("POST", "/ngsi-ld/v1/entities",
                           {{"X-API-Key", kAdminKey},
                            {"NGSILD-Tenant", "t"},
                            {"Content-Type", "application/json"},
                            {"X-Forwarded-For", "198.51.100.1, 203.0.113.9"}},
                           R"({"id": "urn:ngsi-ld:Gauge:1", "type": "Gauge"})");
  EXPECT_EQ(w.status, 201) << w.body;
  return auditRemotes(c);
}

TEST(Proxy, ATrustedBalancerForwardsTheClientAddress) {
  // The test client connects from 127.0.0.1: the balancer of this test.
  const std::string remotes = writeThroughProxy({"--trusted-proxy", "127.0.0.0/8"});
  EXPECT_NE(remotes.find("203.0.113.9;"), std::string::npos) << remotes;
  EXPECT_EQ(remotes.find("198.51.100.1"), std::string::npos) << remotes;  // written by the client: not believed
}

TEST(Proxy, AnUntrustedPeerCannotClaimAnotherAddress) {
  const std::string remotes = writeThroughProxy({"--trusted-proxy", "192.0.2.0/24"});
  EXPECT_EQ(remotes.find("203.0.113.9"), std::string::npos) << remotes;
  EXPECT_NE(remotes.find("127.0.0.1;"), std::string::npos) << remotes;
}

TEST(Proxy, ABadTrustedProxyRuleStopsTheServer) {
  TempDir dir;
  auto server = start(dir, "data", {"--trusted-proxy", "10.0.0.0/40"});
  EXPECT_FALSE(server->ok());
}

}  // namespace
}  // namespace allmende::testing
