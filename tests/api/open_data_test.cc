// Open data (issue 11, docs/opendata.md), against the real server: dataset definitions through
// the admin API, the DCAT-AP.de catalogues in three RDF syntaxes (checked with a real RDF parser,
// raptor's `rapper`, including the properties DCAT-AP.de marks mandatory), the distributions,
// the leak test (a non-public type or attribute never leaves through any format), conditional
// requests, gzip and the per-client rate limit.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "harness.h"

namespace allmende::testing {
namespace {

const char* kAdminKey = "alm_open-data-test-platform-admin-key-0123";
using Headers = std::vector<std::pair<std::string, std::string>>;
const Headers kAdmin = {{"Content-Type", "application/json"}, {"X-API-Key", kAdminKey}};

// A title with every character the serializers must escape.
const char* kTrickyTitle = R"(Parken \"am\" Markt\n<b>&amp; Grün\\ 'x' \t ende)";

const char* kDataset = R"({"title": {"de": "%TITLE%", "en": "Parking"},
  "description": {"de": "Belegung der Parkplätze", "en": "Occupancy of parking spots"},
  "types": ["ParkingSpot", "WasteContainer"], "keywords": ["Parken", "Verkehr"], "themes": ["TRAN"],
  "license": "dl-by-de/2.0", "accrualPeriodicity": "CONT",
  "contactPoint": {"name": "IT-Stelle", "email": "it@m.example"}})";

std::string datasetBody() {
  std::string b = kDataset;
  b.replace(b.find("%TITLE%"), 7, kTrickyTitle);
  return b;
}

class OpenData : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.path() + "/admin.key") << kAdminKey << "\n";
    server_ = std::make_unique<ServerProcess>(
        ALLMENDE_BINARY, dir_.path() + "/data",
        std::vector<std::string>{"--production", "--admin-key-file", dir_.path() + "/admin.key", "--open-rps", "0",
                                 "--base-url", "https://daten.example"});
    ASSERT_TRUE(server_->ok());
    client_ = std::make_unique<HttpClient>(server_->port());
    HttpResult r = client_->request("POST", "/admin/v1/tenants", kAdmin,
                                    R"({"name": "m", "ags": "09162000", "template": "small-town",
                                        "displayName": "Markt Musterhausen", "contact": "it@m.example"})");
    ASSERT_EQ(r.status, 201) << r.body;
    // Public: ParkingSpot status/location. Private: ownerName, the whole WasteContainer type.
    r = client_->request("POST", "/ngsi-ld/v1/entityOperations/create",
                         {{"Content-Type", "application/json"}, {"X-API-Key", kAdminKey}, {"NGSILD-Tenant", "m"}},
                         R"([{"id": "urn:ngsi-ld:ParkingSpot:1", "type": "ParkingSpot", "status": "free",
                              "ownerName": "SECRET-OWNER",
                              "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [11.5, 48.1]}}},
                             {"id": "urn:ngsi-ld:ParkingSpot:2", "type": "ParkingSpot", "status": "occupied, \"long\" term"},
                             {"id": "urn:ngsi-ld:WasteContainer:SECRET-BIN", "type": "WasteContainer", "fillingLevel": 0.7,
                              "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [11.6, 48.2]}}}])");
    ASSERT_EQ(r.status, 201) << r.body;
    r = client_->request("PUT", "/admin/v1/tenants/m/datasets/parking", kAdmin, datasetBody());
    ASSERT_EQ(r.status, 201) << r.body;
  }

  HttpResult get(const std::string& target, Headers headers = {}) { return client_->request("GET", target, headers); }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

