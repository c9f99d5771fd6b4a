// Paging through a large result (NGSI-LD 5.5.9): every entity exactly once, in a stable order,
// also while new entities arrive between pages, following the Link rel="next" headers.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <set>

#include "harness.h"

namespace allmende::testing {
namespace {

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

void createBatch(HttpClient& client, const std::string& type, int from, int count) {
  std::string body = "[";
  for (int i = from; i < from + count; ++i) {
    body += (i > from ? "," : "") + std::string(R"({"id":"urn:ngsi-ld:)") + type + ":" + std::to_string(i) +
            R"(","type":")" + type + R"(","n":{"type":"Property","value":)" + std::to_string(i) + "}}";
  }
  HttpResult r = client.request("POST", "/ngsi-ld/v1/entityOperations/create", kJson, body + "]");
  ASSERT_EQ(r.status, 201) << r.body.substr(0, 300);
}

// The target of the rel="next" Link header, or "".
std::string nextLink(const HttpResult& r) {
  for (const auto& v : r.headersNamed("link")) {
    if (v.find("rel=\"next\"") != std::string::npos) return v.substr(1, v.find('>') - 1);
  }
  return "";
}

TEST(Paging, EveryEntityExactlyOnceWhileOthersArrive) {
  TempDir dir;
  ServerProcess server(ALLMENDE_BINARY, dir.path());
  ASSERT_TRUE(server.ok());
  HttpClient client(server.port());
  for (int b = 0; b < 5; ++b) createBatch(client, "Page", b * 1000, 1000);
  createBatch(client, "Other", 0, 500);  // not part of the query

  std::vector<std::string> seen;
  std::string target = "/ngsi-ld/v1/entities?type=Page&limit=1000&count=true&options=keyValues";
  int pages = 0;
  while (!target.empty()) {
    HttpResult r = client.request("GET", target);
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
    EXPECT_EQ(r.header("ngsild-results-count"), std::to_string(5000 + (pages > 0 ? 1000 : 0)));
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    ASSERT_TRUE(d.IsArray());
    for (auto& e : d.GetArray()) seen.emplace_back(e["id"].GetString());
    // New entities arrive after the first page; they sort after all existing ones.
    if (pages++ == 0) createBatch(client, "Page", 5000, 1000);
    target = nextLink(r);
    ASSERT_LT(pages, 10);
  }
  std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size()) << "an entity appeared twice";
  EXPECT_EQ(seen.size(), 6000u);
  for (int i = 0; i < 6000; ++i) {
    EXPECT_EQ(seen[i], "urn:ngsi-ld:Page:" + std::to_string(i)) << "position " << i;
    if (seen[i] != "urn:ngsi-ld:Page:" + std::to_string(i)) break;
  }
}

TEST(Paging, LimitAboveTheMaximumIsTooManyResults) {
  TempDir dir;
  ServerProcess server(ALLMENDE_BINARY, dir.path());
  ASSERT_TRUE(server.ok());
  HttpClient client(server.port());
  HttpResult r = client.request("GET", "/ngsi-ld/v1/entities?type=Page&limit=1001");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("TooManyResults"), std::string::npos);
}

}  // namespace
}  // namespace allmende::testing
