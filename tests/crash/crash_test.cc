// An acknowledged write is never lost: concurrent clients create entities while the server is
// killed with SIGKILL; after a restart on the same data directory every entity that was answered
// 201 (single create) or 201 (batch upsert) must be there.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "harness.h"

namespace allmende::testing {
namespace {

constexpr int kClients = 8;
constexpr int kRounds = 3;

std::string entityBody(const std::string& id) {
  return R"({"id":")" + id + R"(","type":"CrashProbe","n":{"type":"Property","value":1}})";
}

TEST(CrashTest, AcknowledgedWritesSurviveKill9) {
  TempDir dir;
  std::set<std::string> acknowledged;
  std::mutex mu;
  for (int round = 0; round < kRounds; ++round) {
    ServerProcess server(ALLMENDE_BINARY, dir.path());
    ASSERT_TRUE(server.ok());
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        HttpClient client(server.port());
        for (int i = 0; !stop; ++i) {
          std::string base = "urn:ngsi-ld:CrashProbe:r" + std::to_string(round) + "c" + std::to_string(c) + "i" +
                             std::to_string(i);
          HttpResult r;
          if (i % 4 == 3) {  // every fourth request is a batch of three
            std::string body = "[" + entityBody(base + "a") + "," + entityBody(base + "b") + "," +
                               entityBody(base + "c") + "]";
            r = client.request("POST", "/ngsi-ld/v1/entityOperations/upsert",
                               {{"Content-Type", "application/json"}}, body);
            if (r.status == 201) {
              std::lock_guard<std::mutex> lock(mu);
              for (const char* s : {"a", "b", "c"}) acknowledged.insert(base + s);
            }
          } else {
            r = client.request("POST", "/ngsi-ld/v1/entities", {{"Content-Type", "application/json"}},
                               entityBody(base));
            if (r.status == 201) {
              std::lock_guard<std::mutex> lock(mu);
              acknowledged.insert(base);
            }
          }
          if (r.status == 0) break;  // the server is gone
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(700 + 200 * round));
    server.kill9();
    stop = true;
    for (auto& t : clients) t.join();
  }
  ASSERT_GT(acknowledged.size(), 100u) << "the load did not get going";

  ServerProcess server(ALLMENDE_BINARY, dir.path());
  ASSERT_TRUE(server.ok());
  HttpClient client(server.port());
  size_t missing = 0;
  for (const auto& id : acknowledged) {
    HttpResult r = client.request("GET", "/ngsi-ld/v1/entities/" + id);
    if (r.status != 200) ++missing;
  }
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged entities";
  std::printf("crash test: %zu acknowledged entities over %d kills, %zu missing\n", acknowledged.size(), kRounds,
              missing);
  HttpResult count = client.request("GET", "/ngsi-ld/v1/entities?type=CrashProbe&count=true&limit=0");
  ASSERT_EQ(count.status, 200);
  EXPECT_GE(std::stoul(count.header("ngsild-results-count")), acknowledged.size());
}

}  // namespace
}  // namespace allmende::testing
