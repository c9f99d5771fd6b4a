// Notifications to https endpoints: a real TLS receiver (tls_receiver.py, python3) with a
// self-signed certificate made by the openssl command for this test. The server trusts it only
// when given it with --notify-ca-file; the host name of the URI must match the certificate.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "harness.h"

namespace allmende::testing {
namespace {

const std::vector<std::pair<std::string, std::string>> kJson = {{"Content-Type", "application/json"}};

// tls_receiver.py on a free port; stopped on destruction.
class TlsReceiver {
 public:
  TlsReceiver(const std::string& dir) : out_(dir + "/received.jsonl") {
    std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
    std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext "
        "subjectAltName=DNS:localhost -keyout " +
        key + " -out " + cert + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return;
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      execlp("python3", "python3", ALLMENDE_TLS_RECEIVER, cert.c_str(), key.c_str(), out_.c_str(), nullptr);
      _exit(127);
    }
    close(fds[1]);
    // The port line, read to its end; the pipe stays open while the receiver runs (a closed
    // pipe would break the receiver's next write to stdout).
    std::string line;
    char c;
    while (line.size() < 16 && read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    pipe_ = fds[0];
    port_ = std::atoi(line.c_str());
    cert_ = cert;
  }
  ~TlsReceiver() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    if (pipe_ >= 0) close(pipe_);
  }
  int port() const { return port_; }
  const std::string& cert() const { return cert_; }
  std::string received() const {
    std::ifstream in(out_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::string out_, cert_;
  pid_t pid_ = -1;
  int pipe_ = -1;
  int port_ = 0;
};

bool eventually(const std::function<bool()>& cond) {
  for (int i = 0; i < 1500; ++i) {
    if (cond()) return true;
    usleep(10000);
  }
  return false;
}

std::string subscription(const std::string& uri) {
  return R"({"type": "Subscription", "entities": [{"type": "Gauge"}],
             "notification": {"format": "keyValues", "endpoint": {"uri": ")" +
         uri + R"("}}})";
}

TEST(Https, NotificationsReachATrustedReceiver) {
  TempDir dir;
  TlsReceiver receiver(dir.path());
  ASSERT_GT(receiver.port(), 0);
  ServerProcess server(ALLMENDE_BINARY, dir.path() + "/data", {"--notify-ca-file", receiver.cert()});
  ASSERT_TRUE(server.ok());
  HttpClient client(server.port());
  std::string uri = "https://localhost:" + std::to_string(receiver.port()) + "/tls";
  ASSERT_EQ(client.request("POST", "/ngsi-ld/v1/subscriptions", kJson, subscription(uri)).status, 201);
  ASSERT_EQ(client
                .request("POST", "/ngsi-ld/v1/entities", kJson,
                         R"({"id": "urn:ngsi-ld:Gauge:tls1", "type": "Gauge", "level": 7})")
                .status,
            201);
  ASSERT_EQ(
      client.request("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:tls1/attrs", kJson, R"({"level": 8})").status,
      204);
  EXPECT_TRUE(eventually([&] { return receiver.received().find(R"(\"level\":8)") != std::string::npos; }))
      << receiver.received();
  std::string got = receiver.received();
  EXPECT_NE(got.find(R"("path": "/tls")"), std::string::npos);
  EXPECT_LT(got.find(R"(\"level\":7)"), got.find(R"(\"level\":8)"));
}

TEST(Https, AnUntrustedOrMisnamedCertificateFails) {
  TempDir dir;
  TlsReceiver receiver(dir.path());
  ASSERT_GT(receiver.port(), 0);
  // Trusted CA, but the URI names 127.0.0.1 while the certificate is for localhost.
  ServerProcess trusting(ALLMENDE_BINARY, dir.path() + "/a",
                         {"--notify-ca-file", receiver.cert(), "--notify-attempts", "1"});
  // Right name, but the certificate is not trusted.
  ServerProcess untrusting(ALLMENDE_BINARY, dir.path() + "/b", {"--notify-attempts", "1"});
  ASSERT_TRUE(trusting.ok() && untrusting.ok());
  std::string port = std::to_string(receiver.port());
  for (auto [server, uri] : {std::pair{&trusting, "https://127.0.0.1:" + port + "/x"},
                             std::pair{&untrusting, "https://localhost:" + port + "/x"}}) {
    HttpClient client(server->port());
    HttpResult sub = client.request("POST", "/ngsi-ld/v1/subscriptions", kJson, subscription(uri));
    ASSERT_EQ(sub.status, 201);
    std::string loc = sub.header("location");
    ASSERT_EQ(client
                  .request("POST", "/ngsi-ld/v1/entities", kJson,
                           R"({"id": "urn:ngsi-ld:Gauge:t", "type": "Gauge", "level": 1})")
                  .status,
              201);
    EXPECT_TRUE(eventually([&] {
      return client.request("GET", loc).body.find(R"("timesFailed":1)") != std::string::npos;
    })) << uri;
  }
  EXPECT_EQ(receiver.received(), "");
}

}  // namespace
}  // namespace allmende::testing