// Runs rapper on `text` in `syntax`; the N-Triples it parsed, or "" when it failed.
std::string rapper(const std::string& text, const std::string& syntax, const TempDir& dir) {
  std::string in = dir.path() + "/in.rdf", out = dir.path() + "/out.nt";
  std::ofstream(in) << text;
  std::string cmd = "rapper -q -i " + syntax + " -o ntriples " + in + " > " + out + " 2>&1";
  if (std::system(cmd.c_str()) != 0) return "";
  std::ifstream f(out);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// subject -> set of predicates, and the subjects of each rdf:type, from N-Triples.
struct Shape {
  std::map<std::string, std::set<std::string>> predicates;
  std::map<std::string, std::set<std::string>> ofType;
};

Shape shape(const std::string& ntriples) {
  Shape s;
  std::istringstream in(ntriples);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '<') continue;
    size_t se = line.find("> <");
    std::string subject = line.substr(1, se - 1);
    size_t pe = line.find('>', se + 3);
    std::string predicate = line.substr(se + 3, pe - se - 3);
    s.predicates[subject].insert(predicate);
    if (predicate == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type") {
      size_t os = line.find('<', pe + 1);
      s.ofType[line.substr(os + 1, line.find('>', os) - os - 1)].insert(subject);
    }
  }
  return s;
}

void expectMandatory(const Shape& s, const std::string& type, const std::vector<std::string>& props, size_t count) {
  auto it = s.ofType.find("http://www.w3.org/ns/dcat#" + type);
  ASSERT_NE(it, s.ofType.end()) << "no dcat:" << type;
  EXPECT_EQ(it->second.size(), count) << type;
  for (const auto& subject : it->second) {
    for (const auto& p : props) EXPECT_TRUE(s.predicates.at(subject).count(p)) << subject << " lacks " << p;
  }
}

const std::string kDct = "http://purl.org/dc/terms/";
const std::string kDcat = "http://www.w3.org/ns/dcat#";

void expectDcatApDe(const Shape& s) {
  // DCAT-AP.de 2.0 mandatory properties (and contributorID, required by GovData).
  expectMandatory(s, "Catalog", {kDct + "title", kDct + "description", kDct + "publisher", kDcat + "dataset"}, 1);
  expectMandatory(s, "Dataset",
                  {kDct + "title", kDct + "description", kDct + "publisher", kDcat + "distribution",
                   "http://dcat-ap.de/def/dcatde/contributorID", kDcat + "contactPoint", kDcat + "theme",
                   kDct + "accrualPeriodicity", "http://dcat-ap.de/def/dcatde/politicalGeocodingURI"},
                  1);
  // Three current-state formats and the history of the tenant's first (and only) month.
  expectMandatory(s, "Distribution", {kDcat + "accessURL", kDct + "license", kDct + "format", kDcat + "downloadURL"},
                  4);
}

TEST_F(OpenData, CatalogueInTurtleAndRdfXmlParsesWithMandatoryProperties) {
  for (const auto& [accept, syntax] :
       std::vector<std::pair<std::string, std::string>>{{"text/turtle", "turtle"}, {"application/rdf+xml", "rdfxml"}}) {
    for (const std::string target : {"/open/v1/m/catalog", "/open/v1/catalog"}) {
      HttpResult r = get(target, {{"Accept", accept}});
      ASSERT_EQ(r.status, 200) << r.body;
      EXPECT_EQ(r.header("content-type"), accept);
      std::string nt = rapper(r.body, syntax, dir_);
      ASSERT_FALSE(nt.empty()) << "rapper rejected " << target << " as " << syntax << ":\n" << r.body;
      expectDcatApDe(shape(nt));
      // The escaped title comes back as the same literal.
      EXPECT_NE(nt.find("Parken \\\"am\\\" Markt"), std::string::npos) << nt;
      EXPECT_NE(nt.find("<http://dcat-ap.de/def/politicalGeocoding/municipalityKey/09162000>"), std::string::npos);
      EXPECT_NE(nt.find("<https://daten.example/open/v1/m/datasets/parking/current.csv>"), std::string::npos);
    }
  }
}

TEST_F(OpenData, CatalogueJsonLdIsTheDefaultAndNegotiated) {
  HttpResult r = get("/open/v1/m/catalog");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/ld+json");
  EXPECT_NE(r.body.find("\"@graph\""), std::string::npos);
  EXPECT_NE(r.body.find("\"dcat:Catalog\""), std::string::npos);
  EXPECT_EQ(get("/open/v1/m/catalog", {{"Accept", "text/turtle;q=0.5, application/rdf+xml"}}).header("content-type"),
            "application/rdf+xml");
  EXPECT_EQ(get("/open/v1/m/catalog?format=ttl").header("content-type"), "text/turtle");
  EXPECT_EQ(get("/open/v1/m/catalog", {{"Accept", "image/png"}}).status, 406);
  EXPECT_EQ(get("/open/v1/nobody/catalog").status, 404);
}

