// Several nodes on one PostgreSQL (issue 6): three servers share one database; clients write
// through all of them at once while one is killed with SIGKILL. Afterwards every acknowledged
// write is readable from every live node, no entity id exists twice, and every acknowledged
// creation was notified (at least once) through a subscription made on one node only. Runs when
// the tests have a PostgreSQL (ALLMENDE_TEST_STORE / the ctest fixture), else skips.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "harness.h"
#include "receiver.h"

namespace allmende::testing {
namespace {

constexpr int kNodes = 3;
constexpr int kClientsPerNode = 2;
const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

TEST(MultiNode, AcknowledgedWritesSurviveANodeKilledUnderLoad) {
  TempDir dir;
  const std::string store = testStoreFor(dir.path());
  if (store.empty()) GTEST_SKIP() << "no PostgreSQL (ALLMENDE_TEST_STORE)";
  std::vector<std::unique_ptr<ServerProcess>> nodes;
  for (int i = 0; i < kNodes; ++i) {
    nodes.push_back(std::make_unique<ServerProcess>(ALLMENDE_BINARY, dir.path() + "/node" + std::to_string(i),
                                                    std::vector<std::string>{"--store", store}));
    ASSERT_TRUE(nodes.back()->ok());
  }
  Receiver receiver;
  {
    HttpClient first(nodes[0]->port());
    HttpResult sub = first.request("POST", "/ngsi-ld/v1/subscriptions", kJson,
                                   R"({"id": "urn:ngsi-ld:Subscription:probes", "type": "Subscription",
                                       "entities": [{"type": "Probe"}], "watchedAttributes": ["n"],
                                       "notification": {"format": "keyValues", "endpoint": {"uri": ")" +
                                       receiver.url() + R"("}}})");
    ASSERT_EQ(sub.status, 201) << sub.body;
  }
  // The other nodes learn of it (LISTEN/NOTIFY): wait until each one shows it.
  for (int i = 1; i < kNodes; ++i) {
    HttpClient c(nodes[i]->port());
    int status = 0;
    for (int attempt = 0; attempt < 500 && status != 200; ++attempt) {
      status = c.request("GET", "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:probes").status;
      if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(status, 200) << "node " << i << " never saw the subscription";
  }

  std::mutex mu;
  std::set<std::string> created;  // ids answered 201
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int node = 0; node < kNodes; ++node) {
    for (int k = 0; k < kClientsPerNode; ++k) {
      clients.emplace_back([&, node, k] {
        HttpClient c(nodes[node]->port());
        for (int i = 0; !stop; ++i) {
          // Every client creates its own entities; each creation is tried again through the
          // next node, which must find it there (the id is one row whichever node wrote it).
          const std::string id =
              "urn:ngsi-ld:Probe:" + std::to_string(node) + "-" + std::to_string(k) + "-" + std::to_string(i);
          HttpResult r =
              c.request("POST", "/ngsi-ld/v1/entities", kJson, R"({"id": ")" + id + R"(", "type": "Probe", "n": 0})");
          if (r.status == 0) break;  // the node is gone
          if (r.status == 201) {
            std::lock_guard<std::mutex> lock(mu);
            created.insert(id);
          }
          // A second creation of the same id, through another node, must fail (409).
          HttpClient other(nodes[(node + 1) % kNodes]->port());
          HttpResult again = other.request("POST", "/ngsi-ld/v1/entities", kJson,
                                           R"({"id": ")" + id + R"(", "type": "Probe", "n": 1})");
          if (again.status != 0) EXPECT_EQ(again.status, 409) << again.body;
        }
      });
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  nodes[kNodes - 1]->kill9();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  for (auto& t : clients) t.join();
  ASSERT_GT(created.size(), 30u) << "too few acknowledged writes to test anything";

  // Every acknowledged creation is readable from every live node.
  for (int node = 0; node < kNodes - 1; ++node) {
    HttpClient c(nodes[node]->port());
    size_t missing = 0;
    for (const auto& id : created) missing += c.request("GET", "/ngsi-ld/v1/entities/" + id).status != 200;
    EXPECT_EQ(missing, 0u) << "node " << node;
  }
  // No id twice: the listing of all Probes, page by page, has distinct ids.
  HttpClient c(nodes[0]->port());
  std::set<std::string> listed;
  size_t rows = 0;
  for (int offset = 0;; offset += 1000) {
    HttpResult page = c.request("GET", "/ngsi-ld/v1/entities?type=Probe&limit=1000&offset=" + std::to_string(offset));
    ASSERT_EQ(page.status, 200) << page.body;
    rapidjson::Document d;
    d.Parse(page.body.c_str());
    ASSERT_TRUE(d.IsArray());
    for (const auto& e : d.GetArray()) listed.insert(e["id"].GetString()), ++rows;
    if (d.Size() < 1000) break;
  }
  EXPECT_EQ(rows, listed.size()) << "an entity id appears twice";
  for (const auto& id : created) EXPECT_TRUE(listed.count(id)) << id;
  // Every acknowledged creation was notified, whichever node took it and delivered it.
  bool complete = receiver.waitUntil(
      [&](const std::vector<ReceivedRequest>& all) {
        std::set<std::string> notified;
        for (const auto& r : all) {
          rapidjson::Document d;
          d.Parse(r.body.c_str());
          if (d.IsObject() && d.HasMember("data")) {
            for (const auto& e : d["data"].GetArray()) notified.insert(e["id"].GetString());
          }
        }
        for (const auto& id : created) {
          if (!notified.count(id)) return false;
        }
        return true;
      },
      60000);
  EXPECT_TRUE(complete) << "acknowledged creations without notification";
  std::printf("%zu entities created through %d nodes, %zu notifications\n", created.size(), kNodes, receiver.count());
}

// A periodic subscription (timeInterval) on two nodes: each due notification is sent by one node
// only (NotificationStore::claimPeriodic), so the instants its notifications were made for (in
// their ids) lie at least one interval apart, where two senders would crowd them.
TEST(MultiNode, PeriodicNotificationsAreSentByOneNode) {
  TempDir dir;
  const std::string store = testStoreFor(dir.path());
  if (store.empty()) GTEST_SKIP() << "no PostgreSQL (ALLMENDE_TEST_STORE)";
  std::vector<std::unique_ptr<ServerProcess>> nodes;
  for (int i = 0; i < 2; ++i) {
    nodes.push_back(std::make_unique<ServerProcess>(ALLMENDE_BINARY, dir.path() + "/node" + std::to_string(i),
                                                    std::vector<std::string>{"--store", store}));
    ASSERT_TRUE(nodes.back()->ok());
  }
  Receiver receiver;
  HttpClient first(nodes[0]->port());
  ASSERT_EQ(
      first.request("POST", "/ngsi-ld/v1/entities", kJson, R"({"id": "urn:ngsi-ld:Tick:1", "type": "Tick", "n": 1})")
          .status,
      201);
  HttpResult sub = first.request("POST", "/ngsi-ld/v1/subscriptions", kJson,
                                 R"({"id": "urn:ngsi-ld:Subscription:ticks", "type": "Subscription",
                                     "entities": [{"type": "Tick"}], "timeInterval": 1,
                                     "notification": {"endpoint": {"uri": ")" +
                                     receiver.url() + R"("}}})");
  ASSERT_EQ(sub.status, 201) << sub.body;
  HttpClient second(nodes[1]->port());
  int status = 0;
  for (int attempt = 0; attempt < 500 && status != 200; ++attempt) {
    status = second.request("GET", "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:ticks").status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(status, 200) << "the second node never saw the subscription";
  ASSERT_TRUE(receiver.waitFor(6, 30000)) << "periodic notifications stopped";
  std::vector<long long> instants;
  for (const auto& r : receiver.requests()) {
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    ASSERT_TRUE(d.IsObject() && d.HasMember("id") && d["id"].IsString()) << r.body;
    const std::string id = d["id"].GetString();
    const std::string prefix = "urn:ngsi-ld:Notification:periodic:";
    ASSERT_EQ(id.rfind(prefix, 0), 0u) << id;
    instants.push_back(std::stoll(id.substr(prefix.size())));
  }
  std::sort(instants.begin(), instants.end());
  for (size_t i = 1; i < instants.size(); ++i) {
    EXPECT_GE(instants[i] - instants[i - 1], 1000000) << "notifications " << i - 1 << " and " << i << " of one slot";
  }
}

// Polls `cond` every 50 ms, at most 20 s: a wait for another node to take in a change (it
// looks at most once a second), not a speed assertion.
template <typename F>
bool eventually(F cond) {
  for (int i = 0; i < 400; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return cond();
}

// Devices and hosted @contexts are cached by each node; a change made through node A is used
// through node B (which had already cached the previous state) without a restart. Both nodes
// share one public base URL, as behind a load balancer, so a hosted @context has one URL.
TEST(MultiNode, DevicesAndHostedContextsMadeOnOneNodeAreUsedOnAnother) {
  TempDir dir;
  const std::string store = testStoreFor(dir.path());
  if (store.empty()) GTEST_SKIP() << "no PostgreSQL (ALLMENDE_TEST_STORE)";
  const std::string base = "http://allmende.example";
  std::vector<std::unique_ptr<ServerProcess>> nodes;
  for (int i = 0; i < 2; ++i) {
    nodes.push_back(std::make_unique<ServerProcess>(ALLMENDE_BINARY, dir.path() + "/node" + std::to_string(i),
                                                    std::vector<std::string>{"--store", store, "--base-url", base}));
    ASSERT_TRUE(nodes.back()->ok());
  }
  HttpClient a(nodes[0]->port());
  HttpClient b(nodes[1]->port());
  const std::vector<std::pair<std::string, std::string>> town = {{"NGSILD-Tenant", "town"}};
  auto townJson = kJson;
  townJson.push_back(town[0]);

  // --- a device registered through A feeds its entity through B ---
  // B has loaded the registry already (its list is empty) and must notice the new device.
  ASSERT_EQ(b.request("GET", "/admin/v1/devices", town).body, "[]");
  ASSERT_EQ(b.request("POST", "/ingest/v1/town/pegel", kJson, R"({"level": 1})").status, 404);
  HttpResult made = a.request("POST", "/admin/v1/devices", townJson,
                              R"({"id": "pegel", "entity": {"id": "urn:ngsi-ld:Sensor:pegel", "type": "Sensor"},
                                  "mapping": {"format": "flat"}})");
  ASSERT_EQ(made.status, 201) << made.body;
  int status = 0;
  ASSERT_TRUE(eventually([&] {
    status = b.request("POST", "/ingest/v1/town/pegel", kJson, R"({"level": 3})").status;
    return status == 204;
  })) << "node B never took in the device: "
      << status;
  HttpResult sensor = a.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Sensor:pegel?options=keyValues", town);
  ASSERT_EQ(sensor.status, 200) << sensor.body;
  EXPECT_NE(sensor.body.find("\"level\":3"), std::string::npos) << sensor.body;
  // A change of its mapping through A reaches B too (B's copy is replaced, not only added to).
  ASSERT_EQ(a.request("PUT", "/admin/v1/devices/pegel", townJson,
                      R"({"entity": {"id": "urn:ngsi-ld:Sensor:pegel", "type": "Sensor"}, "mapping": {"format": "flat"},
                          "expectedInterval": 3600})")
                .status,
            204);
  EXPECT_TRUE(eventually([&] {
    return b.request("GET", "/admin/v1/devices/pegel", town).body.find("3600") != std::string::npos;
  })) << b.request("GET", "/admin/v1/devices/pegel", town).body;
  // Deleted through A: B refuses its measurements.
  ASSERT_EQ(a.request("DELETE", "/admin/v1/devices/pegel", town).status, 204);
  EXPECT_TRUE(
      eventually([&] { return b.request("POST", "/ingest/v1/town/pegel", kJson, R"({"level": 4})").status == 404; }));

  // --- a @context hosted through A is used through B ---
  HttpResult added = a.request("POST", "/ngsi-ld/v1/jsonldContexts", townJson,
                               R"({"@context": {"pegel": "https://example.org/hydro#waterLevel"}})");
  ASSERT_EQ(added.status, 201) << added.body;
  const std::string url = added.header("location");
  ASSERT_EQ(url.rfind(base + "/ngsi-ld/v1/jsonldContexts/", 0), 0u) << url;
  const std::string id = url.substr(url.rfind('/') + 1);
  const std::string link = "<" + url + R"(>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json")";
  auto linked = townJson;
  linked.emplace_back("Link", link);
  // B serves it and expands a request's terms with it (its URL is B's own, never fetched).
  ASSERT_TRUE(eventually([&] { return b.request("GET", "/ngsi-ld/v1/jsonldContexts/" + id).status == 200; }));
  HttpResult created =
      b.request("POST", "/ngsi-ld/v1/entities", linked,
                R"({"id": "urn:ngsi-ld:Gauge:1", "type": "Gauge", "pegel": {"type": "Property", "value": 1.2}})");
  ASSERT_EQ(created.status, 201) << created.body;
  HttpResult expanded = a.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:1?options=keyValues", town);
  ASSERT_EQ(expanded.status, 200) << expanded.body;
  EXPECT_NE(expanded.body.find("https://example.org/hydro#waterLevel"), std::string::npos) << expanded.body;
  // It stays the tenant's own on B: listed for town, not for the default tenant.
  EXPECT_NE(b.request("GET", "/ngsi-ld/v1/jsonldContexts?kind=Hosted", town).body.find(id), std::string::npos);
  EXPECT_EQ(b.request("GET", "/ngsi-ld/v1/jsonldContexts?kind=Hosted").body.find(id), std::string::npos);
  // Deleted through A: B no longer serves it nor resolves it (even though it had processed it).
  ASSERT_EQ(a.request("DELETE", "/ngsi-ld/v1/jsonldContexts/" + id, town).status, 204);
  EXPECT_TRUE(eventually([&] { return b.request("GET", "/ngsi-ld/v1/jsonldContexts/" + id).status == 404; }));
  HttpResult refused = b.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:1", linked);
  EXPECT_EQ(refused.status, 503) << refused.body;  // LdContextNotAvailable
}

}  // namespace
}  // namespace allmende::testing
