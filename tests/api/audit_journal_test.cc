// The audit log keeps a record of every acknowledged write through kill -9 (store/audit_journal.h):
// writers patch distinct entities while the server is killed; after a restart every write that
// was answered 204 has exactly one audit record (from the audit log's own commit, or recovered
// from the journal row that committed with the change). Also: the audit query's filters and
// paging.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace allmende::testing {
namespace {

const char* kAdminKey = "alm_audit-journal-test-platform-admin-key-0";
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr int kEntities = 600;
constexpr int kWriters = 4;

std::unique_ptr<ServerProcess> start(const TempDir& dir) {
  std::ofstream(dir.path() + "/admin.key") << kAdminKey << "\n";
  return std::make_unique<ServerProcess>(
      ALLMENDE_BINARY, dir.path() + "/data",
      std::vector<std::string>{"--production", "--admin-key-file", dir.path() + "/admin.key"});
}

const Headers kHeaders = {{"X-API-Key", kAdminKey}, {"NGSILD-Tenant", "t"}, {"Content-Type", "application/json"}};

// The targets of every audit record of tenant t, paged through with after=<seq>.
std::vector<std::string> auditTargets(HttpClient& c, const std::string& filter = "") {
  std::vector<std::string> out;
  std::string after = "0";
  for (;;) {
    HttpResult r =
        c.request("GET", "/admin/v1/tenants/t/audit?limit=1000&after=" + after + filter, {{"X-API-Key", kAdminKey}});
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return out;
    size_t n = 0;
    for (size_t p = r.body.find("\"seq\":"); p != std::string::npos; p = r.body.find("\"seq\":", p + 1)) {
      after = r.body.substr(p + 6, r.body.find(',', p) - p - 6);
      size_t t = r.body.find("\"target\":\"", p) + 10;
      out.push_back(r.body.substr(t, r.body.find('"', t) - t));
      ++n;
    }
    if (n < 1000) return out;
  }
}

TEST(AuditJournal, EveryAcknowledgedWriteKeepsItsRecordThroughKill9) {
  TempDir dir;
  auto server = start(dir);
  ASSERT_TRUE(server->ok());
  {
    HttpClient c(server->port());
    ASSERT_EQ(c.request("POST", "/admin/v1/tenants", {{"X-API-Key", kAdminKey}, {"Content-Type", "application/json"}},
                        R"({"name": "t", "ags": "09162000"})")
                  .status,
              201);
    std::string batch = "[";
    for (int i = 0; i < kEntities; ++i) {
      batch += std::string(i ? "," : "") + R"({"id": "urn:ngsi-ld:Gauge:)" + std::to_string(i) +
               R"(", "type": "Gauge", "level": {"type": "Property", "value": 0}})";
    }
    ASSERT_EQ(c.request("POST", "/ngsi-ld/v1/entityOperations/create", kHeaders, batch + "]").status, 201);
  }
  std::mutex mu;
  std::set<int> acknowledged;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      HttpClient c(server->port());
      for (int i = w; i < kEntities && !stop; i += kWriters) {
        HttpResult r = c.request("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:" + std::to_string(i) + "/attrs",
                                 kHeaders, R"({"level": {"type": "Property", "value": 1}})");
        if (r.status == 204) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.insert(i);
        }
        if (r.status == 0) return;  // the server is gone
      }
    });
  }
  // Kill it in the middle of the writes (no timing assumption: whatever was acknowledged by then
  // is checked, whatever was not is not).
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (acknowledged.size() >= kEntities / 3) break;
    }
    std::this_thread::yield();
  }
  server->kill9();
  stop = true;
  for (auto& t : writers) t.join();
  server = start(dir);
  ASSERT_TRUE(server->ok());
  HttpClient c(server->port());
  std::map<int, int> records;
  for (const auto& target : auditTargets(c, "&action=PATCH")) {
    const std::string prefix = "/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:";
    if (target.rfind(prefix, 0) == 0) ++records[std::stoi(target.substr(prefix.size()))];
  }
  // Every change that committed -- answered or not -- has exactly one record.
  std::set<int> committed;
  HttpResult q = c.request("GET", "/ngsi-ld/v1/entities?type=Gauge&q=level==1&limit=1000&options=keyValues", kHeaders);
  ASSERT_EQ(q.status, 200);
  const std::string idPrefix = "urn:ngsi-ld:Gauge:";
  for (size_t p = q.body.find(idPrefix); p != std::string::npos; p = q.body.find(idPrefix, p + 1)) {
    committed.insert(std::stoi(q.body.substr(p + idPrefix.size())));
  }
  ASSERT_GE(acknowledged.size(), static_cast<size_t>(kEntities / 3));
  for (int i : acknowledged) EXPECT_TRUE(committed.count(i)) << "entity " << i << " answered 204 but not stored";
  for (int i : committed) EXPECT_EQ(records[i], 1) << "entity " << i << " was patched once";
  for (const auto& [i, n] : records) EXPECT_EQ(n, 1) << "entity " << i << " has one record, not " << n;
  // How many records came from the journal (the crash fell between the two commits) varies.
  std::cout << acknowledged.size() << " acknowledged, " << committed.size() << " committed, "
            << auditTargets(c, "&action=PATCH&status=0").size() << " records recovered from the journal\n";
}