TEST_F(OpenData, DistributionsCarryPublicAttributesOnly) {
  HttpResult csv = get("/open/v1/m/datasets/parking/current.csv");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.header("content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv.body,
            "id,type,category,location,refParkingSite,status\r\n"
            "urn:ngsi-ld:ParkingSpot:1,ParkingSpot,,\"{\"\"type\"\":\"\"Point\"\",\"\"coordinates\"\":[11.5,48.1]}\",,"
            "free\r\n"
            "urn:ngsi-ld:ParkingSpot:2,ParkingSpot,,,,\"occupied, \"\"long\"\" term\"\r\n");
  HttpResult kv = get("/open/v1/m/datasets/parking/current.json");
  ASSERT_EQ(kv.status, 200);
  EXPECT_EQ(kv.body, R"([{"id":"urn:ngsi-ld:ParkingSpot:1","type":"ParkingSpot","status":"free",)"
                     R"("location":{"type":"Point","coordinates":[11.5,48.1]}},)"
                     R"({"id":"urn:ngsi-ld:ParkingSpot:2","type":"ParkingSpot","status":"occupied, \"long\" term"}])");
  HttpResult geo = get("/open/v1/m/datasets/parking/current.geojson");
  ASSERT_EQ(geo.status, 200);
  EXPECT_EQ(geo.header("content-type"), "application/geo+json");
  EXPECT_EQ(
      geo.body.rfind(R"({"type":"FeatureCollection","features":[{"id":"urn:ngsi-ld:ParkingSpot:1","type":"Feature",)"
                     R"("geometry":{"type":"Point","coordinates":[11.5,48.1]})",
                     0),
      0u)
      << geo.body;
  EXPECT_NE(geo.body.find(R"("geometry":null)"), std::string::npos);
  EXPECT_EQ(get("/open/v1/m/datasets/parking/everything.xml").status, 404);
  EXPECT_EQ(get("/open/v1/m/datasets/nothing/current.csv").status, 404);
}

TEST_F(OpenData, NonPublicDataNeverLeaks) {
  std::vector<std::string> targets = {"/open/v1/m/datasets/parking/current.csv",
                                      "/open/v1/m/datasets/parking/current.json",
                                      "/open/v1/m/datasets/parking/current.geojson",
                                      "/open/v1/m/catalog?format=ttl",
                                      "/open/v1/m/catalog?format=rdf",
                                      "/open/v1/m/catalog",
                                      "/open/v1/catalog"};
  // Also when the dataset asks for a private attribute by name.
  std::string narrowed = datasetBody();
  narrowed.replace(narrowed.find("\"types\""), 7, R"("attributes": ["ownerName", "fillingLevel", "status"], "types")");
  ASSERT_EQ(client_->request("PUT", "/admin/v1/tenants/m/datasets/narrow", kAdmin, narrowed).status, 201);
  for (const auto& f : {"current.csv", "current.json", "current.geojson"}) {
    targets.push_back(std::string("/open/v1/m/datasets/narrow/") + f);
  }
  for (const auto& t : targets) {
    for (const Headers& h : {Headers{}, Headers{{"Accept-Encoding", "identity"}}}) {
      HttpResult r = get(t, h);
      ASSERT_EQ(r.status, 200) << t;
      for (const char* secret : {"SECRET", "ownerName", "fillingLevel", "WasteContainer"}) {
        EXPECT_EQ(r.body.find(secret), std::string::npos) << secret << " leaked through " << t << ":\n" << r.body;
      }
    }
  }
  EXPECT_NE(get("/open/v1/m/datasets/narrow/current.csv").body.find(",free"), std::string::npos);
}

