// IoT ingestion over MQTT (docs/ingestion.md): a real Mosquitto broker on a free loopback port,
// the real server with its MQTT agent, and payloads published with the mosquitto_pub client.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

#include "harness.h"

namespace allmende::testing {
namespace {

// Mosquitto on 127.0.0.1:port with persistence in `dir` (so that sessions and queued QoS 1
// messages survive a restart); restartable on the same port.
class Broker {
 public:
  // `auth`: no anonymous clients; accounts in dir/passwd, ACL in dir/acl (reloaded on reload()).
  // `listenerConf`: more lines for the listener (TLS certificates).
  explicit Broker(const std::string& dir, bool auth = false, const std::string& listenerConf = "")
      : dir_(dir), port_(freePort()) {
    ::chmod(dir.c_str(), 0777);  // mosquitto drops to its own user when started as root
    std::ofstream out(dir + "/mosquitto.conf");
    out << "persistence true\npersistence_location " << dir << "/\nlistener " << port_ << " 127.0.0.1\n"
        << listenerConf;
    if (auth) {
      out << "allow_anonymous false\npassword_file " << dir << "/passwd\nacl_file " << dir << "/acl\n";
    } else {
      out << "allow_anonymous true\n";
    }
    out.close();
    start();
  }
  ~Broker() { stop(); }
  void start() {
    pid_ = fork();
    if (pid_ == 0) {
      std::string conf = dir_ + "/mosquitto.conf";
      execl("/usr/sbin/mosquitto", "mosquitto", "-c", conf.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 100 && !accepting(); ++i) usleep(50000);
  }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  void reload() const { ::kill(pid_, SIGHUP); }
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
  std::string dir_;
  int port_;
  pid_t pid_ = -1;
};

// mosquitto_pub -q 1: returns once the broker acknowledged the message (PUBACK). `caFile`: over
// TLS, trusting those CAs.
bool publish(int port, const std::string& topic, const std::string& payload, const std::string& user = "",
             const std::string& password = "", const std::string& caFile = "") {
  pid_t pid = fork();
  if (pid == 0) {
    std::string p = std::to_string(port);
    std::vector<const char*> argv = {"mosquitto_pub", "-h", "127.0.0.1",    "-p", p.c_str(), "-q", "1", "-t",
                                     topic.c_str(),   "-m", payload.c_str()};
    if (!user.empty()) argv.insert(argv.end(), {"-u", user.c_str(), "-P", password.c_str()});
    if (!caFile.empty()) argv.insert(argv.end(), {"--cafile", caFile.c_str()});
    argv.push_back(nullptr);
    execv("/usr/bin/mosquitto_pub", const_cast<char* const*>(argv.data()));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

void registerDevice(HttpClient& c, const std::string& tenant, const std::string& id, const std::string& entityId) {
  auto headers = kJson;
  if (!tenant.empty()) headers.push_back({"NGSILD-Tenant", tenant});
  HttpResult r = c.request("POST", "/admin/v1/devices", headers,
                           R"({"id": ")" + id + R"(", "entity": {"id": ")" + entityId +
                               R"(", "type": "Sensor"}, "mapping": {"format": "flat"}})");
  ASSERT_EQ(r.status, 201) << r.body;
}

// The device as the admin API shows it (waits until `accepted + rejected` reaches `outcomes`,
// at most 20 s: a wait for the asynchronous agent, not a speed assertion).
rapidjson::Document waitDevice(HttpClient& c, const std::string& tenant, const std::string& id, int64_t outcomes) {
  rapidjson::Document d;
  std::vector<std::pair<std::string, std::string>> headers;
  if (!tenant.empty()) headers.push_back({"NGSILD-Tenant", tenant});
  for (int i = 0; i < 400; ++i) {
    HttpResult r = c.request("GET", "/admin/v1/devices/" + id, headers);
    d.Parse(r.body);
    if (d.IsObject() && d.HasMember("accepted") && d["accepted"].GetInt64() + d["rejected"].GetInt64() >= outcomes) {
      return d;
    }
    usleep(50000);
  }
  return d;
}

struct Fixture {
  TempDir dir;
  std::unique_ptr<Broker> broker;
  std::unique_ptr<ServerProcess> server;
  Fixture() {
    ::chmod(dir.path().c_str(), 0755);  // the broker's user must reach its folder
    ::mkdir((dir.path() + "/broker").c_str(), 0777);
    broker = std::make_unique<Broker>(dir.path() + "/broker");
    server =
        std::make_unique<ServerProcess>(ALLMENDE_BINARY, dir.path() + "/data",
                                        std::vector<std::string>{"--mqtt-ingest-host", "127.0.0.1",
                                                                 "--mqtt-ingest-port", std::to_string(broker->port())});
  }
};

TEST(IngestMqtt, FlatPayloadBecomesAnAttributeAndBadPayloadsAreCounted) {
  Fixture f;
  ASSERT_TRUE(f.broker->accepting());
  ASSERT_TRUE(f.server->ok());
  HttpClient c(f.server->port());
  registerDevice(c, "", "d1", "urn:ngsi-ld:Sensor:d1");
  ASSERT_TRUE(publish(f.broker->port(), "allmende/ingest/@default/d1", R"({"temperature": 21.5})"));
  ASSERT_TRUE(publish(f.broker->port(), "allmende/ingest/@default/d1", "not json"));
  ASSERT_TRUE(publish(f.broker->port(), "allmende/ingest/@default/d1", R"({"temperature": 22})"));
  auto d = waitDevice(c, "", "d1", 3);
  ASSERT_TRUE(d.IsObject());
  EXPECT_EQ(d["accepted"].GetInt64(), 2);
  EXPECT_EQ(d["rejected"].GetInt64(), 1);
  EXPECT_TRUE(d.HasMember("lastError"));
  EXPECT_TRUE(d.HasMember("lastSeen"));
  HttpResult e = c.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Sensor:d1?format=keyValues");
  ASSERT_EQ(e.status, 200) << e.body;
  rapidjson::Document entity;
  entity.Parse(e.body);
  EXPECT_EQ(entity["temperature"].GetDouble(), 22.0) << e.body;
}

TEST(IngestMqtt, TopicsAreIsolatedByTenant) {
  Fixture f;
  ASSERT_TRUE(f.server->ok());
  HttpClient c(f.server->port());
  registerDevice(c, "town", "d1", "urn:ngsi-ld:Sensor:town-d1");
  registerDevice(c, "", "d1", "urn:ngsi-ld:Sensor:default-d1");
  // The same device id in another tenant's topic feeds only that tenant's device.
  ASSERT_TRUE(publish(f.broker->port(), "allmende/ingest/town/d1", R"({"level": 7})"));
  ASSERT_TRUE(publish(f.broker->port(), "allmende/ingest/nowhere/d1", R"({"level": 8})"));
  auto d = waitDevice(c, "town", "d1", 1);
  EXPECT_EQ(d["accepted"].GetInt64(), 1);
  HttpResult town =
      c.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Sensor:town-d1?format=keyValues", {{"NGSILD-Tenant", "town"}});
  EXPECT_EQ(town.status, 200);
  EXPECT_NE(town.body.find("\"level\":7"), std::string::npos) << town.body;
  // A message to an unknown tenant's topic has changed nothing in the default tenant.
  publish(f.broker->port(), "allmende/ingest/@default/d1", R"({"level": 1})");
  auto dd = waitDevice(c, "", "d1", 1);
  EXPECT_EQ(dd["accepted"].GetInt64(), 1);
  HttpResult def = c.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Sensor:default-d1?format=keyValues");
  EXPECT_NE(def.body.find("\"level\":1"), std::string::npos) << def.body;
  EXPECT_EQ(c.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Sensor:town-d1").status, 404);
}

TEST(IngestMqtt, NoAcknowledgedMessageIsLostWhenTheBrokerRestarts) {
  Fixture f;
  ASSERT_TRUE(f.server->ok());
  HttpClient c(f.server->port());
  registerDevice(c, "", "d1", "urn:ngsi-ld:Sensor:d1");
  ASSERT_TRUE(publish(f.broker->port(), "allmende/ingest/@default/d1", R"({"n": 0})"));
  ASSERT_EQ(waitDevice(c, "", "d1", 1)["accepted"].GetInt64(), 1);  // the agent's session exists
  f.broker->stop();
  f.broker->start();
  ASSERT_TRUE(f.broker->accepting());
  // Published (and acknowledged by the broker) while the agent is still reconnecting: the broker
  // queues them in the agent's persistent session.
  constexpr int kMessages = 30;
  for (int i = 1; i <= kMessages; ++i) {
    ASSERT_TRUE(publish(f.broker->port(), "allmende/ingest/@default/d1", R"({"n": )" + std::to_string(i) + "}"));
  }
  auto d = waitDevice(c, "", "d1", 1 + kMessages);
  EXPECT_EQ(d["accepted"].GetInt64(), 1 + kMessages);
  EXPECT_EQ(d["rejected"].GetInt64(), 0);
  HttpResult e = c.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Sensor:d1?format=keyValues");
  EXPECT_NE(e.body.find("\"n\":30"), std::string::npos) << e.body;
}

TEST(IngestMqtt, NoAcknowledgedMessageIsLostWhenTheServerStopsAndStartsAgain) {
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  ::mkdir((dir.path() + "/broker").c_str(), 0777);
  Broker broker(dir.path() + "/broker");
  const std::vector<std::string> args = {"--mqtt-ingest-host", "127.0.0.1", "--mqtt-ingest-port",
                                         std::to_string(broker.port())};
  auto server = std::make_unique<ServerProcess>(ALLMENDE_BINARY, dir.path() + "/data", args);
  ASSERT_TRUE(server->ok());
  {
    HttpClient c(server->port());
    registerDevice(c, "", "d1", "urn:ngsi-ld:Sensor:d1");
    ASSERT_TRUE(publish(broker.port(), "allmende/ingest/@default/d1", R"({"n": 0})"));
    ASSERT_EQ(waitDevice(c, "", "d1", 1)["accepted"].GetInt64(), 1);  // the agent's session exists
  }
  // Messages acknowledged by the broker before, while and after the server stops (SIGTERM): the
  // ones the agent received are written before it exits, the others wait in its session.
  constexpr int kMessages = 40;
  for (int i = 1; i <= kMessages; ++i) {
    if (i == 10) server->stop();
    ASSERT_TRUE(publish(broker.port(), "allmende/ingest/@default/d1", R"({"n": )" + std::to_string(i) + "}"));
  }
  server = std::make_unique<ServerProcess>(ALLMENDE_BINARY, dir.path() + "/data", args);
  ASSERT_TRUE(server->ok());
  HttpClient c(server->port());
  auto d = waitDevice(c, "", "d1", 1 + kMessages);
  EXPECT_EQ(d["accepted"].GetInt64(), 1 + kMessages) << "the counters are kept across the restart too";
  EXPECT_EQ(d["rejected"].GetInt64(), 0);
  // Every one of them is in the attribute's history (NGSI-LD temporal API).
  HttpResult h = c.request("GET", "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:Sensor:d1?attrs=n&lastN=1000");
  ASSERT_EQ(h.status, 200) << h.body;
  rapidjson::Document t;
  t.Parse(h.body);
  ASSERT_TRUE(t.IsObject() && t.HasMember("n") && t["n"].IsArray()) << h.body;
  std::vector<bool> seen(kMessages + 1, false);
  for (const auto& instance : t["n"].GetArray()) {
    int n = instance["value"].GetInt();
    if (n >= 0 && n <= kMessages) seen[static_cast<size_t>(n)] = true;
  }
  for (int i = 0; i <= kMessages; ++i) EXPECT_TRUE(seen[static_cast<size_t>(i)]) << "measurement " << i << " is lost";
}

bool writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out);
}

TEST(IngestMqtt, GeneratedBrokerAccountsAndAclsHoldPerDevice) {
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  std::string bdir = dir.path() + "/broker";
  ::mkdir(bdir.c_str(), 0777);
  // The agent's own account, made by the operator with mosquitto_passwd.
  ASSERT_EQ(std::system(("/usr/bin/mosquitto_passwd -c -b " + bdir + "/passwd agent agent-secret").c_str()), 0);
  ASSERT_TRUE(writeFile(bdir + "/acl", "user agent\ntopic read allmende/ingest/#\n"));
  ::chmod((bdir + "/passwd").c_str(), 0644);
  Broker broker(bdir, true);
  ASSERT_TRUE(broker.accepting());
  ::setenv("ALLMENDE_MQTT_INGEST_PASSWORD", "agent-secret", 1);
  ServerProcess server(ALLMENDE_BINARY, dir.path() + "/data",
                       {"--mqtt-ingest-host", "127.0.0.1", "--mqtt-ingest-port", std::to_string(broker.port()),
                        "--mqtt-ingest-user", "agent"});
  ASSERT_TRUE(server.ok());
  HttpClient c(server.port());
  for (const char* id : {"a", "b"}) {
    HttpResult r =
        c.request("POST", "/admin/v1/devices", {{"Content-Type", "application/json"}, {"NGSILD-Tenant", "town"}},
                  std::string(R"({"id": ")") + id + R"(", "entity": {"id": "urn:ngsi-ld:Sensor:)" + id +
                      R"(", "type": "Sensor"}, "mapping": {}, "mqtt": {"password": "pw-)" + id + R"("}})");
    ASSERT_EQ(r.status, 201) << r.body;
  }
  HttpResult passwd = c.request("GET", "/admin/v1/mosquitto/passwd");
  HttpResult acl = c.request("GET", "/admin/v1/mosquitto/acl?agent=agent");
  ASSERT_EQ(passwd.status, 200);
  ASSERT_EQ(acl.status, 200);
  EXPECT_EQ(passwd.body.find("pw-a"), std::string::npos);  // never the password itself
  std::ifstream agentLine(bdir + "/passwd");
  std::string agent((std::istreambuf_iterator<char>(agentLine)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(writeFile(bdir + "/passwd", agent + passwd.body));
  ASSERT_TRUE(writeFile(bdir + "/acl", acl.body));
  broker.reload();
  usleep(300000);
  // Wrong password: refused by the broker.
  EXPECT_FALSE(publish(broker.port(), "allmende/ingest/town/a", R"({"v": 1})", "town.a", "wrong"));
  // Device b may not publish to device a's topic (the broker drops it); a may.
  publish(broker.port(), "allmende/ingest/town/a", R"({"v": 2})", "town.b", "pw-b");
  ASSERT_TRUE(publish(broker.port(), "allmende/ingest/town/a", R"({"v": 3})", "town.a", "pw-a"));
  auto d = waitDevice(c, "town", "a", 1);
  EXPECT_EQ(d["accepted"].GetInt64(), 1);
  HttpResult e =
      c.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Sensor:a?format=keyValues", {{"NGSILD-Tenant", "town"}});
  EXPECT_NE(e.body.find("\"v\":3"), std::string::npos) << e.body;
  ASSERT_TRUE(publish(broker.port(), "allmende/ingest/town/b", R"({"v": 4})", "town.b", "pw-b"));
  EXPECT_EQ(waitDevice(c, "town", "b", 1)["accepted"].GetInt64(), 1);
  EXPECT_EQ(waitDevice(c, "town", "a", 1)["accepted"].GetInt64(), 1);
}

// The audit records of the tenant (waits until at least `n` are there, at most 20 s).
rapidjson::Document waitAudit(HttpClient& c, const std::string& tenant, size_t n) {
  rapidjson::Document d;
  for (int i = 0; i < 400; ++i) {
    d.Parse(c.request("GET", "/admin/v1/tenants/" + tenant + "/audit?action=PUBLISH").body);
    if (d.IsArray() && d.Size() >= n) break;
    usleep(50000);
  }
  return d;
}

TEST(IngestMqtt, MeasurementsMeetTheTenantsQuotasAndReachTheAuditLog) {
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  ::mkdir((dir.path() + "/broker").c_str(), 0777);
  Broker broker(dir.path() + "/broker");
  ServerProcess server(ALLMENDE_BINARY, dir.path() + "/data",
                       {"--mqtt-ingest-host", "127.0.0.1", "--mqtt-ingest-port", std::to_string(broker.port()),
                        "--audit", "--quota-entities", "1"});
  ASSERT_TRUE(server.ok());
  HttpClient c(server.port());
  registerDevice(c, "town", "d1", "urn:ngsi-ld:Sensor:d1");
  registerDevice(c, "town", "d2", "urn:ngsi-ld:Sensor:d2");
  ASSERT_TRUE(publish(broker.port(), "allmende/ingest/town/d1", R"({"v": 1})"));
  ASSERT_EQ(waitDevice(c, "town", "d1", 1)["accepted"].GetInt64(), 1);
  // d2's first measurement would create a second entity: the entity quota (1) refuses it, as it
  // refuses a POST /ngsi-ld/v1/entities.
  ASSERT_TRUE(publish(broker.port(), "allmende/ingest/town/d2", R"({"v": 2})"));
  auto d2 = waitDevice(c, "town", "d2", 1);
  EXPECT_EQ(d2["accepted"].GetInt64(), 0);
  EXPECT_EQ(d2["rejected"].GetInt64(), 1);
  EXPECT_NE(std::string(d2["lastError"].GetString()).find("entity quota"), std::string::npos);
  EXPECT_EQ(c.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Sensor:d2", {{"NGSILD-Tenant", "town"}}).status, 404);
  // d1 updates its existing entity: allowed.
  ASSERT_TRUE(publish(broker.port(), "allmende/ingest/town/d1", R"({"v": 3})"));
  ASSERT_EQ(waitDevice(c, "town", "d1", 2)["accepted"].GetInt64(), 2);

  // Each batch that reached the store, and the refused one, is in the tenant's audit log:
  // who (the device), what (the topic), with the outcome.
  auto audit = waitAudit(c, "town", 3);
  ASSERT_TRUE(audit.IsArray());
  ASSERT_EQ(audit.Size(), 3u) << "one record per batch here (one message each)";
  int stored = 0, refused = 0;
  for (const auto& r : audit.GetArray()) {
    EXPECT_STREQ(r["auth"].GetString(), "mqtt");
    EXPECT_STREQ(r["action"].GetString(), "PUBLISH");
    std::string subject = r["subject"].GetString(), target = r["target"].GetString();
    if (r["status"].GetInt() == 204) {
      ++stored;
      EXPECT_EQ(subject, "device:d1");
      EXPECT_EQ(target, "allmende/ingest/town/d1");
    } else {
      ++refused;
      EXPECT_EQ(r["status"].GetInt(), 403);
      EXPECT_EQ(subject, "device:d2");
    }
  }
  EXPECT_EQ(stored, 2);
  EXPECT_EQ(refused, 1);
  // Another tenant's log has none of them.
  rapidjson::Document other;
  other.Parse(c.request("GET", "/admin/v1/tenants/other/audit").body);
  EXPECT_TRUE(other.IsArray() && other.Empty());
}

// A throwaway CA and a broker certificate for 127.0.0.1 signed by it, made with openssl.
bool makeCertificates(const std::string& dir) {
  std::string cmd = "cd " + dir +
                    " && openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=allmende-test-ca "
                    "-keyout ca.key -out ca.pem"
                    " && openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout broker.key -out broker.csr"
                    " && printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf"
                    " && openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 "
                    "-extfile ext.cnf -out broker.pem"
                    " && chmod 644 ca.pem broker.pem broker.key >/dev/null 2>&1";
  return std::system(("(" + cmd + ") >/dev/null 2>&1").c_str()) == 0;
}

TEST(IngestMqtt, TheAgentConnectsOverTlsWithItsAccount) {
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  std::string bdir = dir.path() + "/broker";
  ::mkdir(bdir.c_str(), 0777);
  ASSERT_TRUE(makeCertificates(bdir));
  ASSERT_EQ(std::system(("/usr/bin/mosquitto_passwd -c -b " + bdir + "/passwd agent agent-secret").c_str()), 0);
  ASSERT_EQ(std::system(("/usr/bin/mosquitto_passwd -b " + bdir + "/passwd sensor sensor-secret").c_str()), 0);
  ::chmod((bdir + "/passwd").c_str(), 0644);
  ASSERT_TRUE(writeFile(bdir + "/acl",
                        "user agent\ntopic read allmende/ingest/#\n"
                        "user sensor\ntopic write allmende/ingest/town/t1\n"));
  Broker broker(bdir, true,
                "cafile " + bdir + "/ca.pem\ncertfile " + bdir + "/broker.pem\nkeyfile " + bdir + "/broker.key\n");
  ASSERT_TRUE(broker.accepting());
  const std::string ca = bdir + "/ca.pem";
  ::setenv("ALLMENDE_MQTT_INGEST_PASSWORD", "agent-secret", 1);
  ServerProcess server(ALLMENDE_BINARY, dir.path() + "/data",
                       {"--mqtt-ingest-host", "127.0.0.1", "--mqtt-ingest-port", std::to_string(broker.port()),
                        "--mqtt-ingest-user", "agent", "--mqtt-ingest-ca-file", ca});
  ASSERT_TRUE(server.ok());
  HttpClient c(server.port());
  registerDevice(c, "town", "t1", "urn:ngsi-ld:Sensor:t1");
  // Without TLS the broker's TLS listener does not take the message.
  EXPECT_FALSE(publish(broker.port(), "allmende/ingest/town/t1", R"({"v": 0})", "sensor", "sensor-secret"));
  ASSERT_TRUE(publish(broker.port(), "allmende/ingest/town/t1", R"({"v": 1})", "sensor", "sensor-secret", ca));
  auto d = waitDevice(c, "town", "t1", 1);
  ASSERT_TRUE(d.IsObject());
  EXPECT_EQ(d["accepted"].GetInt64(), 1);
  HttpResult e =
      c.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Sensor:t1?format=keyValues", {{"NGSILD-Tenant", "town"}});
  EXPECT_NE(e.body.find("\"v\":1"), std::string::npos) << e.body;
}

TEST(IngestMqtt, TheAgentRefusesABrokerItsCaDoesNotVouchFor) {
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  std::string bdir = dir.path() + "/broker", other = dir.path() + "/other";
  ::mkdir(bdir.c_str(), 0777);
  ::mkdir(other.c_str(), 0777);
  ASSERT_TRUE(makeCertificates(bdir));
  ASSERT_TRUE(makeCertificates(other));  // another CA: the agent trusts only this one
  Broker broker(bdir, false,
                "cafile " + bdir + "/ca.pem\ncertfile " + bdir + "/broker.pem\nkeyfile " + bdir + "/broker.key\n");
  ASSERT_TRUE(broker.accepting());
  ServerProcess server(ALLMENDE_BINARY, dir.path() + "/data",
                       {"--mqtt-ingest-host", "127.0.0.1", "--mqtt-ingest-port", std::to_string(broker.port()),
                        "--mqtt-ingest-ca-file", other + "/ca.pem"});
  ASSERT_TRUE(server.ok());
  HttpClient c(server.port());
  registerDevice(c, "town", "t1", "urn:ngsi-ld:Sensor:t1");
  ASSERT_TRUE(publish(broker.port(), "allmende/ingest/town/t1", R"({"v": 1})", "", "", bdir + "/ca.pem"));
  // The message waits at the broker (QoS 1 has no subscriber session yet): nothing reaches the
  // agent through an unverified connection. A bounded look, since absence cannot be awaited.
  sleep(2);
  HttpResult d = c.request("GET", "/admin/v1/devices/t1", {{"NGSILD-Tenant", "town"}});
  EXPECT_NE(d.body.find("\"accepted\":0"), std::string::npos) << d.body;
}

}  // namespace
}  // namespace allmende::testing
