// Distributed operations (issue 12 part B): two and three real Allmende servers, each with its
// own port and data directory, registering with each other through /csourceRegistrations.
// Queries, retrievals, temporal queries and writes reach the registered servers by the
// registration's mode; a source that is down and one that never answers (a real listening
// socket that accepts and stays silent) leave a warning, not a failure; loops end.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <string>

#include "harness.h"

namespace allmende::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
const Headers kJson = {{"Content-Type", "application/json"}};

// One server with its own data directory.
struct Node {
  explicit Node(const std::vector<std::string>& args = {})
      : server(ALLMENDE_BINARY, dir.path(), args), client(server.port()) {}
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server.port()); }
  TempDir dir;
  ServerProcess server;
  HttpClient client;
};

void create(Node& n, const std::string& entity) {
  HttpResult r = n.client.request("POST", "/ngsi-ld/v1/entities", kJson, entity);
  ASSERT_EQ(r.status, 201) << r.body;
}

// Registers `source` at `broker` for entities of `type` (and only `attrs`, when given).
// `type` may carry an entity id: "Room urn:ngsi-ld:Room:1" (exclusive registrations need one).
void registerSource(Node& broker, const std::string& id, const std::string& endpoint, const std::string& type,
                    const std::string& mode, const std::string& attrs = "", const std::string& extra = "") {
  std::string typeName = type.substr(0, type.find(' '));
  std::string entityId = type.find(' ') == std::string::npos ? "" : type.substr(type.find(' ') + 1);
  std::string info = R"({"entities": [{"type": ")" + typeName + "\"" +
                     (entityId.empty() ? std::string() : R"(, "id": ")" + entityId + "\"") + "}]" +
                     (attrs.empty() ? std::string() : R"(, "propertyNames": [)" + attrs + "]") + "}";
  std::string body = R"({"id": ")" + id + R"(", "type": "ContextSourceRegistration", "information": [)" + info +
                     R"(], "endpoint": ")" + endpoint + R"(", "mode": ")" + mode + "\"" + extra + "}";
  HttpResult r = broker.client.request("POST", "/ngsi-ld/v1/csourceRegistrations", kJson, body);
  ASSERT_EQ(r.status, 201) << body << "\n" << r.body;
}

rapidjson::Document parse(const HttpResult& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  return d;
}

// The ids of a query answer.
std::set<std::string> idsOf(const rapidjson::Document& d) {
  std::set<std::string> ids;
  if (!d.IsArray()) return ids;
  for (const auto& e : d.GetArray()) ids.insert(e["id"].GetString());
  return ids;
}

const rapidjson::Value* entityIn(const rapidjson::Document& d, const std::string& id) {
  if (!d.IsArray()) return nullptr;
  for (const auto& e : d.GetArray()) {
    if (id == e["id"].GetString()) return &e;
  }
  return nullptr;
}

double valueOf(const rapidjson::Value& entity, const char* attr) { return entity[attr]["value"].GetDouble(); }

