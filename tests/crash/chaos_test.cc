// kill -9 at random moments during a mixed load (issue 7): single creates, batch upserts,
// updates of subscribed entities and HTTP ingestion run together while the server is killed
// with SIGKILL, 24 times. After the last restart every acknowledged write is there and every
// acknowledged change of a subscribed entity has been notified (at least once, in order per
// entity). The kill moments come from a seeded generator; the seed is printed.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "harness.h"
#include "receiver.h"

namespace allmende::testing {
namespace {

constexpr int kRounds = 24;
constexpr int kPatchers = 2;
const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

std::string patched(int c) { return "urn:ngsi-ld:Probe:p" + std::to_string(c); }
const std::string kDeviceEntity = "urn:ngsi-ld:Probe:device-1";

struct Acknowledged {
  std::mutex mu;
  std::set<std::string> created;                // single creates (type Probe: notified too)
  std::set<std::string> batched;                // batch upserts (type Other: not subscribed)
  std::map<std::string, std::set<int>> values;  // entity -> values of n answered 2xx
};

void setUp(int port, const std::string& receiverUrl, Acknowledged& ack) {
  HttpClient client(port);
  HttpResult sub = client.request("POST", "/ngsi-ld/v1/subscriptions", kJson,
                                  R"({"type": "Subscription", "entities": [{"type": "Probe"}],
                                      "notification": {"format": "keyValues", "endpoint": {"uri": ")" +
                                      receiverUrl + R"("}}})");
  ASSERT_EQ(sub.status, 201) << sub.body;
  for (int c = 0; c < kPatchers; ++c) {
    HttpResult r = client.request("POST", "/ngsi-ld/v1/entities", kJson,
                                  R"({"id": ")" + patched(c) + R"(", "type": "Probe", "n": 0})");
    ASSERT_EQ(r.status, 201) << r.body;
    ack.values[patched(c)].insert(0);
  }
  HttpResult dev = client.request("POST", "/admin/v1/devices", kJson,
                                  R"({"id": "device-1", "entity": {"id": ")" + kDeviceEntity + R"(", "type": "Probe"},
                                      "mapping": {"format": "flat", "fields": [{"source": "n", "attribute": "n",
                                      "type": "integer"}]}})");
  ASSERT_EQ(dev.status, 201) << dev.body;
}

// One round of load until `stop` or the server is gone.
void load(int port, int round, std::atomic<bool>& stop, std::vector<int>& next, Acknowledged& ack) {
  std::vector<std::thread> clients;
  for (int c = 0; c < kPatchers; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client(port);
      while (!stop) {
        int n = next[c]++;
        HttpResult r = client.request("PATCH", "/ngsi-ld/v1/entities/" + patched(c) + "/attrs", kJson,
                                      R"({"n": )" + std::to_string(n) + "}");
        if (r.status == 204) {
          std::lock_guard<std::mutex> lock(ack.mu);
          ack.values[patched(c)].insert(n);
        }
        if (r.status == 0) break;
      }
    });
  }
  clients.emplace_back([&] {  // HTTP ingestion: a merge of the device's entity per message
    HttpClient client(port);
    while (!stop) {
      int n = next[kPatchers]++;
      HttpResult r =
          client.request("POST", "/ingest/v1/@default/device-1", kJson, R"({"n": )" + std::to_string(n) + "}");
      if (r.status == 204) {
        std::lock_guard<std::mutex> lock(ack.mu);
        ack.values[kDeviceEntity].insert(n);
      }
      if (r.status == 0) break;
    }
  });
  clients.emplace_back([&] {  // single creates
    HttpClient client(port);
    for (int i = 0; !stop; ++i) {
      std::string id = "urn:ngsi-ld:Probe:r" + std::to_string(round) + "i" + std::to_string(i);
      HttpResult r =
          client.request("POST", "/ngsi-ld/v1/entities", kJson, R"({"id": ")" + id + R"(", "type": "Probe", "c": 1})");
      if (r.status == 201) {
        std::lock_guard<std::mutex> lock(ack.mu);
        ack.created.insert(id);
      }
      if (r.status == 0) break;
    }
  });
  clients.emplace_back([&] {  // batch upserts of 10
    HttpClient client(port);
    for (int i = 0; !stop; ++i) {
      std::string body = "[";
      std::vector<std::string> ids;
      for (int k = 0; k < 10; ++k) {
        ids.push_back("urn:ngsi-ld:Other:r" + std::to_string(round) + "b" + std::to_string(i) + "k" +
                      std::to_string(k));
        body += std::string(k ? "," : "") + R"({"id": ")" + ids.back() + R"(", "type": "Other", "v": )" +
                std::to_string(k) + "}";
      }
      HttpResult r = client.request("POST", "/ngsi-ld/v1/entityOperations/upsert", kJson, body + "]");
      if (r.status == 201 || r.status == 204) {
        std::lock_guard<std::mutex> lock(ack.mu);
        ack.batched.insert(ids.begin(), ids.end());
      }
      if (r.status == 0) break;
    }
  });
  for (auto& t : clients) t.join();
}

