// TLS on the server port, HSTS, CORS, and secrets never logged (issue 7). The certificate is
// made by the openssl command-line tool for each test run; the client is OpenSSL, so the test
// can offer old protocol versions and weak ciphers and see them refused.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "harness.h"

namespace allmende::testing {
namespace {

struct Cert {
  std::string cert, key;
};

// A self-signed P-256 certificate for 127.0.0.1 and localhost, written into `dir`.
Cert makeCertificate(const std::string& dir) {
  Cert c{dir + "/cert.pem", dir + "/key.pem"};
  std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost "
      "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
      c.key + " -out " + c.cert + " 2>/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  return c;
}

struct TlsAnswer {
  bool handshake = false;
  std::string protocol, cipher;
  std::string response;  // raw HTTP response (until the server closes)
};

// Connects with OpenSSL, restricted to [minVersion, maxVersion] and `ciphers` (TLS 1.2 list;
// "" = OpenSSL's default), verifies the server with `caFile`, sends `request` and reads the answer.
TlsAnswer tlsRequest(int port, const std::string& caFile, const std::string& request, int minVersion = TLS1_VERSION,
                     int maxVersion = TLS1_3_VERSION, const std::string& ciphers = "") {
  TlsAnswer out;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_security_level(ctx, 0);  // let the client offer what a careless one would
  SSL_CTX_set_min_proto_version(ctx, minVersion);
  SSL_CTX_set_max_proto_version(ctx, maxVersion);
  if (!ciphers.empty()) SSL_CTX_set_cipher_list(ctx, ciphers.c_str());
  SSL_CTX_load_verify_locations(ctx, caFile.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set1_host(ssl, "127.0.0.1");
    if (SSL_connect(ssl) == 1) {
      out.handshake = true;
      out.protocol = SSL_get_version(ssl);
      out.cipher = SSL_get_cipher_name(ssl);
      SSL_write(ssl, request.data(), static_cast<int>(request.size()));
      char buf[16384];
      int n;
      while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) out.response.append(buf, static_cast<size_t>(n));
    }
    SSL_free(ssl);
  }
  ::close(fd);
  SSL_CTX_free(ctx);
  ERR_clear_error();
  return out;
}

const std::string kHealth = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

TEST(SecurityTest, TlsServesHttpsWithModernProtocolsOnly) {
  TempDir dir;
  Cert c = makeCertificate(dir.path());
  TempDir data;
  ServerProcess server(ALLMENDE_BINARY, data.path(), {"--tls-cert", c.cert, "--tls-key", c.key});
  ASSERT_TRUE(server.ok());

  TlsAnswer ok = tlsRequest(server.port(), c.cert, kHealth);
  ASSERT_TRUE(ok.handshake);
  EXPECT_EQ(ok.protocol, "TLSv1.3");
  EXPECT_NE(ok.response.find("HTTP/1.1 200"), std::string::npos) << ok.response;
  EXPECT_NE(ok.response.find("Strict-Transport-Security: max-age=31536000"), std::string::npos) << ok.response;

  // A write over TLS, then the read of it on a new connection.
  std::string body = R"({"id": "urn:ngsi-ld:Probe:tls", "type": "Probe", "n": {"type": "Property", "value": 1}})";
  TlsAnswer created = tlsRequest(server.port(), c.cert,
                                 "POST /ngsi-ld/v1/entities HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                 "Content-Type: application/json\r\nContent-Length: " +
                                     std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_NE(created.response.find("HTTP/1.1 201"), std::string::npos) << created.response;
  TlsAnswer read =
      tlsRequest(server.port(), c.cert,
                 "GET /ngsi-ld/v1/entities/urn:ngsi-ld:Probe:tls HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(read.response.find("urn:ngsi-ld:Probe:tls"), std::string::npos) << read.response;

  // TLS 1.2 with a forward-secret AEAD suite is accepted.
  TlsAnswer tls12 = tlsRequest(server.port(), c.cert, kHealth, TLS1_2_VERSION, TLS1_2_VERSION);
  ASSERT_TRUE(tls12.handshake);
  EXPECT_EQ(tls12.protocol, "TLSv1.2");
  EXPECT_NE(tls12.cipher.find("ECDHE"), std::string::npos) << tls12.cipher;
  EXPECT_NE(tls12.cipher.find("GCM") == std::string::npos ? tls12.cipher.find("CHACHA") : 0, std::string::npos);

  // Old protocol versions and weak TLS 1.2 suites are refused.
  EXPECT_FALSE(tlsRequest(server.port(), c.cert, kHealth, TLS1_VERSION, TLS1_1_VERSION).handshake);
  for (const char* weak : {"AES128-SHA", "AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES128-SHA",
                           "ECDHE-ECDSA-AES128-SHA256", "DHE-RSA-AES128-GCM-SHA256"}) {
    EXPECT_FALSE(tlsRequest(server.port(), c.cert, kHealth, TLS1_2_VERSION, TLS1_2_VERSION, weak).handshake) << weak;
  }

  // Plain HTTP on the TLS port gets no answer.
  HttpClient plain(server.port());
  EXPECT_EQ(plain.request("GET", "/health").status, 0);
  // And the server still serves TLS afterwards.
  EXPECT_TRUE(tlsRequest(server.port(), c.cert, kHealth).handshake);
}

TEST(SecurityTest, NoHstsWithoutTls) {
  TempDir data;
  ServerProcess server(ALLMENDE_BINARY, data.path());
  ASSERT_TRUE(server.ok());
  HttpClient client(server.port());
  HttpResult r = client.request("GET", "/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("strict-transport-security"), "");
}

TEST(SecurityTest, ServerRefusesToStartWithABadKey) {
  TempDir dir;
  Cert c = makeCertificate(dir.path());
  TempDir otherDir;
  Cert other = makeCertificate(otherDir.path());
  TempDir data;
  ServerProcess missing(ALLMENDE_BINARY, data.path(), {"--tls-cert", c.cert, "--tls-key", dir.path() + "/missing.pem"});
  EXPECT_FALSE(missing.ok());
  ServerProcess mismatched(ALLMENDE_BINARY, data.path(), {"--tls-cert", c.cert, "--tls-key", other.key});
  EXPECT_FALSE(mismatched.ok());
  ServerProcess half(ALLMENDE_BINARY, data.path(), {"--tls-cert", c.cert});
  EXPECT_FALSE(half.ok());
}

TEST(SecurityTest, CorsAllowsConfiguredOriginsOnly) {
  TempDir data;
  ServerProcess server(ALLMENDE_BINARY, data.path(), {"--cors-origin", "https://app.example.org"});
  ASSERT_TRUE(server.ok());
  HttpClient client(server.port());
  auto preflight = [&](const std::string& origin) {
    return client.request("OPTIONS", "/ngsi-ld/v1/entities",
                          {{"Origin", origin},
                           {"Access-Control-Request-Method", "POST"},
                           {"Access-Control-Request-Headers", "content-type"}});
  };
  HttpResult p = preflight("https://app.example.org");
  EXPECT_EQ(p.status, 204);
  EXPECT_EQ(p.header("access-control-allow-origin"), "https://app.example.org");
  EXPECT_NE(p.header("access-control-allow-methods").find("POST"), std::string::npos);
  EXPECT_NE(p.header("access-control-allow-headers").find("Content-Type"), std::string::npos);
  HttpResult bad = preflight("https://evil.example");
  EXPECT_EQ(bad.status, 403);
  EXPECT_EQ(bad.header("access-control-allow-origin"), "");
  EXPECT_NE(bad.body.find("Forbidden"), std::string::npos) << bad.body;

  HttpResult get = client.request("GET", "/ngsi-ld/v1/types", {{"Origin", "https://app.example.org"}});
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.header("access-control-allow-origin"), "https://app.example.org");
  EXPECT_NE(get.header("access-control-expose-headers").find("Link"), std::string::npos);
  EXPECT_EQ(get.header("vary"), "Origin");
  HttpResult foreign = client.request("GET", "/ngsi-ld/v1/types", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(foreign.status, 200);  // the browser, not the server, withholds the answer
  EXPECT_EQ(foreign.header("access-control-allow-origin"), "");

  // Without --cors-origin there are no CORS headers.
  TempDir data2;
  ServerProcess plain(ALLMENDE_BINARY, data2.path());
  HttpClient c2(plain.port());
  EXPECT_EQ(c2.request("GET", "/ngsi-ld/v1/types", {{"Origin", "https://app.example.org"}})
                .header("access-control-allow-origin"),
            "");
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Credentials sent with requests (valid and invalid API keys, tokens, the bootstrap key, keys
// created through the admin API, the MQTT password from the environment) never show up in the
// server's log, even when the requests fail.
TEST(SecurityTest, SecretsAreNeverLogged) {
  TempDir data;
  const std::string log = data.path() + "/../" + std::to_string(getpid()) + "-server.log";
  const std::string admin = "alm_secret-admin-key-0123456789abcdefghijkl";
  const std::string adminFile = data.path() + "/admin.key";
  std::ofstream(adminFile) << admin << "\n";
  const std::string mqttPassword = "mqtt-secret-password-ZZ9PluralZAlpha";
  setenv("ALLMENDE_MQTT_INGEST_PASSWORD", mqttPassword.c_str(), 1);
  std::vector<std::string> secrets = {admin, mqttPassword};
  {
    ServerProcess server(ALLMENDE_BINARY, data.path() + "/db",
                         {"--production", "--admin-key-file", adminFile, "--mqtt-ingest-host", "127.0.0.1",
                          "--mqtt-ingest-port", std::to_string(freePort()), "--mqtt-ingest-user", "agent"},
                         log);
    ASSERT_TRUE(server.ok());
    HttpClient client(server.port());
    const std::vector<std::pair<std::string, std::string>> adminJson = {{"Content-Type", "application/json"},
                                                                        {"X-API-Key", admin}};
    ASSERT_EQ(client.request("POST", "/admin/v1/tenants", adminJson, R"({"name": "alpha", "ags": "09162000"})").status,
              201);
    HttpResult key =
        client.request("POST", "/admin/v1/tenants/alpha/keys", adminJson, R"({"role": "editor", "name": "editorKey"})");
    ASSERT_EQ(key.status, 201) << key.body;
    size_t at = key.body.find("alm_");
    ASSERT_NE(at, std::string::npos) << key.body;
    std::string editor = key.body.substr(at, key.body.find('"', at) - at);
    secrets.push_back(editor);
    const std::string wrongKey = "alm_wrong-key-that-must-not-be-logged-0123456789";
    const std::string token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtdG9rZW4tc3ViIn0.c2lnbmF0dXJlLXNlY3JldA";
    secrets.push_back(wrongKey);
    secrets.push_back(token);
    auto tenant = [](const std::string& k) {
      return std::vector<std::pair<std::string, std::string>>{
          {"Content-Type", "application/json"}, {"NGSILD-Tenant", "alpha"}, {"X-API-Key", k}};
    };
    EXPECT_EQ(client
                  .request("POST", "/ngsi-ld/v1/entities", tenant(editor),
                           R"({"id": "urn:ngsi-ld:Probe:1", "type": "Probe"})")
                  .status,
              201);
    EXPECT_EQ(client.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Probe:1", tenant(editor)).status, 200);
    EXPECT_EQ(client.request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Probe:1", tenant(wrongKey)).status, 401);
    EXPECT_EQ(client
                  .request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Probe:1",
                           {{"NGSILD-Tenant", "alpha"}, {"Authorization", "Bearer " + token}})
                  .status,
              401);
    EXPECT_EQ(client
                  .request("GET", "/ngsi-ld/v1/entities?type=Probe",
                           {{"NGSILD-Tenant", "alpha"}, {"Authorization", "Basic " + editor}})
                  .status,
              401);
    // A malformed request that carries a key, and a key in a query string.
    EXPECT_EQ(client.request("POST", "/ngsi-ld/v1/entities", tenant(editor), "{not json").status, 400);
    EXPECT_EQ(client.request("GET", "/ngsi-ld/v1/entities?type=Probe&apiKey=" + wrongKey, tenant(wrongKey)).status,
              401);
    server.stop();
  }
  unsetenv("ALLMENDE_MQTT_INGEST_PASSWORD");
  std::string text = readFile(log);
  unlink(log.c_str());
  EXPECT_NE(text.find("NGSI-LD API at"), std::string::npos) << "the log was not captured";
  for (const auto& s : secrets) {
    EXPECT_EQ(text.find(s), std::string::npos) << "secret in the log: " << s;
    EXPECT_EQ(text.find(s.substr(0, 24)), std::string::npos) << "a prefix of a secret in the log: " << s;
  }
}

// A store URL carries the database password: a refused URL and one whose database cannot be
// reached stop the server with an error that names neither the password nor the user.
TEST(SecurityTest, StoreUrlPasswordsAreNeverLogged) {
  TempDir data;
  const std::string password = "pg-secret-password-Zaphod42";
  for (const std::string& url : {"mysql://ada:" + password + "@127.0.0.1/town",
                                 "postgres://ada:" + password + "@127.0.0.1:" + std::to_string(freePort()) + "/town"}) {
    std::string cmd = std::string(ALLMENDE_BINARY) + " serve --port 0 --data " + data.path() + "/db --store '" + url +
                      "' </dev/null 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    int status = ::pclose(p);
    EXPECT_NE(status, 0) << out;  // the server did not start
    EXPECT_NE(out.find("error"), std::string::npos) << out;
    EXPECT_EQ(out.find(password), std::string::npos) << out;
    EXPECT_EQ(out.find(password.substr(0, 10)), std::string::npos) << out;
  }
}

}  // namespace
}  // namespace allmende::testing