// A TCP listener that accepts connections and never answers (a hung context source).
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);  // the kernel completes the handshakes; nothing is ever read or written
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(Federation, InclusiveQueryMergesEntitiesOfTwoServers) {
  Node a, b;
  ASSERT_TRUE(a.server.ok() && b.server.ok());
  create(a, R"({"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": {"type": "Property", "value": 21}})");
  create(b, R"({"id": "urn:ngsi-ld:Room:1", "type": "Room", "humidity": {"type": "Property", "value": 40}})");
  create(b, R"({"id": "urn:ngsi-ld:Room:2", "type": "Room", "temperature": {"type": "Property", "value": 18}})");
  create(b, R"({"id": "urn:ngsi-ld:Car:1", "type": "Car", "speed": {"type": "Property", "value": 50}})");
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:b", b.url(), "Room", "inclusive");

  HttpResult r = a.client.request("GET", "/ngsi-ld/v1/entities?type=Room&count=true");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("ngsild-results-count"), "2");
  EXPECT_TRUE(r.headersNamed("ngsild-warning").empty());
  auto d = parse(r);
  EXPECT_EQ(idsOf(d), (std::set<std::string>{"urn:ngsi-ld:Room:1", "urn:ngsi-ld:Room:2"}));
  const auto* room1 = entityIn(d, "urn:ngsi-ld:Room:1");
  ASSERT_NE(room1, nullptr);
  EXPECT_EQ(valueOf(*room1, "temperature"), 21);  // from A
  EXPECT_EQ(valueOf(*room1, "humidity"), 40);     // from B

  // Retrieval merges too; the representation is the client's (keyValues here).
  r = a.client.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1?format=keyValues");
  ASSERT_EQ(r.status, 200) << r.body;
  d = parse(r);
  EXPECT_EQ(d["temperature"].GetInt(), 21);
  EXPECT_EQ(d["humidity"].GetInt(), 40);
  // An entity only B has is found through A.
  EXPECT_EQ(a.client.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:2").status, 200);
  // POST /entityOperations/query is forwarded as well.
  r = a.client.request("POST", "/ngsi-ld/v1/entityOperations/query", kJson,
                       R"({"type": "Query", "entities": [{"type": "Room"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(idsOf(parse(r)).size(), 2u);

  // local=true: the broker's own entities only (NGSI-LD 6.3.18).
  r = a.client.request("GET", "/ngsi-ld/v1/entities?type=Room&local=true");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(idsOf(parse(r)), (std::set<std::string>{"urn:ngsi-ld:Room:1"}));
  // A type the registration does not cover is not forwarded.
  r = a.client.request("GET", "/ngsi-ld/v1/entities?type=Car");
  EXPECT_EQ(idsOf(parse(r)).size(), 0u) << r.body;
}

TEST(Federation, PagingAndCountRunOverTheMergedEntities) {
  Node a, b;
  ASSERT_TRUE(a.server.ok() && b.server.ok());
  for (int i = 0; i < 5; ++i) {
    create(a, R"({"id": "urn:ngsi-ld:Room:a)" + std::to_string(i) + R"(", "type": "Room"})");
    create(b, R"({"id": "urn:ngsi-ld:Room:b)" + std::to_string(i) + R"(", "type": "Room"})");
  }
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:b", b.url(), "Room", "inclusive");
  std::set<std::string> seen;
  for (int offset = 0; offset < 10; offset += 4) {
    HttpResult r =
        a.client.request("GET", "/ngsi-ld/v1/entities?type=Room&count=true&limit=4&offset=" + std::to_string(offset));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("ngsild-results-count"), "10");
    auto ids = idsOf(parse(r));
    EXPECT_EQ(ids.size(), offset == 8 ? 2u : 4u);
    seen.insert(ids.begin(), ids.end());
    bool next = false;
    for (const auto& link : r.headersNamed("link")) next = next || link.find("rel=\"next\"") != std::string::npos;
    EXPECT_EQ(next, offset < 8);
  }
  EXPECT_EQ(seen.size(), 10u);
}

TEST(Federation, TheLatestObservationWinsForTheSameAttributeInstance) {
  Node a, b;
  ASSERT_TRUE(a.server.ok() && b.server.ok());
  create(a, R"({"id": "urn:ngsi-ld:Room:1", "type": "Room",
               "temperature": {"type": "Property", "value": 20, "observedAt": "2026-01-01T10:00:00Z"},
               "co2": {"type": "Property", "value": 400, "observedAt": "2026-01-01T12:00:00Z"}})");
  create(b, R"({"id": "urn:ngsi-ld:Room:1", "type": "Room",
               "temperature": [{"type": "Property", "value": 22, "observedAt": "2026-01-01T11:00:00Z"},
                               {"type": "Property", "value": 5, "datasetId": "urn:ngsi-ld:Dataset:floor"}],
               "co2": {"type": "Property", "value": 900, "observedAt": "2026-01-01T09:00:00Z"}})");
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:b", b.url(), "Room", "inclusive");
  HttpResult r = a.client.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1");
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = parse(r);
  ASSERT_TRUE(d["temperature"].IsArray()) << r.body;  // two datasetIds
  double def = 0, floor = 0;
  for (const auto& inst : d["temperature"].GetArray()) {
    (inst.HasMember("datasetId") ? floor : def) = inst["value"].GetDouble();
  }
  EXPECT_EQ(def, 22);                             // B observed it later
  EXPECT_EQ(floor, 5);                            // only B has this dataset
  EXPECT_EQ(d["co2"]["value"].GetDouble(), 400);  // A observed it later
}