TEST_F(OpenData, ConditionalRequests) {
  const std::string target = "/open/v1/m/datasets/parking/current.csv";
  HttpResult first = get(target);
  ASSERT_EQ(first.status, 200);
  std::string etag = first.header("etag");
  std::string lastModified = first.header("last-modified");
  ASSERT_FALSE(etag.empty());
  ASSERT_FALSE(lastModified.empty());
  HttpResult same = get(target, {{"If-None-Match", etag}});
  EXPECT_EQ(same.status, 304);
  EXPECT_TRUE(same.body.empty());
  EXPECT_EQ(same.header("etag"), etag);
  EXPECT_EQ(get(target, {{"If-None-Match", "\"other\", W/" + etag}}).status, 304);
  EXPECT_EQ(get(target, {{"If-Modified-Since", lastModified}}).status, 304);
  EXPECT_EQ(get(target, {{"If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"}}).status, 200);
  // If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
  EXPECT_EQ(get(target, {{"If-None-Match", "\"other\""}, {"If-Modified-Since", lastModified}}).status, 200);
  // A change gives a new tag.
  HttpResult w =
      client_->request("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:ParkingSpot:1/attrs",
                       {{"Content-Type", "application/json"}, {"X-API-Key", kAdminKey}, {"NGSILD-Tenant", "m"}},
                       R"({"status": "occupied"})");
  ASSERT_EQ(w.status, 204) << w.body;
  HttpResult changed = get(target, {{"If-None-Match", etag}});
  EXPECT_EQ(changed.status, 200);
  EXPECT_NE(changed.header("etag"), etag);
  // The catalogue too.
  HttpResult cat = get("/open/v1/m/catalog");
  EXPECT_EQ(get("/open/v1/m/catalog", {{"If-None-Match", cat.header("etag")}}).status, 304);
}

std::string gunzip(const std::string& in) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return "";
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : "";
}

TEST_F(OpenData, GzipWhenAccepted) {
  HttpResult plain = get("/open/v1/m/catalog?format=ttl");
  ASSERT_GT(plain.body.size(), 1024u);
  EXPECT_TRUE(plain.header("content-encoding").empty());
  HttpResult z = get("/open/v1/m/catalog?format=ttl", {{"Accept-Encoding", "br, gzip"}});
  ASSERT_EQ(z.status, 200);
  EXPECT_EQ(z.header("content-encoding"), "gzip");
  EXPECT_LT(z.body.size(), plain.body.size());
  EXPECT_EQ(gunzip(z.body), plain.body);
  EXPECT_NE(z.header("etag"), plain.header("etag"));  // a different representation
  EXPECT_EQ(get("/open/v1/m/catalog?format=ttl", {{"Accept-Encoding", "gzip;q=0"}}).header("content-encoding"), "");
}

