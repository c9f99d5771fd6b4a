// No notification of an acknowledged write is lost: clients update entities while the server is
// killed with SIGKILL, three times; after the last restart the receiver must have a notification
// for every update that was answered 204 (at least once), and per entity the notifications must
// have arrived in the order of the updates (repeats of a notification, same id, aside).
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "harness.h"
#include "receiver.h"

namespace allmende::testing {
namespace {

constexpr int kClients = 4;
constexpr int kRounds = 3;
const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

std::string entityId(int c) { return "urn:ngsi-ld:Probe:c" + std::to_string(c); }

TEST(NotifyCrashTest, NotificationsOfAcknowledgedWritesSurviveKill9) {
  TempDir dir;
  Receiver receiver;
  std::map<std::string, std::set<int>> acknowledged;  // entity -> values answered 204
  std::mutex mu;
  {
    ServerProcess server(ALLMENDE_BINARY, dir.path());
    ASSERT_TRUE(server.ok());
    HttpClient client(server.port());
    HttpResult sub = client.request("POST", "/ngsi-ld/v1/subscriptions", kJson,
                                    R"({"type": "Subscription", "entities": [{"type": "Probe"}],
                                        "notification": {"format": "keyValues", "endpoint": {"uri": ")" +
                                        receiver.url() + R"("}}})");
    ASSERT_EQ(sub.status, 201) << sub.body;
    for (int c = 0; c < kClients; ++c) {
      HttpResult r = client.request("POST", "/ngsi-ld/v1/entities", kJson,
                                    R"({"id": ")" + entityId(c) + R"(", "type": "Probe", "n": 0})");
      ASSERT_EQ(r.status, 201) << r.body;
      acknowledged[entityId(c)].insert(0);
    }
  }
  std::vector<int> next(kClients, 1);
  for (int round = 0; round < kRounds; ++round) {
    ServerProcess server(ALLMENDE_BINARY, dir.path());
    ASSERT_TRUE(server.ok());
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        HttpClient client(server.port());
        while (!stop) {
          int n = next[c]++;
          HttpResult r = client.request("PATCH", "/ngsi-ld/v1/entities/" + entityId(c) + "/attrs", kJson,
                                        R"({"n": )" + std::to_string(n) + "}");
          if (r.status == 204) {
            std::lock_guard<std::mutex> lock(mu);
            acknowledged[entityId(c)].insert(n);
          }
          if (r.status == 0) break;  // the server is gone
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    server.kill9();
    stop = true;
    for (auto& t : clients) t.join();
  }
  const size_t beforeRestart = receiver.count();
  ServerProcess server(ALLMENDE_BINARY, dir.path());
  ASSERT_TRUE(server.ok());

  // Per entity: values in order of first arrival of each notification id.
  auto received = [](const std::vector<ReceivedRequest>& all) {
    std::map<std::string, std::vector<int>> out;
    std::set<std::string> seen;
    for (const auto& r : all) {
      rapidjson::Document d;
      d.Parse(r.body.c_str());
      if (!d.IsObject() || !seen.insert(d["id"].GetString()).second) continue;
      out[d["data"][0]["id"].GetString()].push_back(d["data"][0]["n"].GetInt());
    }
    return out;
  };
  size_t total = 0;
  for (const auto& [id, values] : acknowledged) total += values.size();
  ASSERT_GT(total, 40u) << "too few acknowledged writes to test anything";
  bool complete = receiver.waitUntil(
      [&](const std::vector<ReceivedRequest>& all) {
        auto got = received(all);
        for (const auto& [id, values] : acknowledged) {
          std::set<int> have(got[id].begin(), got[id].end());
          for (int v : values) {
            if (!have.count(v)) return false;
          }
        }
        return true;
      },
      60000);
  auto got = received(receiver.requests());
  for (const auto& [id, values] : acknowledged) {
    std::set<int> have(got[id].begin(), got[id].end());
    size_t missing = 0;
    for (int v : values) missing += !have.count(v);
    EXPECT_EQ(missing, 0u) << id << ": " << missing << " of " << values.size() << " acknowledged updates not notified";
    for (size_t i = 1; i < got[id].size(); ++i) {
      EXPECT_LT(got[id][i - 1], got[id][i]) << id << ": notification " << i << " out of order";
    }
  }
  EXPECT_TRUE(complete);
  std::printf("%zu acknowledged updates; %zu notifications arrived before the last restart, %zu after it\n", total,
              beforeRestart, receiver.count() - beforeRestart);
}

}  // namespace
}  // namespace allmende::testing