TEST(Federation, ExclusiveAndAuxiliaryPrecedence) {
  Node a, b, c;
  ASSERT_TRUE(a.server.ok() && b.server.ok() && c.server.ok());
  create(a, R"({"id": "urn:ngsi-ld:Room:1", "type": "Room",
               "temperature": {"type": "Property", "value": 20, "observedAt": "2026-01-01T12:00:00Z"}})");
  // B is authoritative for temperature, even with an older observation.
  create(b, R"({"id": "urn:ngsi-ld:Room:1", "type": "Room",
               "temperature": {"type": "Property", "value": 25, "observedAt": "2026-01-01T08:00:00Z"}})");
  // C is a fallback: its newer temperature does not win, its noise level is shown.
  create(c, R"({"id": "urn:ngsi-ld:Room:1", "type": "Room",
               "temperature": {"type": "Property", "value": 99, "observedAt": "2026-01-01T13:00:00Z"},
               "noise": {"type": "Property", "value": 30}})");
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:b", b.url(), "Room urn:ngsi-ld:Room:1", "exclusive",
                 R"("temperature")", R"(, "operations": ["retrieveOps", "updateOps"])");
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:c", c.url(), "Room", "auxiliary", "",
                 R"(, "operations": ["retrieveOps"])");
  HttpResult r = a.client.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1?format=keyValues");
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = parse(r);
  EXPECT_EQ(d["temperature"].GetDouble(), 25) << r.body;
  EXPECT_EQ(d["noise"].GetDouble(), 30) << r.body;
}