TEST_F(OpenData, AdminApiChecksDefinitionsAndNeedsTheTenantAdmin) {
  auto put = [&](const std::string& id, const std::string& body, Headers h = kAdmin) {
    return client_->request("PUT", "/admin/v1/tenants/m/datasets/" + id, h, body);
  };
  std::string good = datasetBody();
  auto with = [&](const std::string& from, const std::string& to) {
    std::string b = good;
    b.replace(b.find(from), from.size(), to);
    return b;
  };
  EXPECT_EQ(put("x", with("dl-by-de/2.0", "proprietary")).status, 400);
  EXPECT_EQ(put("x", with("\"TRAN\"", "\"CARS\"")).status, 400);
  EXPECT_EQ(put("x", with("\"de\": \"Belegung der Parkplätze\", ", "")).status, 400);  // German description
  EXPECT_EQ(put("x", with("\"CONT\"", "\"SOMETIMES\"")).status, 400);
  EXPECT_EQ(put("x", with("\"license\"", "\"q\": \"status==\", \"license\"")).status, 400);
  EXPECT_EQ(put("bad id", good).status, 400);
  EXPECT_EQ(put("x", good, {{"Content-Type", "text/plain"}, {"X-API-Key", kAdminKey}}).status, 415);
  EXPECT_EQ(put("x", good, {{"Content-Type", "application/json"}}).status, 401);
  EXPECT_EQ(client_->request("PUT", "/admin/v1/tenants/nobody/datasets/x", kAdmin, good).status, 404);
  EXPECT_EQ(get("/admin/v1/tenants/m/datasets/x", {{"X-API-Key", kAdminKey}}).status, 404);
  // Replace keeps `created`; list; delete.
  HttpResult replaced = put("parking", with("\"CONT\"", "\"DAILY\""));
  EXPECT_EQ(replaced.status, 200) << replaced.body;
  HttpResult list = get("/admin/v1/tenants/m/datasets", {{"X-API-Key", kAdminKey}});
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("\"DAILY\""), std::string::npos);
  EXPECT_EQ(client_->request("DELETE", "/admin/v1/tenants/m/datasets/parking", {{"X-API-Key", kAdminKey}}).status, 204);
  EXPECT_EQ(get("/open/v1/m/datasets/parking/current.csv").status, 404);
  EXPECT_EQ(get("/open/v1/m/catalog?format=ttl").body.find("parking"), std::string::npos);
  // Deleting the tenant deletes its definitions: a new tenant of that name starts empty.
  ASSERT_EQ(put("kept", good).status, 201);
  ASSERT_EQ(client_->request("DELETE", "/admin/v1/tenants/m?confirm=m", {{"X-API-Key", kAdminKey}}).status, 204);
  ASSERT_EQ(client_->request("POST", "/admin/v1/tenants", kAdmin, R"({"name": "m", "ags": "09162000"})").status, 201);
  EXPECT_EQ(get("/admin/v1/tenants/m/datasets", {{"X-API-Key", kAdminKey}}).body, "[]");
}

std::string utcDate(const char* format) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

TEST_F(OpenData, HistoryCsvPerDayAndMonthHasPublicAttributesOnly) {
  const std::string day = utcDate("%Y-%m-%d");
  HttpResult w =
      client_->request("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:ParkingSpot:1/attrs",
                       {{"Content-Type", "application/json"}, {"X-API-Key", kAdminKey}, {"NGSILD-Tenant", "m"}},
                       R"({"status": "occupied", "ownerName": "SECRET-NEW-OWNER"})");
  ASSERT_EQ(w.status, 204) << w.body;
  for (const std::string period : {day, day.substr(0, 7)}) {
    HttpResult r = get("/open/v1/m/datasets/parking/history/" + period + ".csv");
    ASSERT_EQ(r.status, 200) << period << r.body;
    EXPECT_EQ(r.header("content-type"), "text/csv; charset=utf-8");
    EXPECT_EQ(r.body.rfind("entityId,type,attribute,observedAt,recordedAt,value\r\n", 0), 0u);
    EXPECT_NE(r.body.find("urn:ngsi-ld:ParkingSpot:1,ParkingSpot,status,,"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(",free\r\n"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(",occupied\r\n"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"{\"\"type\"\":\"\"Point\"\""), std::string::npos) << r.body;
    for (const char* secret : {"SECRET", "ownerName", "fillingLevel", "WasteContainer"}) {
      EXPECT_EQ(r.body.find(secret), std::string::npos) << secret << " leaked:\n" << r.body;
    }
  }
  HttpResult empty = get("/open/v1/m/datasets/parking/history/2001-01-01.csv");
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.body, "entityId,type,attribute,observedAt,recordedAt,value\r\n");
  EXPECT_EQ(get("/open/v1/m/datasets/parking/history/yesterday.csv").status, 404);
  // Written and read across midnight (UTC) the day files differ: that run proves nothing.
  if (utcDate("%Y-%m-%d") != day) GTEST_SKIP() << "ran across midnight UTC";
  EXPECT_EQ(get("/open/v1/m/datasets/parking/history/2026-13.csv").status, 404);
}

// Creates ParkingSpots urn:ngsi-ld:ParkingSpot:p<from> .. p<to - 1> (status "free").
void createSpots(HttpClient& client, int from, int to) {
  for (int b = from; b < to; b += 1000) {
    std::string batch = "[";
    for (int i = b; i < std::min(to, b + 1000); ++i) {
      batch += std::string(i > b ? "," : "") + R"({"id": "urn:ngsi-ld:ParkingSpot:p)" + std::to_string(i) +
               R"(", "type": "ParkingSpot", "status": "free", "ownerName": "SECRET-)" + std::to_string(i) + "\"}";
    }
    HttpResult r = client.request(
        "POST", "/ngsi-ld/v1/entityOperations/create",
        {{"Content-Type", "application/json"}, {"X-API-Key", kAdminKey}, {"NGSILD-Tenant", "m"}}, batch + "]");
    ASSERT_EQ(r.status, 201) << r.body;
  }
}

