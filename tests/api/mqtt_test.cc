// Notifications over MQTT: a real Mosquitto broker started on a free loopback port, the real
// server, and a libmosquitto subscriber that records what arrives.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>

#include <thread>

#include "harness.h"

namespace allmende::testing {
namespace {

// Mosquitto on 127.0.0.1:port, anonymous, without persistence; stopped on destruction.
class MqttBroker {
 public:
  // With `tlsCert`/`tlsKey`, a second listener (tlsPort()) speaks MQTT over TLS.
  explicit MqttBroker(const std::string& dir, const std::string& tlsCert = "", const std::string& tlsKey = "")
      : port_(freePort()), tlsPort_(freePort()) {
    std::string conf = dir + "/mosquitto.conf";
    std::ofstream out(conf);
    out << "allow_anonymous true\npersistence false\nlistener " << port_ << " 127.0.0.1\n";
    if (!tlsCert.empty()) {
      out << "listener " << tlsPort_ << " 127.0.0.1\ncertfile " << tlsCert << "\nkeyfile " << tlsKey << "\n";
    }
    out.close();
    pid_ = fork();
    if (pid_ == 0) {
      execl("/usr/sbin/mosquitto", "mosquitto", "-c", conf.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 100 && !accepting(); ++i) usleep(50000);
  }
  ~MqttBroker() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }
  int tlsPort() const { return tlsPort_; }
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
  int port_, tlsPort_;
  pid_t pid_ = -1;
};

// Subscribes to a topic filter and records the messages.
class MqttSubscriber {
 public:
  MqttSubscriber(int port, const std::string& filter) {
    mosquitto_lib_init();
    client_ = mosquitto_new(nullptr, true, this);
    mosquitto_message_callback_set(client_, [](mosquitto*, void* self, const mosquitto_message* m) {
      auto* s = static_cast<MqttSubscriber*>(self);
      std::lock_guard<std::mutex> lock(s->mu_);
      s->messages_.emplace_back(m->topic, std::string(static_cast<const char*>(m->payload), m->payloadlen));
      s->cv_.notify_all();
    });
    mosquitto_connect_callback_set(client_, [](mosquitto* c, void* self, int) {
      auto* s = static_cast<MqttSubscriber*>(self);
      mosquitto_subscribe(c, nullptr, s->filter_.c_str(), 1);
    });
    mosquitto_subscribe_callback_set(client_, [](mosquitto*, void* self, int, int, const int*) {
      auto* s = static_cast<MqttSubscriber*>(self);
      std::lock_guard<std::mutex> lock(s->mu_);
      s->subscribed_ = true;
      s->cv_.notify_all();
    });
    filter_ = filter;
    mosquitto_connect(client_, "127.0.0.1", port, 30);
    mosquitto_loop_start(client_);
  }
  ~MqttSubscriber() {
    mosquitto_disconnect(client_);
    mosquitto_loop_stop(client_, true);
    mosquitto_destroy(client_);
  }
  bool waitSubscribed() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return subscribed_; });
  }
  bool waitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(15), [&] { return messages_.size() >= n; });
  }
  std::vector<std::pair<std::string, std::string>> messages() {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }

 private:
  mosquitto* client_;
  std::string filter_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool subscribed_ = false;                                    // GUARDED_BY(mu_)
  std::vector<std::pair<std::string, std::string>> messages_;  // GUARDED_BY(mu_)
};

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

TEST(Mqtt, NotificationsArePublishedInOrderWithMetadataAndBody) {
  TempDir dir;
  MqttBroker broker(dir.path());
  ASSERT_TRUE(broker.accepting());
  MqttSubscriber subscriber(broker.port(), "allmende/#");
  ASSERT_TRUE(subscriber.waitSubscribed());
  ServerProcess server(ALLMENDE_BINARY, dir.path() + "/data");
  ASSERT_TRUE(server.ok());
  HttpClient client(server.port());
  std::string uri = "mqtt://127.0.0.1:" + std::to_string(broker.port()) + "/allmende/gauges";
  for (const char* qos : {"1", "0"}) {
    HttpResult sub = client.request("POST", "/ngsi-ld/v1/subscriptions",
                                    {{"Content-Type", "application/json"}, {"NGSILD-Tenant", "town"}},
                                    R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
        "notification": {"format": "keyValues", "endpoint": {"uri": ")" +
                                        uri + R"(",
        "notifierInfo": [{"key": "MQTT-QoS", "value": ")" +
                                        qos + R"("}]}}})");
    ASSERT_EQ(sub.status, 201) << sub.body;
  }
  ASSERT_EQ(
      client
          .request("POST", "/ngsi-ld/v1/entities", {{"Content-Type", "application/json"}, {"NGSILD-Tenant", "town"}},
                   R"({"id": "urn:ngsi-ld:Gauge:m", "type": "Gauge", "level": 0})")
          .status,
      201);
  for (int i = 1; i <= 20; ++i) {
    ASSERT_EQ(client
                  .request("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:m/attrs",
                           {{"Content-Type", "application/json"}, {"NGSILD-Tenant", "town"}},
                           R"({"level": )" + std::to_string(i) + "}")
                  .status,
              204);
  }
  ASSERT_TRUE(subscriber.waitFor(42));
  std::map<std::string, std::vector<int>> levels;  // per subscription
  for (const auto& [topic, payload] : subscriber.messages()) {
    EXPECT_EQ(topic, "allmende/gauges");
    rapidjson::Document d;
    d.Parse(payload.c_str());
    ASSERT_TRUE(d.IsObject()) << payload;
    EXPECT_EQ(std::string(d["metadata"]["Content-Type"].GetString()), "application/json");
    EXPECT_EQ(std::string(d["metadata"]["NGSILD-Tenant"].GetString()), "town");
    const auto& body = d["body"];
    EXPECT_EQ(std::string(body["type"].GetString()), "Notification");
    levels[body["subscriptionId"].GetString()].push_back(body["data"][0]["level"].GetInt());
  }
  ASSERT_EQ(levels.size(), 2u);
  for (const auto& [sub, values] : levels) {
    std::vector<int> expected;
    for (int i = 0; i <= 20; ++i) expected.push_back(i);
    EXPECT_EQ(values, expected) << sub;
  }
}