TEST(Federation, RedirectForwardsWritesAndReads) {
  Node a, b;
  ASSERT_TRUE(a.server.ok() && b.server.ok());
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:b", b.url(), "Parcel", "redirect", "",
                 R"(, "operations": ["redirectionOps"])");
  create(a, R"({"id": "urn:ngsi-ld:Parcel:1", "type": "Parcel", "weight": {"type": "Property", "value": 3}})");
  // Held by B, not by A.
  EXPECT_EQ(b.client.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Parcel:1").status, 200);
  EXPECT_EQ(a.client.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Parcel:1?local=true").status, 404);
  // Read through A.
  HttpResult r = a.client.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Parcel:1?format=keyValues");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse(r)["weight"].GetDouble(), 3);
  // Attribute update through A reaches B.
  r = a.client.request("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:Parcel:1/attrs", kJson,
                       R"({"weight": {"type": "Property", "value": 4}})");
  EXPECT_EQ(r.status, 204) << r.body;
  r = b.client.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Parcel:1?format=keyValues");
  EXPECT_EQ(parse(r)["weight"].GetDouble(), 4) << r.body;
  // Delete through A deletes at B.
  r = a.client.request("DELETE", "/ngsi-ld/v1/entities/urn:ngsi-ld:Parcel:1");
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(b.client.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Parcel:1").status, 404);
  EXPECT_EQ(a.client.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Parcel:1").status, 404);
}

TEST(Federation, ExclusiveUpdateGoesToTheSourceInclusiveUpdateToBoth) {
  Node a, b, c;
  ASSERT_TRUE(a.server.ok() && b.server.ok() && c.server.ok());
  create(a, R"({"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": {"type": "Property", "value": 1}})");
  create(b, R"({"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": {"type": "Property", "value": 2}})");
  create(c, R"({"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": {"type": "Property", "value": 3}})");
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:b", b.url(), "Room urn:ngsi-ld:Room:1", "exclusive",
                 R"("temperature")", R"(, "operations": ["updateOps", "retrieveOps"])");
  HttpResult r = a.client.request("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1/attrs", kJson,
                                  R"({"temperature": {"type": "Property", "value": 10}})");
  EXPECT_EQ(r.status, 204) << r.body;
  auto kv = [](Node& n) {
    return parse(n.client.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1?format=keyValues&local=true"));
  };
  EXPECT_EQ(kv(b)["temperature"].GetDouble(), 10);
  EXPECT_EQ(kv(a)["temperature"].GetDouble(), 1);  // exclusive: A does not write it itself

  Node d;
  ASSERT_TRUE(d.server.ok());
  create(d, R"({"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": {"type": "Property", "value": 1}})");
  registerSource(d, "urn:ngsi-ld:ContextSourceRegistration:c", c.url(), "Room", "inclusive", "",
                 R"(, "operations": ["updateOps", "retrieveOps"])");
  r = d.client.request("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1/attrs", kJson,
                       R"({"temperature": {"type": "Property", "value": 11}})");
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(kv(c)["temperature"].GetDouble(), 11);
  EXPECT_EQ(kv(d)["temperature"].GetDouble(), 11);
}

TEST(Federation, ASourceThatIsDownOrSilentLeavesAWarning) {
  Node a({"--forward-timeout-ms", "300"});
  ASSERT_TRUE(a.server.ok());
  create(a, R"({"id": "urn:ngsi-ld:Room:1", "type": "Room"})");
  SilentListener silent;
  const std::string down = "http://127.0.0.1:" + std::to_string(freePort());
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:down", down, "Room", "inclusive");
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:silent", silent.url(), "Room", "inclusive");
  HttpResult r = a.client.request("GET", "/ngsi-ld/v1/entities?type=Room");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(idsOf(parse(r)), (std::set<std::string>{"urn:ngsi-ld:Room:1"}));
  auto warnings = r.headersNamed("ngsild-warning");
  ASSERT_EQ(warnings.size(), 2u);
  std::string all = warnings[0] + "\n" + warnings[1];
  EXPECT_NE(all.find("urn:ngsi-ld:ContextSourceRegistration:down"), std::string::npos) << all;
  EXPECT_NE(all.find("urn:ngsi-ld:ContextSourceRegistration:silent"), std::string::npos) << all;
  EXPECT_NE(all.find("no answer within 300 ms"), std::string::npos) << all;
  // A retrieval of an entity nobody has: 404 with the warnings.
  r = a.client.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:9");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.headersNamed("ngsild-warning").size(), 2u);
  // The registration shows the failed deliveries (NGSI-LD 5.2.9).
  r = a.client.request("GET", "/ngsi-ld/v1/csourceRegistrations/urn:ngsi-ld:ContextSourceRegistration:down");
  ASSERT_EQ(r.status, 200) << r.body;
  auto reg = parse(r);
  ASSERT_TRUE(reg.HasMember("timesFailed")) << r.body;
  EXPECT_EQ(reg["timesSent"].GetUint64(), 2u) << r.body;
  EXPECT_EQ(reg["timesFailed"].GetUint64(), 2u) << r.body;
}

TEST(Federation, AWriteThatFailsAtOneSourceIsAPartialSuccess) {
  Node a({"--forward-timeout-ms", "300"});
  ASSERT_TRUE(a.server.ok());
  create(a, R"({"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": {"type": "Property", "value": 1}})");
  const std::string down = "http://127.0.0.1:" + std::to_string(freePort());
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:down", down, "Room", "inclusive", "",
                 R"(, "operations": ["updateOps"])");
  HttpResult r = a.client.request("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1/attrs", kJson,
                                  R"({"temperature": {"type": "Property", "value": 2}})");
  ASSERT_EQ(r.status, 207) << r.body;
  auto d = parse(r);
  ASSERT_TRUE(d.IsObject()) << r.body;
  ASSERT_EQ(d["success"].Size(), 1u);
  EXPECT_STREQ(d["success"][0].GetString(), "local");
  ASSERT_EQ(d["errors"].Size(), 1u);
  EXPECT_STREQ(d["errors"][0]["registrationId"].GetString(), "urn:ngsi-ld:ContextSourceRegistration:down");
  // The local part was written.
  r = a.client.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1?format=keyValues&local=true");
  EXPECT_EQ(parse(r)["temperature"].GetDouble(), 2) << r.body;
}

TEST(Federation, MutualRegistrationsDoNotLoop) {
  Node a, b;
  ASSERT_TRUE(a.server.ok() && b.server.ok());
  create(a, R"({"id": "urn:ngsi-ld:Room:a", "type": "Room"})");
  create(b, R"({"id": "urn:ngsi-ld:Room:b", "type": "Room"})");
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:b", b.url(), "Room", "inclusive");
  registerSource(b, "urn:ngsi-ld:ContextSourceRegistration:a", a.url(), "Room", "inclusive");
  for (Node* n : {&a, &b}) {
    HttpResult r = n->client.request("GET", "/ngsi-ld/v1/entities?type=Room");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(idsOf(parse(r)), (std::set<std::string>{"urn:ngsi-ld:Room:a", "urn:ngsi-ld:Room:b"}));
    EXPECT_TRUE(r.headersNamed("ngsild-warning").empty()) << r.header("ngsild-warning");
  }
}

TEST(Federation, ThreeServersInAChainAndTenants) {
  Node a, b, c;
  ASSERT_TRUE(a.server.ok() && b.server.ok() && c.server.ok());
  create(a, R"({"id": "urn:ngsi-ld:Room:a", "type": "Room"})");
  create(b, R"({"id": "urn:ngsi-ld:Room:b", "type": "Room"})");
  // C holds its rooms in tenant "city"; B's registration addresses that tenant (5.2.9 tenant).
  HttpResult r = c.client.request("POST", "/ngsi-ld/v1/entities",
                                  {{"Content-Type", "application/json"}, {"NGSILD-Tenant", "city"}},
                                  R"({"id": "urn:ngsi-ld:Room:c", "type": "Room"})");
  ASSERT_EQ(r.status, 201) << r.body;
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:b", b.url(), "Room", "inclusive");
  registerSource(b, "urn:ngsi-ld:ContextSourceRegistration:c", c.url(), "Room", "inclusive", "",
                 R"(, "tenant": "city")");
  r = a.client.request("GET", "/ngsi-ld/v1/entities?type=Room");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(idsOf(parse(r)), (std::set<std::string>{"urn:ngsi-ld:Room:a", "urn:ngsi-ld:Room:b", "urn:ngsi-ld:Room:c"}));
}

TEST(Federation, TemporalQueriesAndRetrievalsMergeHistories) {
  Node a, b;
  ASSERT_TRUE(a.server.ok() && b.server.ok());
  create(a, R"({"id": "urn:ngsi-ld:Room:1", "type": "Room",
               "temperature": {"type": "Property", "value": 20, "observedAt": "2026-01-01T10:00:00Z"}})");
  create(b, R"({"id": "urn:ngsi-ld:Room:1", "type": "Room",
               "temperature": {"type": "Property", "value": 21, "observedAt": "2026-01-01T11:00:00Z"}})");
  create(b, R"({"id": "urn:ngsi-ld:Room:2", "type": "Room",
               "temperature": {"type": "Property", "value": 15, "observedAt": "2026-01-01T11:00:00Z"}})");
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:b", b.url(), "Room", "inclusive", "",
                 R"(, "operations": ["retrieveTemporal", "queryTemporal"])");
  HttpResult r = a.client.request(
      "GET", "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:Room:1?timerel=after&timeAt=2026-01-01T00:00:00Z");
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = parse(r);
  ASSERT_TRUE(d["temperature"].IsArray()) << r.body;
  std::set<double> values;
  for (const auto& inst : d["temperature"].GetArray()) values.insert(inst["value"].GetDouble());
  EXPECT_EQ(values, (std::set<double>{20, 21})) << r.body;
  r = a.client.request("GET", "/ngsi-ld/v1/temporal/entities?type=Room&timerel=after&timeAt=2026-01-01T00:00:00Z");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(idsOf(parse(r)), (std::set<std::string>{"urn:ngsi-ld:Room:1", "urn:ngsi-ld:Room:2"})) << r.body;
  // Only B has Room:2's history.
  r = a.client.request("GET", "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:Room:2");
  EXPECT_EQ(r.status, 200) << r.body;
}