// Downloads are streamed (chunked, no Content-Length) and page through the store: more entities
// than one page (api/open_export.h kExportPage) come out once each, in creation order; the gzip
// stream is the plain body compressed, with its own tag, and 304s by it.
TEST_F(OpenData, DownloadsAreStreamedPageByPage) {
  const int kSpots = 2345;
  createSpots(*client_, 0, kSpots);
  HttpResult csv = get("/open/v1/m/datasets/parking/current.csv");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.header("transfer-encoding"), "chunked");
  EXPECT_EQ(csv.header("content-length"), "");
  std::istringstream lines(csv.body);
  std::string line;
  std::getline(lines, line);
  std::vector<std::string> ids;
  while (std::getline(lines, line)) ids.push_back(line.substr(0, line.find(',')));
  ASSERT_EQ(ids.size(), static_cast<size_t>(kSpots + 2));
  EXPECT_EQ(ids[0], "urn:ngsi-ld:ParkingSpot:1");
  EXPECT_EQ(ids[1], "urn:ngsi-ld:ParkingSpot:2");
  for (int i = 0; i < kSpots; ++i) ASSERT_EQ(ids[i + 2], "urn:ngsi-ld:ParkingSpot:p" + std::to_string(i));
  EXPECT_EQ(csv.body.find("SECRET"), std::string::npos);

  HttpResult geo = get("/open/v1/m/datasets/parking/current.geojson");
  ASSERT_EQ(geo.status, 200);
  size_t features = 0;
  for (size_t at = 0; (at = geo.body.find(R"("type":"Feature")", at)) != std::string::npos; ++at) ++features;
  EXPECT_EQ(features, static_cast<size_t>(kSpots + 2));
  EXPECT_EQ(geo.body.substr(geo.body.size() - 2), "]}");

  for (const char* f : {"current.csv", "current.geojson", "current.json"}) {
    const std::string target = std::string("/open/v1/m/datasets/parking/") + f;
    HttpResult plain = get(target);
    HttpResult z = get(target, {{"Accept-Encoding", "gzip"}});
    ASSERT_EQ(z.status, 200) << f;
    EXPECT_EQ(z.header("content-encoding"), "gzip");
    EXPECT_EQ(z.header("transfer-encoding"), "chunked");
    EXPECT_LT(z.body.size(), plain.body.size() / 4) << f;
    EXPECT_EQ(gunzip(z.body), plain.body) << f;
    std::string tag = plain.header("etag");
    EXPECT_EQ(z.header("etag"), tag.substr(0, tag.size() - 1) + "-gz\"");
    EXPECT_EQ(get(target, {{"If-None-Match", z.header("etag")}, {"Accept-Encoding", "gzip"}}).status, 304);
    EXPECT_EQ(get(target, {{"If-None-Match", tag}}).status, 304);
    EXPECT_EQ(get(target).header("etag"), tag) << "the tag of an unchanged download is stable";
  }
}

