// The tenant archive end to end (issue 5, docs/tenancy.md "Export and import"): a tenant with
// entities, history (also written through the temporal API), a subscription, a hosted @context,
// a device, an open-data dataset, keys and the digital twin's flood scenario with a finished run
// (its result files) and a run not started is exported from one server and imported into a
// fresh one; every read of the NGSI-LD, temporal, subscription, @context, device, dataset and
// twin APIs answers the same before and after. Deleting the tenant removes all of it, and a tenant
// created again under the same name finds nothing of the old one. Hosted @contexts belong to
// the tenant that added them. Bulk exports (open data, the archive) hold only their tenant.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "twin/crs.h"
#include "twin/raster_io.h"

namespace allmende::testing {
namespace {

const char* kAdminKey = "alm_archive-test-platform-admin-key-01234";
using Headers = std::vector<std::pair<std::string, std::string>>;

std::string member(const std::string& body, const std::string& name) {
  std::string key = "\"" + name + "\":\"";
  size_t k = body.find(key);
  if (k == std::string::npos) return "";
  k += key.size();
  return body.substr(k, body.find('"', k) - k);
}

class Server {
 public:
  explicit Server(const TempDir& dir, const std::string& sub) {
    std::ofstream(dir.path() + "/admin.key") << kAdminKey << "\n";
    process_ = std::make_unique<ServerProcess>(
        ALLMENDE_BINARY, dir.path() + "/" + sub,
        std::vector<std::string>{"--production", "--egress-private", "allow", "--admin-key-file",
                                 dir.path() + "/admin.key", "--open-rps", "0", "--base-url", "https://daten.example"});
    client_ = std::make_unique<HttpClient>(process_->port());
  }
  bool ok() const { return process_->ok(); }
  HttpResult admin(const std::string& method, const std::string& target, const std::string& body = "",
                   const std::string& type = "application/json") {
    Headers h{{"X-API-Key", kAdminKey}};
    if (!body.empty()) h.push_back({"Content-Type", type});
    return client_->request(method, target, h, body);
  }
  // A call in tenant `t` with `key`.
  HttpResult as(const std::string& key, const std::string& t, const std::string& method, const std::string& target,
                const std::string& body = "", const std::string& type = "application/json") {
    Headers h{{"X-API-Key", key}, {"NGSILD-Tenant", t}};
    if (!body.empty()) h.push_back({"Content-Type", type});
    return client_->request(method, target, h, body);
  }

 private:
  std::unique_ptr<ServerProcess> process_;
  std::unique_ptr<HttpClient> client_;
};

// A small flood scenario of the twin: a tilted 16 x 12 DEM (5 m cells) and one building.
std::string demBytes(const std::string& dir) {
  twin::Raster r(16, 12, 5);
  r.originX = 650000;
  r.originY = 5420000;
  r.crsWkt = twin::crsWkt("EPSG:25832").value();
  for (int j = 0; j < 12; ++j)
    for (int i = 0; i < 16; ++i) r.at(i, j) = 50 + 0.1 * i + 0.05 * std::abs(j - 6);
  std::string path = dir + "/dem.tif";
  EXPECT_TRUE(twin::writeGeoTiff(path, r).isOk());
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const char* kScenario = R"({"id":"sturzflut","name":"Sturzflut","rain":{"type":"uniform","mmPerHour":100,
  "durationMinutes":2},"durationSeconds":120,"boundary":"closed","manning":0.03})";

// Defines the scenario with its DEM, runs it to the end, and creates a second run not started.
void fillTwin(Server& s, const std::string& key, const std::string& t, const std::string& dir) {
  ASSERT_EQ(s.as(key, t, "POST", "/twin/v1/scenarios", kScenario).status, 201);
  ASSERT_EQ(s.as(key, t, "PUT", "/twin/v1/scenarios/sturzflut/inputs/dem", demBytes(dir), "image/tiff").status, 204);
  HttpResult r = s.as(key, t, "POST", "/twin/v1/runs", R"({"scenario":"sturzflut"})");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string run = member(r.body, "id");
  std::string state;
  for (int k = 0; k < 20000 && state != "succeeded" && state != "failed"; ++k) {  // a bound, not a timing
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    state = member(s.as(key, t, "GET", "/twin/v1/runs/" + run).body, "state");
  }
  ASSERT_EQ(state, "succeeded");
  ASSERT_EQ(s.as(key, t, "POST", "/twin/v1/runs", R"({"scenario":"sturzflut","start":false})").status, 201);
}