// ---------------------------------------------------------------------------------------------
// Batch operations (NGSI-LD 5.6.7 - 5.6.10, 5.6.20 distributed): each entity goes where a write
// of it alone would go; each destination gets one batch.

HttpResult batch(Node& n, const std::string& op, const std::string& body, const std::string& query = "") {
  return n.client.request("POST", "/ngsi-ld/v1/entityOperations/" + op + query, kJson, body);
}

int statusOf(Node& n, const std::string& id, bool local = false) {
  return n.client.request("GET", "/ngsi-ld/v1/entities/" + id + (local ? "?local=true" : "")).status;
}

rapidjson::Document keyValues(Node& n, const std::string& id) {
  return parse(n.client.request("GET", "/ngsi-ld/v1/entities/" + id + "?format=keyValues&local=true"));
}

std::set<std::string> stringsOf(const rapidjson::Value& v) {
  std::set<std::string> out;
  if (!v.IsArray()) return out;
  for (const auto& s : v.GetArray()) {
    if (s.IsString()) out.insert(s.GetString());
  }
  return out;
}

TEST(Federation, BatchOperationsFollowARedirectRegistration) {
  Node a, b;
  ASSERT_TRUE(a.server.ok() && b.server.ok());
  // Batches are named beside the group (Table 4.20-2: redirectionOps holds no batch operation).
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:b", b.url(), "Parcel", "redirect", "",
                 R"(, "operations": ["redirectionOps", "createBatch", "upsertBatch", "updateBatch", "deleteBatch",)"
                 R"( "mergeBatch"])");
  HttpResult r = batch(a, "create", R"([
      {"id": "urn:ngsi-ld:Parcel:1", "type": "Parcel", "weight": {"type": "Property", "value": 3}},
      {"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": {"type": "Property", "value": 20}}])");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(stringsOf(parse(r)), (std::set<std::string>{"urn:ngsi-ld:Parcel:1", "urn:ngsi-ld:Room:1"}));
  // The parcel is B's alone, the room A's.
  EXPECT_EQ(statusOf(b, "urn:ngsi-ld:Parcel:1"), 200);
  EXPECT_EQ(statusOf(a, "urn:ngsi-ld:Parcel:1", true), 404);
  EXPECT_EQ(statusOf(a, "urn:ngsi-ld:Room:1", true), 200);
  EXPECT_EQ(statusOf(b, "urn:ngsi-ld:Room:1"), 404);

  // Upsert: Parcel:1 exists at B, Parcel:2 is created there; the answer names the created one.
  r = batch(a, "upsert", R"([
      {"id": "urn:ngsi-ld:Parcel:1", "type": "Parcel", "weight": {"type": "Property", "value": 5}},
      {"id": "urn:ngsi-ld:Parcel:2", "type": "Parcel", "weight": {"type": "Property", "value": 1}}])");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(stringsOf(parse(r)), (std::set<std::string>{"urn:ngsi-ld:Parcel:2"}));
  EXPECT_EQ(keyValues(b, "urn:ngsi-ld:Parcel:1")["weight"].GetDouble(), 5);

  r = batch(a, "update",
            R"([{"id": "urn:ngsi-ld:Parcel:1", "type": "Parcel", "weight": {"type": "Property", "value": 6}}])");
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(keyValues(b, "urn:ngsi-ld:Parcel:1")["weight"].GetDouble(), 6);
  r = batch(a, "merge",
            R"([{"id": "urn:ngsi-ld:Parcel:2", "type": "Parcel", "weight": {"type": "Property", "value": 7}}])");
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(keyValues(b, "urn:ngsi-ld:Parcel:2")["weight"].GetDouble(), 7);
  EXPECT_EQ(statusOf(a, "urn:ngsi-ld:Parcel:2", true), 404);

  // local=true: nothing is forwarded (NGSI-LD 6.3.18).
  r = batch(a, "create", R"([{"id": "urn:ngsi-ld:Parcel:3", "type": "Parcel"}])", "?local=true");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(statusOf(a, "urn:ngsi-ld:Parcel:3", true), 200);
  EXPECT_EQ(statusOf(b, "urn:ngsi-ld:Parcel:3"), 404);

  // Delete reaches both; an id nobody holds is an error of that entity alone.
  r = batch(a, "delete", R"(["urn:ngsi-ld:Parcel:1", "urn:ngsi-ld:Parcel:2", "urn:ngsi-ld:Room:1"])");
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(statusOf(b, "urn:ngsi-ld:Parcel:1"), 404);
  EXPECT_EQ(statusOf(b, "urn:ngsi-ld:Parcel:2"), 404);
  EXPECT_EQ(statusOf(a, "urn:ngsi-ld:Room:1", true), 404);
  r = batch(a, "delete", R"(["urn:ngsi-ld:Parcel:1", "urn:ngsi-ld:Room:9"])");
  ASSERT_EQ(r.status, 207) << r.body;
  auto d = parse(r);
  EXPECT_EQ(d["success"].Size(), 0u) << r.body;
  ASSERT_EQ(d["errors"].Size(), 2u) << r.body;
  EXPECT_EQ(d["errors"][0]["error"]["status"].GetInt(), 404) << r.body;
}

