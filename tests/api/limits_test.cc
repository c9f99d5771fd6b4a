// Limits the case format cannot express: request bodies over 1 MiB (NGSI-LD leaves the size to
// the implementation; HTTP 413) and that a refused body changes nothing.
#include <gtest/gtest.h>

#include <string>

#include "harness.h"

namespace allmende::testing {
namespace {

class Limits : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(ALLMENDE_BINARY, dir_.path());
    ASSERT_TRUE(server_->ok());
    client_ = std::make_unique<HttpClient>(server_->port());
  }
  // An entity whose one Property value is a string of `size` bytes.
  static std::string entityOfSize(const std::string& id, size_t size) {
    return R"({"id": ")" + id + R"(", "type": "Big", "blob": {"type": "Property", "value": ")" +
           std::string(size, 'x') + "\"}}";
  }
  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

TEST_F(Limits, BodyOverOneMebibyteIs413AndNothingIsStored) {
  HttpResult r = client_->request("POST", "/ngsi-ld/v1/entities", kJson, entityOfSize("urn:ngsi-ld:Big:1", 1 << 20));
  EXPECT_EQ(r.status, 413) << r.body;
  HttpResult get = client_->request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Big:1");
  EXPECT_EQ(get.status, 404) << get.body;
}

TEST_F(Limits, BodyJustUnderOneMebibyteIsAccepted) {
  HttpResult r = client_->request("POST", "/ngsi-ld/v1/entities", kJson,
                                  entityOfSize("urn:ngsi-ld:Big:2", (1 << 20) - 200));
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(Limits, BatchOverOneMebibyteIs413) {
  std::string batch = "[";
  for (int i = 0; i < 20; ++i) batch += (i ? "," : "") + entityOfSize("urn:ngsi-ld:Big:b" + std::to_string(i), 60000);
  batch += "]";
  HttpResult r = client_->request("POST", "/ngsi-ld/v1/entityOperations/create", kJson, batch);
  EXPECT_EQ(r.status, 413) << r.body;
  HttpResult q = client_->request("GET", "/ngsi-ld/v1/entities?type=Big&count=true&limit=0");
  EXPECT_EQ(q.header("ngsild-results-count"), "0");
}

}  // namespace
}  // namespace allmende::testing