struct Notified {
  std::map<std::string, std::vector<int>> values;  // entity -> n in order of first arrival
  std::set<std::string> ids;                       // every entity notified
};

Notified notified(const std::vector<ReceivedRequest>& all) {
  Notified out;
  std::set<std::string> seen;
  for (const auto& r : all) {
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    if (!d.IsObject() || !d.HasMember("id") || !seen.insert(d["id"].GetString()).second) continue;
    for (const auto& e : d["data"].GetArray()) {
      out.ids.insert(e["id"].GetString());
      if (e.HasMember("n") && e["n"].IsInt()) out.values[e["id"].GetString()].push_back(e["n"].GetInt());
    }
  }
  return out;
}

TEST(ChaosTest, AcknowledgedWritesAndNotificationsSurviveRepeatedKill9) {
  TempDir dir;
  Receiver receiver;
  Acknowledged ack;
  {
    ServerProcess server(ALLMENDE_BINARY, dir.path());
    ASSERT_TRUE(server.ok());
    setUp(server.port(), receiver.url(), ack);
    if (::testing::Test::HasFatalFailure()) return;
  }
  const unsigned seed = std::random_device{}();
  std::printf("chaos test: seed %u\n", seed);
  std::mt19937 random(seed);
  std::vector<int> next(kPatchers + 1, 1);
  for (int round = 0; round < kRounds; ++round) {
    ServerProcess server(ALLMENDE_BINARY, dir.path());
    ASSERT_TRUE(server.ok()) << "round " << round << ": the server did not start after kill -9";
    std::atomic<bool> stop{false};
    std::thread clients([&] { load(server.port(), round, stop, next, ack); });
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 600)(random)));
    server.kill9();
    stop = true;
    clients.join();
  }

  ServerProcess server(ALLMENDE_BINARY, dir.path());
  ASSERT_TRUE(server.ok());
  HttpClient client(server.port());
  size_t missing = 0;
  for (const auto& id : ack.created) missing += client.request("GET", "/ngsi-ld/v1/entities/" + id).status != 200;
  for (const auto& id : ack.batched) missing += client.request("GET", "/ngsi-ld/v1/entities/" + id).status != 200;
  EXPECT_EQ(missing, 0u) << "of " << ack.created.size() + ack.batched.size() << " acknowledged entities";

  size_t updates = 0;
  for (const auto& [id, values] : ack.values) updates += values.size();
  ASSERT_GT(updates, 200u) << "too few acknowledged updates to test anything";
  ASSERT_GT(ack.created.size(), 50u);
  ASSERT_GT(ack.batched.size(), 200u);
  auto complete = [&](const std::vector<ReceivedRequest>& all) {
    Notified got = notified(all);
    for (const auto& [id, values] : ack.values) {
      std::set<int> have(got.values[id].begin(), got.values[id].end());
      for (int v : values) {
        if (!have.count(v)) return false;
      }
    }
    for (const auto& id : ack.created) {
      if (!got.ids.count(id)) return false;
    }
    return true;
  };
  bool done = receiver.waitUntil(complete, 60000);
  Notified got = notified(receiver.requests());
  for (const auto& [id, values] : ack.values) {
    std::set<int> have(got.values[id].begin(), got.values[id].end());
    size_t lost = 0;
    for (int v : values) lost += !have.count(v);
    EXPECT_EQ(lost, 0u) << id << ": " << lost << " of " << values.size() << " acknowledged changes not notified";
    for (size_t i = 1; i < got.values[id].size(); ++i) {
      EXPECT_LT(got.values[id][i - 1], got.values[id][i]) << id << ": notification " << i << " out of order";
    }
  }
  size_t createdLost = 0;
  for (const auto& id : ack.created) createdLost += !got.ids.count(id);
  EXPECT_EQ(createdLost, 0u) << "creations not notified";
  EXPECT_TRUE(done);
  // The device's entity holds the last acknowledged value or a later one.
  HttpResult dev = client.request("GET", "/ngsi-ld/v1/entities/" + kDeviceEntity + "?options=keyValues");
  rapidjson::Document d;
  d.Parse(dev.body.c_str());
  ASSERT_TRUE(d.IsObject() && d.HasMember("n")) << dev.body;
  EXPECT_GE(d["n"].GetInt(), *ack.values[kDeviceEntity].rbegin());
  std::printf(
      "chaos test: %d kills; %zu creates, %zu batched entities, %zu updates/ingestions acknowledged; "
      "%zu notifications received\n",
      kRounds, ack.created.size(), ack.batched.size(), updates, receiver.count());
}

}  // namespace
}  // namespace allmende::testing