TEST(AuditJournal, QueryFiltersAndPages) {
  TempDir dir;
  auto server = start(dir);
  ASSERT_TRUE(server->ok());
  HttpClient c(server->port());
  ASSERT_EQ(c.request("POST", "/admin/v1/tenants", {{"X-API-Key", kAdminKey}, {"Content-Type", "application/json"}},
                      R"({"name": "t", "ags": "09162000"})")
                .status,
            201);
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(c.request("POST", "/ngsi-ld/v1/entities", kHeaders,
                        R"({"id": "urn:ngsi-ld:Gauge:)" + std::to_string(i) + R"(", "type": "Gauge"})")
                  .status,
              201);
  }
  ASSERT_EQ(c.request("DELETE", "/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:0", kHeaders).status, 204);
  ASSERT_EQ(c.request("DELETE", "/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:0", kHeaders).status, 404);
  // Records are committed asynchronously once their journal row is; poll until all are there.
  std::vector<std::string> all;
  for (int tries = 0; tries < 1000 && all.size() < 8; ++tries) {
    all = auditTargets(c);
    if (all.size() < 8) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(all.size(), 8u) << "tenant creation, 5 creates, 2 deletes";
  EXPECT_EQ(auditTargets(c, "&action=DELETE").size(), 2u);
  EXPECT_EQ(auditTargets(c, "&action=DELETE&status=404").size(), 1u);
  EXPECT_EQ(auditTargets(c, "&subject=admin-key&action=POST&target=/ngsi-ld/v1/entities").size(), 5u);
  EXPECT_EQ(auditTargets(c, "&since=2000-01-01T00:00:00Z&until=2001-01-01T00:00:00Z").size(), 0u);
  HttpResult page = c.request("GET", "/admin/v1/tenants/t/audit?limit=3", {{"X-API-Key", kAdminKey}});
  EXPECT_EQ(page.status, 200);
  size_t n = 0;
  for (size_t p = page.body.find("\"seq\":"); p != std::string::npos; p = page.body.find("\"seq\":", p + 1)) ++n;
  EXPECT_EQ(n, 3u);
  for (const char* bad : {"limit=0", "limit=x", "status=1000", "since=yesterday", "after=-1"}) {
    EXPECT_EQ(c.request("GET", std::string("/admin/v1/tenants/t/audit?") + bad, {{"X-API-Key", kAdminKey}}).status, 400)
        << bad;
  }
}

}  // namespace
}  // namespace allmende::testing