// Fills tenant `t` with one thing of every kind; returns the tenant-admin key.
std::string fillTenant(Server& s, const std::string& t, const std::string& ags) {
  HttpResult r = s.admin("POST", "/admin/v1/tenants",
                         R"({"name": ")" + t + R"(", "ags": ")" + ags + R"(", "template": "small-town"})");
  EXPECT_EQ(r.status, 201) << r.body;
  std::string key = member(r.body, "key");
  EXPECT_EQ(s.as(key, t, "POST", "/ngsi-ld/v1/entityOperations/create", R"([
    {"id": "urn:ngsi-ld:WaterLevel:1", "type": "WaterLevel",
     "level": {"type": "Property", "value": 1.5, "unitCode": "MTR", "observedAt": "2026-11-25T07:00:00Z"},
     "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [11.5, 48.1]}}},
    {"id": "urn:ngsi-ld:WaterLevel:2", "type": "WaterLevel",
     "level": {"type": "Property", "value": 0.4, "observedAt": "2026-11-25T07:00:00Z"}}])")
                .status,
            201);
  for (const char* v : {"1.6", "1.7"}) {
    EXPECT_EQ(s.as(key, t, "PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:WaterLevel:1/attrs",
                   std::string(R"({"level": {"type": "Property", "value": )") + v +
                       R"(, "observedAt": "2026-11-25T08:00:00Z"}})")
                  .status,
              204);
  }
  EXPECT_EQ(s.as(key, t, "POST", "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:WaterLevel:2/attrs",
                 R"({"level": [{"type": "Property", "value": 0.1, "observedAt": "2026-11-24T07:00:00Z"},
                               {"type": "Property", "value": 0.2, "observedAt": "2026-11-24T08:00:00Z"}]})")
                .status,
            204);
  // An entity deleted: its history stays (reached by id).
  EXPECT_EQ(
      s.as(key, t, "POST", "/ngsi-ld/v1/entities",
           R"({"id": "urn:ngsi-ld:WaterLevel:gone", "type": "WaterLevel", "level": {"type": "Property", "value": 9}})")
          .status,
      201);
  EXPECT_EQ(s.as(key, t, "DELETE", "/ngsi-ld/v1/entities/urn:ngsi-ld:WaterLevel:gone").status, 204);
  EXPECT_EQ(
      s.as(key, t, "POST", "/ngsi-ld/v1/subscriptions",
           R"({"id": "urn:ngsi-ld:Subscription:high", "type": "Subscription", "entities": [{"type": "WaterLevel"}],
                     "q": "level>3", "notification": {"endpoint": {"uri": "http://127.0.0.1:9/none"}}})")
          .status,
      201);
  // A context source registration and a csourceSubscription (NGSI-LD 5.9, 5.11).
  EXPECT_EQ(s.as(key, t, "POST", "/ngsi-ld/v1/csourceRegistrations",
                 R"({"id": "urn:ngsi-ld:ContextSourceRegistration:nachbar", "type": "ContextSourceRegistration",
                     "information": [{"entities": [{"type": "Gauge"}], "propertyNames": ["level"]}],
                     "endpoint": "http://127.0.0.1:9", "operations": ["queryEntity"],
                     "registrationName": "Nachbargemeinde"})")
                .status,
            201);
  EXPECT_EQ(s.as(key, t, "POST", "/ngsi-ld/v1/csourceSubscriptions",
                 R"({"id": "urn:ngsi-ld:Subscription:sources", "type": "Subscription", "entities": [{"type": "Gauge"}],
                     "notification": {"endpoint": {"uri": "http://127.0.0.1:9/none"}}})")
                .status,
            201);
  r = s.as(key, t, "POST", "/ngsi-ld/v1/jsonldContexts", R"({"@context": {"pegel": "https://example.org/pegel"}})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(s.as(key, t, "POST", "/admin/v1/devices",
                 R"({"id": "p1", "entity": {"id": "urn:ngsi-ld:WaterLevel:1", "type": "WaterLevel"},
                     "mapping": {"format": "flat", "fields": [{"source": "l", "attribute": "level"}]}})")
                .status,
            201);
  EXPECT_EQ(s.as(key, t, "PUT", "/admin/v1/tenants/" + t + "/datasets/levels",
                 R"({"title": {"de": "Pegel"}, "description": {"de": "Pegelstände"}, "types": ["WaterLevel"],
                     "license": "dl-by-de/2.0", "accrualPeriodicity": "CONT", "themes": ["ENVI"],
                     "contactPoint": {"name": "IT", "email": "it@example.org"}})")
                .status,
            201);
  return key;
}