// The tag follows every change of a download's content: an update, a deletion (which leaves
// Last-Modified where it was), a new entity, a change of what the catalogue makes public.
TEST_F(OpenData, EveryChangeOfADownloadChangesItsTag) {
  const std::string target = "/open/v1/m/datasets/parking/current.json";
  const Headers ngsi = {{"Content-Type", "application/json"}, {"X-API-Key", kAdminKey}, {"NGSILD-Tenant", "m"}};
  std::set<std::string> tags = {get(target).header("etag")};
  auto changed = [&](const char* what) {
    HttpResult r = get(target);
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(tags.insert(r.header("etag")).second) << what << " left the tag as it was";
  };
  ASSERT_EQ(client_->request("DELETE", "/ngsi-ld/v1/entities/urn:ngsi-ld:ParkingSpot:2", ngsi).status, 204);
  changed("a deletion");
  createSpots(*client_, 0, 1);
  changed("a new entity");
  ASSERT_EQ(
      client_
          ->request("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:ParkingSpot:p0/attrs", ngsi, R"({"status": "occupied"})")
          .status,
      204);
  changed("an update");
  std::string narrowed = datasetBody();
  narrowed.replace(narrowed.find("\"types\""), 7, R"("attributes": ["status"], "types")");
  ASSERT_EQ(client_->request("PUT", "/admin/v1/tenants/m/datasets/parking", kAdmin, narrowed).status, 200);
  changed("a narrower definition");
}

// The catalogue lists the monthly history files as distributions; the history keeps entities
// deleted since (their history outlives them).
TEST_F(OpenData, HistoryIsListedAndKeepsDeletedEntities) {
  const std::string month = utcDate("%Y-%m");
  HttpResult cat = get("/open/v1/m/catalog?format=ttl");
  ASSERT_EQ(cat.status, 200);
  std::string nt = rapper(cat.body, "turtle", dir_);
  ASSERT_FALSE(nt.empty());
  const std::string dist = "<https://daten.example/open/v1/m/datasets/parking/history/" + month + ".csv>";
  EXPECT_NE(
      nt.find(dist + " <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/dcat#Distribution>"),
      std::string::npos)
      << nt;
  EXPECT_NE(nt.find(dist + " <http://purl.org/dc/terms/license>"), std::string::npos);
  ASSERT_EQ(client_
                ->request("DELETE", "/ngsi-ld/v1/entities/urn:ngsi-ld:ParkingSpot:2",
                          {{"X-API-Key", kAdminKey}, {"NGSILD-Tenant", "m"}})
                .status,
            204);
  EXPECT_EQ(get("/open/v1/m/datasets/parking/current.csv").body.find("ParkingSpot:2"), std::string::npos);
  HttpResult h = get("/open/v1/m/datasets/parking/history/" + month + ".csv");
  if (utcDate("%Y-%m") != month) GTEST_SKIP() << "ran across the turn of a month (UTC)";
  ASSERT_EQ(h.status, 200);
  EXPECT_NE(h.body.find("urn:ngsi-ld:ParkingSpot:2,ParkingSpot,status,,"), std::string::npos) << h.body;
  EXPECT_NE(h.body.find("urn:ngsi-ld:ParkingSpot:1,ParkingSpot,status,,"), std::string::npos) << h.body;
  EXPECT_EQ(h.body.find("WasteContainer"), std::string::npos) << h.body;
  EXPECT_EQ(h.body.find("SECRET"), std::string::npos) << h.body;
}

