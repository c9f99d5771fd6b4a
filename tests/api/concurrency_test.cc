// Concurrency the case files cannot express: many clients at once on paths that take more than
// one store read per request (a q over linked entities looks each linked entity up while the
// query holds its read connection; the store lends at most a few connections).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "harness.h"

namespace allmende::testing {
namespace {

TEST(Concurrency, LinkedEntityQueriesFromManyClientsAllAnswer) {
  TempDir dir;
  ServerProcess server(ALLMENDE_BINARY, dir.path(), {"--demo"});
  ASSERT_TRUE(server.ok());
  const std::string path =
      "/ngsi-ld/v1/entities?type=ParkingSpot&q=refParkingSite%7Bname%7D==%22Parkhaus%20Marktplatz%22&count=true";
  std::atomic<int> ok{0}, wrong{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 24; ++c) {
    clients.emplace_back([&] {
      HttpClient client(server.port());
      for (int i = 0; i < 50; ++i) {
        HttpResult r = client.request("GET", path);
        (r.status == 200 && r.header("ngsild-results-count") == "6" ? ok : wrong)++;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(ok.load(), 24 * 50);
}

}  // namespace
}  // namespace allmende::testing