TEST(Federation, BatchEntitiesWithTheirOwnContextMatchByExpandedNames) {
  Node a, b;
  ASSERT_TRUE(a.server.ok() && b.server.ok());
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:b", b.url(), "Parcel", "redirect", "",
                 R"(, "operations": ["createBatch", "retrieveOps"])");
  // "Box" in this entity's own @context is the IRI the registration's "Parcel" expands to.
  HttpResult r =
      a.client.request("POST", "/ngsi-ld/v1/entityOperations/create", {{"Content-Type", "application/ld+json"}},
                       R"([{"id": "urn:ngsi-ld:Parcel:ld", "type": "Box",
                                      "@context": [{"Box": "https://uri.etsi.org/ngsi-ld/default-context/Parcel"},
                                                   "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"]},
                                     {"id": "urn:ngsi-ld:Room:ld", "type": "Room",
                                      "@context": "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"}])");
  ASSERT_EQ(r.status, 201) << r.body;
  r = b.client.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Parcel:ld");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_STREQ(parse(r)["type"].GetString(), "Parcel");
  EXPECT_EQ(statusOf(a, "urn:ngsi-ld:Parcel:ld", true), 404);
  EXPECT_EQ(statusOf(a, "urn:ngsi-ld:Room:ld", true), 200);
  EXPECT_EQ(statusOf(b, "urn:ngsi-ld:Room:ld"), 404);
}