TEST(Mqtt, MqttsVerifiesTheBroker) {
  TempDir dir;
  std::string cert = dir.path() + "/cert.pem", key = dir.path() + "/key.pem";
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext "
      "subjectAltName=DNS:localhost -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  // Mosquitto started as root drops to its own user, which must be able to read the key.
  chmod(dir.path().c_str(), 0755);
  chmod(key.c_str(), 0644);
  MqttBroker broker(dir.path(), cert, key);
  ASSERT_TRUE(broker.accepting());
  MqttSubscriber subscriber(broker.port(), "tls/#");
  ASSERT_TRUE(subscriber.waitSubscribed());
  ServerProcess server(ALLMENDE_BINARY, dir.path() + "/data", {"--notify-ca-file", cert});
  ASSERT_TRUE(server.ok());
  HttpClient client(server.port());
  std::string uri = "mqtts://localhost:" + std::to_string(broker.tlsPort()) + "/tls/gauges";
  HttpResult sub = client.request("POST", "/ngsi-ld/v1/subscriptions", kJson,
                                  R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
        "notification": {"format": "keyValues", "endpoint": {"uri": ")" +
                                      uri + R"("}}})");
  ASSERT_EQ(sub.status, 201) << sub.body;
  ASSERT_EQ(client
                .request("POST", "/ngsi-ld/v1/entities", kJson,
                         R"({"id": "urn:ngsi-ld:Gauge:s", "type": "Gauge", "level": 4})")
                .status,
            201);
  ASSERT_TRUE(subscriber.waitFor(1));
  rapidjson::Document d;
  d.Parse(subscriber.messages()[0].second.c_str());
  EXPECT_EQ(d["body"]["data"][0]["level"].GetInt(), 4);

  // The certificate names localhost, not 127.0.0.1: the same broker by address is refused (the
  // sender connects to the resolved address and checks the name itself) and nothing is published.
  std::string byAddress = "mqtts://127.0.0.1:" + std::to_string(broker.tlsPort()) + "/tls/wrong-name";
  HttpResult wrong = client.request("POST", "/ngsi-ld/v1/subscriptions", kJson,
                                    R"({"type": "Subscription", "entities": [{"type": "Gauge2"}],
        "notification": {"format": "keyValues", "endpoint": {"uri": ")" +
                                        byAddress + R"("}}})");
  ASSERT_EQ(wrong.status, 201) << wrong.body;
  ASSERT_EQ(client
                .request("POST", "/ngsi-ld/v1/entities", kJson,
                         R"({"id": "urn:ngsi-ld:Gauge2:s", "type": "Gauge2", "level": 5})")
                .status,
            201);
  bool failed = false;
  for (int i = 0; i < 300 && !failed; ++i) {
    rapidjson::Document s;
    s.Parse(client.request("GET", wrong.header("location")).body.c_str());
    failed = s.IsObject() && s["notification"].HasMember("timesFailed") && s["notification"]["timesFailed"].GetUint64() > 0;
    if (!failed) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(failed) << "the delivery to a broker whose certificate does not name the host did not fail";
  EXPECT_EQ(subscriber.messages().size(), 1u) << "published to a broker whose certificate does not name the host";
}

TEST(Mqtt, InvalidMqttEndpointsAreRejected) {
  TempDir dir;
  ServerProcess server(ALLMENDE_BINARY, dir.path());
  ASSERT_TRUE(server.ok());
  HttpClient client(server.port());
  for (const char* ep :
       {R"({"uri": "mqtt://127.0.0.1:1883"})",
        R"({"uri": "mqtt://127.0.0.1:1883/t", "notifierInfo": [{"key": "MQTT-QoS", "value": "3"}]})",
        R"({"uri": "mqtt://127.0.0.1:1883/t", "notifierInfo": [{"key": "MQTT-Version", "value": "4"}]})"}) {
    HttpResult r = client.request(
        "POST", "/ngsi-ld/v1/subscriptions", kJson,
        std::string(R"({"type": "Subscription", "entities": [{"type": "G"}], "notification": {"endpoint": )") + ep +
            "}}");
    EXPECT_EQ(r.status, 400) << ep << ": " << r.body;
  }
}

}  // namespace
}  // namespace allmende::testing