// Everything a client can read of tenant `t`, one answer per line.
std::vector<std::string> readAll(Server& s, const std::string& key, const std::string& t, bool twin = false) {
  std::vector<std::string> out;
  auto add = [&](const std::string& target) {
    HttpResult r = s.as(key, t, "GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    out.push_back(target + " -> " + std::to_string(r.status) + " " + r.body);
  };
  add("/ngsi-ld/v1/entities?type=WaterLevel&options=sysAttrs");
  for (const char* id : {"1", "2", "gone"}) {
    add(std::string("/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:WaterLevel:") + id + "?options=sysAttrs");
  }
  add("/ngsi-ld/v1/temporal/entities/"
      "urn:ngsi-ld:WaterLevel:1?options=aggregatedValues&aggrMethods=avg,max&aggrPeriodDuration=PT1H");
  add("/ngsi-ld/v1/temporal/entities?type=WaterLevel&timerel=after&timeAt=2026-11-24T00:00:00Z&lastN=5");
  add("/ngsi-ld/v1/subscriptions");
  add("/ngsi-ld/v1/csourceRegistrations");
  add("/ngsi-ld/v1/csourceSubscriptions");
  add("/ngsi-ld/v1/jsonldContexts?kind=Hosted");
  add("/admin/v1/devices");
  add("/admin/v1/tenants/" + t + "/datasets");
  add("/admin/v1/tenants/" + t + "/keys");
  if (!twin) return out;
  add("/twin/v1/scenarios");
  add("/twin/v1/scenarios/sturzflut/inputs/dem");
  HttpResult runs = s.as(key, t, "GET", "/twin/v1/runs");
  EXPECT_EQ(runs.status, 200);
  out.push_back("/twin/v1/runs -> " + runs.body);
  const std::string href = "\"href\":\"/twin/v1/runs/";
  for (size_t p = runs.body.find(href); p != std::string::npos; p = runs.body.find(href, p + 1)) {
    std::string id = runs.body.substr(p + href.size(), runs.body.find('"', p + href.size()) - p - href.size());
    add("/twin/v1/runs/" + id);
    if (member(s.as(key, t, "GET", "/twin/v1/runs/" + id).body, "state") != "succeeded") continue;
    add("/twin/v1/runs/" + id + "/results");
    for (const char* f : {"max_depth.tif", "max_velocity.tif", "hazard_rating.tif", "summary.json", "outcome.json"}) {
      add("/twin/v1/runs/" + id + "/results/" + f);
    }
  }
  return out;
}

// Devices report their health (last seen, counters), which is not part of the archive; and
// subscriptions their notification status, which restarts.
std::string withoutVolatile(std::string s) {
  for (const char* m : {"\"lastSeen\"", "\"timesSent\"", "\"lastNotification\""}) {
    for (size_t p = s.find(m); p != std::string::npos; p = s.find(m, p + 1)) {
      size_t end = s.find_first_of(",}", p);
      s.erase(p, end - p);
    }
  }
  return s;
}

TEST(TenantArchive, RoundTripIntoAFreshServerLosesNothing) {
  TempDir dir;
  std::string archive;
  std::vector<std::string> before;
  std::string key;
  {
    {
      Server a(dir, "a");
      ASSERT_TRUE(a.ok());
      key = fillTenant(a, "pegelstadt", "09162000");
      fillTwin(a, key, "pegelstadt", dir.path());
    }
    // Compared with the server as it starts again from its own data: the twin reads its run
    // records from their files at start, and a run's summary read back may differ in the last
    // digit of a double from the one the run computed (common/json.cc parses without RapidJSON's
    // full precision), exactly as the imported server reads it from the same bytes.
    Server a(dir, "a");
    ASSERT_TRUE(a.ok());
    before = readAll(a, key, "pegelstadt", true);
    HttpResult e = a.admin("GET", "/admin/v1/tenants/pegelstadt/export");
    ASSERT_EQ(e.status, 200);
    archive = e.body;
  }
  for (const char* kind :
       {"\"kind\":\"history\"", "\"kind\":\"subscription\"", "\"kind\":\"device\"", "\"kind\":\"dataset\"",
        "\"kind\":\"context\"", "\"kind\":\"apiKey\"", "\"kind\":\"twinFile\"", "\"kind\":\"csourceRegistration\"",
        "\"kind\":\"csourceSubscription\""}) {
    EXPECT_NE(archive.find(kind), std::string::npos) << kind;
  }
  Server b(dir, "b");
  ASSERT_TRUE(b.ok());
  // A damaged archive changes nothing: a device mapping the device API would refuse, a history
  // line missing (the end line's counts differ), no end line.
  auto without = [&archive](const std::string& kind) {
    size_t p = archive.find("{\"kind\":\"" + kind + "\"");
    return archive.substr(0, p) + archive.substr(archive.find('\n', p) + 1);
  };
  std::string badMapping = archive;
  size_t flat = badMapping.find("\\\"format\\\":\\\"flat\\\"");
  ASSERT_NE(flat, std::string::npos) << "the device's mapping is in the archive";
  badMapping.replace(flat, 19, "\\\"format\\\":\\\"nope\\\"");
  for (const std::string& bad : {badMapping, without("history"), without("end")}) {
    HttpResult r = b.admin("POST", "/admin/v1/tenant-imports", bad, "application/x-ndjson");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(b.admin("GET", "/admin/v1/tenants/pegelstadt").status, 404) << "nothing of it was created";
  }
  HttpResult imp = b.admin("POST", "/admin/v1/tenant-imports", archive, "application/x-ndjson");
  ASSERT_EQ(imp.status, 201) << imp.body;
  // The tenant-admin key came along (its hash): the same reads, with the same key.
  std::vector<std::string> after = readAll(b, key, "pegelstadt", true);
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(withoutVolatile(before[i]), withoutVolatile(after[i]));
  // A second export of the import is the same archive (apart from the audit records it adds),
  // line for line; the history of a deleted entity may come at another place (its id is known
  // to the new server only from its history, which is restored after the entities).
  HttpResult again = b.admin("GET", "/admin/v1/tenants/pegelstadt/export");
  auto lines = [](const std::string& text) {
    std::vector<std::string> out;
    size_t p = 0;
    while (p < text.size()) {
      size_t e = text.find('\n', p);
      std::string line = text.substr(p, e - p);
      if (line.find("\"kind\":\"audit\"") == std::string::npos && line.find("\"kind\":\"end\"") == std::string::npos)
        out.push_back(line);
      p = e == std::string::npos ? text.size() : e + 1;
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  std::vector<std::string> first = lines(archive), second = lines(again.body);
  ASSERT_EQ(first.size(), second.size());
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(first[i], second[i]);
}

TEST(TenantArchive, DeleteRemovesEverythingOfTheTenant) {
  TempDir dir;
  Server s(dir, "d");
  ASSERT_TRUE(s.ok());
  std::string key = fillTenant(s, "weg", "09162000");
  std::string other = fillTenant(s, "bleibt", "09162001");
  std::vector<std::string> otherBefore = readAll(s, other, "bleibt");
  ASSERT_EQ(s.admin("DELETE", "/admin/v1/tenants/weg?confirm=weg").status, 204);
  // Created again under the same name: nothing of the old tenant is there.
  HttpResult r =
      s.admin("POST", "/admin/v1/tenants", R"({"name": "weg", "ags": "09162000", "template": "small-town"})");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string fresh = member(r.body, "key");
  auto get = [&](const std::string& target) { return s.as(fresh, "weg", "GET", target); };
  EXPECT_EQ(get("/ngsi-ld/v1/entities?type=WaterLevel").body, "[]");
  for (const char* id : {"1", "2", "gone"}) {
    EXPECT_EQ(get(std::string("/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:WaterLevel:") + id).status, 404) << id;
  }
  EXPECT_EQ(get("/ngsi-ld/v1/subscriptions").body, "[]");
  EXPECT_EQ(get("/ngsi-ld/v1/csourceRegistrations").body, "[]");
  EXPECT_EQ(get("/ngsi-ld/v1/csourceSubscriptions").body, "[]");
  EXPECT_EQ(get("/ngsi-ld/v1/jsonldContexts?kind=Hosted").body, "[]");
  EXPECT_EQ(get("/admin/v1/devices").body, "[]");
  EXPECT_EQ(get("/admin/v1/tenants/weg/datasets").body, "[]");
  EXPECT_EQ(s.as(key, "weg", "GET", "/ngsi-ld/v1/entities?type=WaterLevel").status, 401) << "old keys are gone";
  // The neighbour lost nothing.
  std::vector<std::string> otherAfter = readAll(s, other, "bleibt");
  for (size_t i = 0; i < otherBefore.size(); ++i) EXPECT_EQ(otherBefore[i], otherAfter[i]);
}

TEST(TenantArchive, HostedContextsBelongToTheirTenant) {
  TempDir dir;
  Server s(dir, "c");
  ASSERT_TRUE(s.ok());
  std::string a = fillTenant(s, "a", "09162000");
  std::string b = fillTenant(s, "b", "09162001");
  HttpResult mine = s.as(a, "a", "POST", "/ngsi-ld/v1/jsonldContexts", R"({"@context": {"x": "https://a.example/x"}})");
  ASSERT_EQ(mine.status, 201);
  std::string url = mine.header("location");
  std::string id = url.substr(url.rfind('/') + 1);
  // b neither lists, reads nor deletes a's context.
  EXPECT_EQ(s.as(b, "b", "GET", "/ngsi-ld/v1/jsonldContexts").body.find(id), std::string::npos);
  EXPECT_EQ(s.as(b, "b", "GET", "/ngsi-ld/v1/jsonldContexts/" + id).status, 404);
  EXPECT_EQ(s.as(b, "b", "DELETE", "/ngsi-ld/v1/jsonldContexts/" + id).status, 404);
  // a still has it.
  EXPECT_NE(s.as(a, "a", "GET", "/ngsi-ld/v1/jsonldContexts").body.find(id), std::string::npos);
  EXPECT_EQ(s.as(a, "a", "GET", "/ngsi-ld/v1/jsonldContexts/" + id).status, 200);
  EXPECT_EQ(s.as(a, "a", "DELETE", "/ngsi-ld/v1/jsonldContexts/" + id).status, 204);
}

// What leaves a tenant in bulk -- its open-data downloads and catalogue, its archive -- holds
// only its own data, even when a neighbour has entities of the same public type and ids.
TEST(TenantArchive, ExportsHoldOnlyTheirTenant) {
  TempDir dir;
  Server s(dir, "x");
  ASSERT_TRUE(s.ok());
  std::string a = fillTenant(s, "a", "09162000");
  std::string b = fillTenant(s, "b", "09162001");
  auto spot = [](const std::string& id, const std::string& status) {
    return R"({"id": "urn:ngsi-ld:ParkingSpot:)" + id +
           R"(", "type": "ParkingSpot", "status": {"type": "Property", "value": ")" + status + R"("}})";
  };
  ASSERT_EQ(s.as(a, "a", "POST", "/ngsi-ld/v1/entities", spot("1", "free-in-a")).status, 201);
  ASSERT_EQ(s.as(b, "b", "POST", "/ngsi-ld/v1/entities", spot("1", "occupied-in-b")).status, 201);
  ASSERT_EQ(s.as(b, "b", "POST", "/ngsi-ld/v1/entities", spot("only-b", "free")).status, 201);
  const std::string dataset = R"({"title": {"de": "Parken"}, "description": {"de": "Parken"}, "types": ["ParkingSpot"],
      "license": "dl-by-de/2.0", "accrualPeriodicity": "CONT", "themes": ["TRAN"],
      "contactPoint": {"name": "IT", "email": "it@example.org"}})";
  ASSERT_EQ(s.as(a, "a", "PUT", "/admin/v1/tenants/a/datasets/parking", dataset).status, 201);
  ASSERT_EQ(s.as(b, "b", "PUT", "/admin/v1/tenants/b/datasets/parking", dataset).status, 201);
  for (const char* f : {"current.json", "current.csv", "current.geojson"}) {
    HttpResult r = s.admin("GET", std::string("/open/v1/a/datasets/parking/") + f);
    ASSERT_EQ(r.status, 200) << f;
    EXPECT_NE(r.body.find("free-in-a"), std::string::npos) << f;
    EXPECT_EQ(r.body.find("occupied-in-b"), std::string::npos) << f << ": " << r.body;
    EXPECT_EQ(r.body.find("only-b"), std::string::npos) << f << ": " << r.body;
  }
  HttpResult catalog = s.admin("GET", "/open/v1/a/catalog?format=ttl");
  EXPECT_EQ(catalog.status, 200);
  EXPECT_EQ(catalog.body.find("/open/v1/b/"), std::string::npos) << catalog.body;
  HttpResult archive = s.admin("GET", "/admin/v1/tenants/a/export");
  ASSERT_EQ(archive.status, 200);
  for (const char* foreign : {"occupied-in-b", "only-b", "09162001"}) {
    EXPECT_EQ(archive.body.find(foreign), std::string::npos) << foreign;
  }
}

}  // namespace
}  // namespace allmende::testing