TEST(Federation, BatchUpdateSplitsTheAttributesOfAnExclusiveRegistration) {
  Node a, b;
  ASSERT_TRUE(a.server.ok() && b.server.ok());
  create(a, R"({"id": "urn:ngsi-ld:Room:1", "type": "Room", "humidity": {"type": "Property", "value": 40}})");
  create(b, R"({"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": {"type": "Property", "value": 10}})");
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:b", b.url(), "Room urn:ngsi-ld:Room:1", "exclusive",
                 R"("temperature")", R"(, "operations": ["updateBatch", "retrieveOps"])");
  HttpResult r = batch(a, "update", R"([{"id": "urn:ngsi-ld:Room:1", "type": "Room",
      "temperature": {"type": "Property", "value": 30}, "humidity": {"type": "Property", "value": 50}}])");
  EXPECT_EQ(r.status, 204) << r.body;
  auto atB = keyValues(b, "urn:ngsi-ld:Room:1");
  EXPECT_EQ(atB["temperature"].GetDouble(), 30);
  EXPECT_FALSE(atB.HasMember("humidity"));
  auto atA = keyValues(a, "urn:ngsi-ld:Room:1");
  EXPECT_EQ(atA["humidity"].GetDouble(), 50);
  EXPECT_FALSE(atA.HasMember("temperature"));
}

TEST(Federation, ABatchThatFailsAtOneSourceFailsOnlyItsEntities) {
  Node a({"--forward-timeout-ms", "300"});
  ASSERT_TRUE(a.server.ok());
  const std::string down = "http://127.0.0.1:" + std::to_string(freePort());
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:down", down, "Room", "inclusive", "",
                 R"(, "operations": ["upsertBatch"])");
  HttpResult r = batch(a, "upsert", R"([{"id": "urn:ngsi-ld:Room:1", "type": "Room"},
                                        {"id": "urn:ngsi-ld:Car:1", "type": "Car"}])");
  ASSERT_EQ(r.status, 207) << r.body;
  auto d = parse(r);
  EXPECT_EQ(stringsOf(d["success"]), (std::set<std::string>{"urn:ngsi-ld:Car:1"})) << r.body;
  ASSERT_EQ(d["errors"].Size(), 1u) << r.body;
  EXPECT_STREQ(d["errors"][0]["entityId"].GetString(), "urn:ngsi-ld:Room:1");
  EXPECT_STREQ(d["errors"][0]["registrationId"].GetString(), "urn:ngsi-ld:ContextSourceRegistration:down");
  EXPECT_TRUE(d["errors"][0]["error"].IsObject());
  // The broker's own part was written.
  EXPECT_EQ(statusOf(a, "urn:ngsi-ld:Room:1", true), 200);
  EXPECT_EQ(statusOf(a, "urn:ngsi-ld:Car:1", true), 200);
}

TEST(Federation, MutualRegistrationsDoNotLoopOnBatches) {
  Node a, b;
  ASSERT_TRUE(a.server.ok() && b.server.ok());
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:b", b.url(), "Room", "inclusive", "",
                 R"(, "operations": ["upsertBatch", "retrieveOps"])");
  registerSource(b, "urn:ngsi-ld:ContextSourceRegistration:a", a.url(), "Room", "inclusive", "",
                 R"(, "operations": ["upsertBatch", "retrieveOps"])");
  HttpResult r = batch(a, "upsert", R"([{"id": "urn:ngsi-ld:Room:x", "type": "Room"}])");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(statusOf(a, "urn:ngsi-ld:Room:x", true), 200);
  EXPECT_EQ(statusOf(b, "urn:ngsi-ld:Room:x", true), 200);
}

// ---------------------------------------------------------------------------------------------
// Discovery (NGSI-LD 5.7.5 - 5.7.10 distributed): the sources' types and attributes are added.