// Bad input on the anonymous endpoints -- Accept headers, ?format, history file names (dates),
// conditional headers, Accept-Encoding -- is answered (200, 304, or a ProblemDetails 4xx),
// never with a crash or a 5xx. Fixed seed: the same cases on every run.
TEST_F(OpenData, BadAcceptAndDatesAreAnsweredNeverCrash) {
  std::mt19937 rng(11);
  const std::vector<std::string> atoms = {"application/ld+json",
                                          "text/turtle",
                                          "application/rdf+xml",
                                          "*/*",
                                          "text/*",
                                          "application/*",
                                          "image/png",
                                          ";q=",
                                          "q=0",
                                          "q=0.5",
                                          "q=1.0",
                                          "q=-1",
                                          "q=nan",
                                          "q=1e400",
                                          "q=inf",
                                          ",",
                                          ";",
                                          " ",
                                          "\t",
                                          "=",
                                          "/",
                                          "*",
                                          "\"",
                                          "application/json;charset=utf-8",
                                          "ä",
                                          "\xff\xfe",
                                          "%00",
                                          "q=0.000001"};
  auto randomText = [&](size_t maxAtoms) {
    std::string out;
    for (size_t n = rng() % (maxAtoms + 1); n > 0; --n) out += atoms[rng() % atoms.size()];
    return out;
  };
  auto answered = [&](const HttpResult& r, const std::string& what) {
    ASSERT_NE(r.status, 0) << "no answer to " << what;
    EXPECT_LT(r.status, 500) << what << "\n" << r.body;
    EXPECT_TRUE(r.status == 200 || r.status == 304 || r.status == 400 || r.status == 404 || r.status == 406)
        << r.status << " for " << what;
    if (r.status >= 400) {
      EXPECT_NE(r.body.find("\"type\""), std::string::npos) << "not a ProblemDetails: " << r.body;
      EXPECT_NE(r.body.find("\"title\""), std::string::npos) << r.body;
    }
  };
  const std::vector<std::string> targets = {"/open/v1/m/catalog", "/open/v1/catalog",
                                            "/open/v1/m/datasets/parking/current.csv",
                                            "/open/v1/m/datasets/parking/current.geojson"};
  for (int i = 0; i < 150; ++i) {
    const std::string& target = targets[i % targets.size()];
    std::string accept = randomText(6);
    answered(get(target, {{"Accept", accept}}), target + " Accept: " + accept);
    std::string format = randomText(2);
    std::string encoded;
    for (unsigned char c : format) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      encoded += hex;
    }
    answered(get(target + "?format=" + encoded), target + "?format=" + format);
    std::string date = randomText(3);
    answered(get(target, {{"If-Modified-Since", date}, {"Accept-Encoding", randomText(2)}}), target + " " + date);
    answered(get(target, {{"If-None-Match", randomText(3)}}), target + " If-None-Match");
  }
  // History file names: every shape of almost-date.
  std::vector<std::string> files = {"2026-02-30.csv", "2026-02-29.csv",    "2024-02-29.csv",
                                    "2026-00.csv",    "2026-13.csv",       "2026-12.csv",
                                    "0000-01-01.csv", "9999-12-31.csv",    "9999-12.csv",
                                    "2026-1-1.csv",   "+2026-01.csv",      "-001-01.csv",
                                    "2026-01-01.CSV", "2026-01-01.csv.gz", "2026-01-01",
                                    ".csv",           "2026-01-32.csv",    "2026-01-00.csv",
                                    "2026-01-1a.csv", "20260101.csv",      "2026-01-01T00:00:00Z.csv",
                                    "2026-W01.csv",   " 2026-01.csv",      "2026-01 .csv",
                                    "99999-01.csv",   "2026-001.csv",      "2026--1.csv",
                                    "0x7e-01.csv"};
  for (int i = 0; i < 60; ++i) {
    std::string f;
    for (int n = 0; n < 10; ++n) f += "0123456789-.csvT:Z"[rng() % 18];
    files.push_back(f);
  }
  for (const auto& f : files) {
    std::string encoded;
    for (unsigned char c : f) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      encoded += hex;
    }
    HttpResult r = get("/open/v1/m/datasets/parking/history/" + encoded);
    answered(r, "history/" + f);
  }
  // Still serving.
  EXPECT_EQ(get("/open/v1/m/datasets/parking/current.csv").status, 200);
}

TEST(OpenDataLimit, AnonymousClientsAreRateLimited) {
  TempDir dir;
  ServerProcess server(ALLMENDE_BINARY, dir.path(), {"--open-rps", "0.001", "--open-burst", "2"});
  ASSERT_TRUE(server.ok());
  HttpClient client(server.port());
  EXPECT_EQ(client.request("GET", "/open/v1/catalog").status, 200);
  EXPECT_EQ(client.request("GET", "/open/v1/catalog").status, 200);
  HttpResult r = client.request("GET", "/open/v1/catalog");
  EXPECT_EQ(r.status, 429);
  EXPECT_FALSE(r.header("retry-after").empty());
}

}  // namespace
}  // namespace allmende::testing
