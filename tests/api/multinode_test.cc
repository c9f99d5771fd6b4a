// Several nodes on one PostgreSQL (issue 6): three servers share one database; clients write
// through all of them at once while one is killed with SIGKILL. Afterwards every acknowledged
// write is readable from every live node, no entity id exists twice, and every acknowledged
// creation was notified (at least once) through a subscription made on one node only. Runs when
// the tests have a PostgreSQL (ALLMENDE_TEST_STORE / the ctest fixture), else skips.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

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

}  // namespace
}  // namespace allmende::testing