TEST(Federation, TypesAndAttributesIncludeWhatSourcesReport) {
  Node a, b;
  ASSERT_TRUE(a.server.ok() && b.server.ok());
  create(a, R"({"id": "urn:ngsi-ld:Building:1", "type": "Building", "height": {"type": "Property", "value": 10}})");
  create(b, R"({"id": "urn:ngsi-ld:Building:2", "type": "Building", "height": {"type": "Property", "value": 20},
               "floors": {"type": "Property", "value": 4}})");
  create(b, R"({"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": {"type": "Property", "value": 20}})");
  create(b, R"({"id": "urn:ngsi-ld:Room:2", "type": "Room", "temperature": {"type": "Property", "value": 21}})");
  // The default operations (federationOps) include the discovery operations.
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:b", b.url(), "Building", "inclusive");
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:b2", b.url(), "Room", "inclusive");

  HttpResult r = a.client.request("GET", "/ngsi-ld/v1/types");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(stringsOf(parse(r)["typeList"]), (std::set<std::string>{"Building", "Room"})) << r.body;
  EXPECT_TRUE(r.headersNamed("ngsild-warning").empty());
  r = a.client.request("GET", "/ngsi-ld/v1/types?local=true");
  EXPECT_EQ(stringsOf(parse(r)["typeList"]), (std::set<std::string>{"Building"})) << r.body;

  r = a.client.request("GET", "/ngsi-ld/v1/types?details=true");
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = parse(r);
  ASSERT_TRUE(d.IsArray()) << r.body;
  ASSERT_EQ(d.Size(), 2u) << r.body;
  for (const auto& t : d.GetArray()) {
    if (std::string(t["typeName"].GetString()) == "Building") {
      EXPECT_EQ(stringsOf(t["attributeNames"]), (std::set<std::string>{"floors", "height"})) << r.body;
    }
  }

  // A type only B has; a type both have: counts added, attribute details united.
  r = a.client.request("GET", "/ngsi-ld/v1/types/Room");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse(r)["entityCount"].GetInt(), 2) << r.body;
  EXPECT_EQ(a.client.request("GET", "/ngsi-ld/v1/types/Room?local=true").status, 404);
  r = a.client.request("GET", "/ngsi-ld/v1/types/Building");
  ASSERT_EQ(r.status, 200) << r.body;
  d = parse(r);
  EXPECT_EQ(d["entityCount"].GetInt(), 2) << r.body;
  std::set<std::string> names;
  for (const auto& at : d["attributeDetails"].GetArray()) names.insert(at["attributeName"].GetString());
  EXPECT_EQ(names, (std::set<std::string>{"floors", "height"})) << r.body;
  EXPECT_EQ(a.client.request("GET", "/ngsi-ld/v1/types/Car").status, 404);

  r = a.client.request("GET", "/ngsi-ld/v1/attributes");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(stringsOf(parse(r)["attributeList"]), (std::set<std::string>{"floors", "height", "temperature"})) << r.body;
  r = a.client.request("GET", "/ngsi-ld/v1/attributes?details=true");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse(r).Size(), 3u) << r.body;
  r = a.client.request("GET", "/ngsi-ld/v1/attributes/height");
  ASSERT_EQ(r.status, 200) << r.body;
  d = parse(r);
  EXPECT_EQ(d["attributeCount"].GetInt(), 2) << r.body;
  EXPECT_EQ(stringsOf(d["typeNames"]), (std::set<std::string>{"Building"})) << r.body;
  r = a.client.request("GET", "/ngsi-ld/v1/attributes/height?local=true");
  EXPECT_EQ(parse(r)["attributeCount"].GetInt(), 1) << r.body;
  r = a.client.request("GET", "/ngsi-ld/v1/attributes/temperature");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse(r)["attributeCount"].GetInt(), 2) << r.body;
}

TEST(Federation, DiscoveryWithMutualRegistrationsDoesNotLoop) {
  Node a, b;
  ASSERT_TRUE(a.server.ok() && b.server.ok());
  create(a, R"({"id": "urn:ngsi-ld:Building:1", "type": "Building"})");
  create(b, R"({"id": "urn:ngsi-ld:Room:1", "type": "Room"})");
  registerSource(a, "urn:ngsi-ld:ContextSourceRegistration:b", b.url(), "Room", "inclusive");
  registerSource(b, "urn:ngsi-ld:ContextSourceRegistration:a", a.url(), "Building", "inclusive");
  for (Node* n : {&a, &b}) {
    HttpResult r = n->client.request("GET", "/ngsi-ld/v1/types");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(stringsOf(parse(r)["typeList"]), (std::set<std::string>{"Building", "Room"})) << r.body;
    EXPECT_TRUE(r.headersNamed("ngsild-warning").empty()) << r.header("ngsild-warning");
  }
}

}  // namespace
}  // namespace allmende::testing
