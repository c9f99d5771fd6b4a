// The MQTT ingestion agent on several nodes (issue 6, docs/deployment.md): two nodes on one
// PostgreSQL, each with its own client id, both in one shared-subscription group of a real
// Mosquitto; every message published is ingested exactly once (one history instance each), and
// both agents stay connected (the same id would make them displace each other). Runs when the
// tests have a PostgreSQL (ALLMENDE_TEST_STORE / the ctest fixture), else skips.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "harness.h"

namespace allmende::testing {
namespace {

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

// Mosquitto on a free loopback port, anonymous clients (as in ingest_mqtt_test.cc).
class Broker {
 public:
  explicit Broker(const std::string& dir) : port_(freePort()) {
    ::chmod(dir.c_str(), 0777);
    std::ofstream(dir + "/mosquitto.conf") << "listener " << port_ << " 127.0.0.1\nallow_anonymous true\n";
    pid_ = fork();
    if (pid_ == 0) {
      std::string conf = dir + "/mosquitto.conf";
      execl("/usr/sbin/mosquitto", "mosquitto", "-c", conf.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 100 && !accepting(); ++i) usleep(50000);
  }
  ~Broker() {
    ::kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  int port() const { return port_; }
  bool accepting() const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port_));
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
  }

 private:
  int port_;
  pid_t pid_ = -1;
};

// mosquitto_pub -q 1: returns once the broker acknowledged the message.
bool publish(int port, const std::string& topic, const std::string& payload) {
  pid_t pid = fork();
  if (pid == 0) {
    std::string p = std::to_string(port);
    execl("/usr/bin/mosquitto_pub", "mosquitto_pub", "-h", "127.0.0.1", "-p", p.c_str(), "-q", "1", "-t", topic.c_str(),
          "-m", payload.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The number of history instances of attribute n (waits up to 20 s for `want`: the agents
// are asynchronous; not a speed assertion).
size_t instances(HttpClient& c, size_t want) {
  size_t n = 0;
  for (int i = 0; i < 400; ++i) {
    HttpResult r = c.request(
        "GET", "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:Sensor:d1?attrs=n&lastN=1000&options=temporalValues");
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    n = d.IsObject() && d.HasMember("n") && d["n"].IsObject() && d["n"].HasMember("values") &&
                d["n"]["values"].IsArray()
            ? d["n"]["values"].Size()
            : 0;
    if (n >= want) return n;
    usleep(50000);
  }
  return n;
}

TEST(MultiNodeMqtt, EachMessageIsIngestedOnceByOneOfTheNodes) {
  TempDir dir;
  const std::string store = testStoreFor(dir.path());
  if (store.empty()) GTEST_SKIP() << "no PostgreSQL (ALLMENDE_TEST_STORE)";
  ::chmod(dir.path().c_str(), 0755);
  ::mkdir((dir.path() + "/broker").c_str(), 0777);
  Broker broker(dir.path() + "/broker");
  ASSERT_TRUE(broker.accepting());
  std::vector<std::unique_ptr<ServerProcess>> nodes;
  for (int i = 0; i < 2; ++i) {
    nodes.push_back(std::make_unique<ServerProcess>(
        ALLMENDE_BINARY, dir.path() + "/node" + std::to_string(i),
        std::vector<std::string>{"--store", store, "--mqtt-ingest-host", "127.0.0.1", "--mqtt-ingest-port",
                                 std::to_string(broker.port()), "--mqtt-ingest-client-id",
                                 "allmende-ingest-node" + std::to_string(i), "--mqtt-ingest-share-group", "allmende"}));
    ASSERT_TRUE(nodes.back()->ok());
  }
  HttpClient first(nodes[0]->port());
  ASSERT_EQ(first
                .request("POST", "/admin/v1/devices", kJson,
                         R"({"id": "d1", "entity": {"id": "urn:ngsi-ld:Sensor:d1", "type": "Sensor"},
                             "mapping": {"format": "flat"}})")
                .status,
            201);
  // Both nodes know the device (re-read within a second of the registration).
  HttpClient second(nodes[1]->port());
  int status = 0;
  for (int i = 0; i < 400 && status != 200; ++i) {
    status = second.request("GET", "/admin/v1/devices/d1").status;
    if (status != 200) usleep(50000);
  }
  ASSERT_EQ(status, 200);
  constexpr int kMessages = 40;
  for (int i = 0; i < kMessages; ++i)
    ASSERT_TRUE(publish(broker.port(), "allmende/ingest/@default/d1", R"({"n": )" + std::to_string(i) + "}"));
  EXPECT_EQ(instances(first, kMessages), static_cast<size_t>(kMessages));
  // No more arrive later (a second delivery would add instances).
  usleep(500000);
  EXPECT_EQ(instances(second, kMessages), static_cast<size_t>(kMessages));
}

}  // namespace
}  // namespace allmende::testing
