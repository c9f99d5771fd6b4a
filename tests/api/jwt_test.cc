// OIDC / JWT bearer tokens against the real server (issue 5): RS256 and ES256 tokens from a JWKS
// file, and the edge cases -- expired, wrong audience or issuer, wrong key, "alg": "none", HMAC
// with the public key, tampered payload or signature. Keys are generated here with OpenSSL.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "harness.h"

namespace allmende::testing {
namespace {

constexpr char kAdminKey[] = "alm_jwt-test-platform-admin-key-0123456789";
constexpr char kIssuer[] = "https://idp.example/realms/bayern";
constexpr char kAudience[] = "allmende";

std::string b64url(const std::string& in) {
  static constexpr char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) out += a[(acc >> (bits -= 6)) & 63];
  }
  if (bits) out += a[(acc << (6 - bits)) & 63];
  return out;
}

std::string bnBytes(EVP_PKEY* k, const char* param, int pad) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(k, param, &bn);
  std::string out(pad ? pad : BN_num_bytes(bn), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

using Key = std::shared_ptr<EVP_PKEY>;
Key rsaKey() { return Key(EVP_RSA_gen(2048), EVP_PKEY_free); }
Key ecKey() { return Key(EVP_EC_gen("P-256"), EVP_PKEY_free); }

std::string jwk(const Key& k, const std::string& kid) {
  if (EVP_PKEY_base_id(k.get()) == EVP_PKEY_RSA) {
    return R"({"kty":"RSA","kid":")" + kid + R"(","use":"sig","n":")" +
           b64url(bnBytes(k.get(), OSSL_PKEY_PARAM_RSA_N, 0)) + R"(","e":")" +
           b64url(bnBytes(k.get(), OSSL_PKEY_PARAM_RSA_E, 0)) + "\"}";
  }
  return R"({"kty":"EC","crv":"P-256","kid":")" + kid + R"(","x":")" +
         b64url(bnBytes(k.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32)) + R"(","y":")" +
         b64url(bnBytes(k.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32)) + "\"}";
}

std::string sign(const Key& k, const std::string& input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, k.get());
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  if (EVP_PKEY_base_id(k.get()) != EVP_PKEY_EC) return sig;
  // DER -> r || s (JWS ES256)
  auto p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(es);
  return raw;
}

int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string claims(const std::string& extra, int64_t expIn = 300,
                   const std::string& aud = std::string("\"") + kAudience + "\"") {
  return R"({"iss":")" + std::string(kIssuer) + R"(","aud":)" + aud + R"(,"sub":"user-1","exp":)" +
         std::to_string(nowSeconds() + expIn) + (extra.empty() ? "" : "," + extra) + "}";
}

std::string token(const Key& k, const std::string& alg, const std::string& kid, const std::string& payload) {
  std::string input = b64url(R"({"alg":")" + alg + R"(","typ":"JWT","kid":")" + kid + "\"}") + "." + b64url(payload);
  return input + "." + b64url(sign(k, input));
}

class Jwt : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new Key(rsaKey());
    ec_ = new Key(ecKey());
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ec_;
  }
  void SetUp() override { start({}); }

  void start(std::vector<std::string> extra) {
    std::string jwks = dir_.path() + "/jwks.json";
    std::ofstream(jwks) << R"({"keys":[)" << jwk(*rsa_, "rsa-1") << "," << jwk(*ec_, "ec-1") << "]}";
    setenv("ALLMENDE_ADMIN_KEY", kAdminKey, 1);
    std::vector<std::string> args = {"--production", "--jwks-file",    jwks,     "--jwt-issuer",
                                     kIssuer,        "--jwt-audience", kAudience};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ServerProcess>(ALLMENDE_BINARY, dir_.path() + "/data", args);
    ASSERT_TRUE(server_->ok());
    client_ = std::make_unique<HttpClient>(server_->port());
    for (const char* t : {"alpha", "beta"}) {
      HttpResult r = client_->request(
          "POST", "/admin/v1/tenants", {{"Content-Type", "application/json"}, {"X-API-Key", kAdminKey}},
          std::string(R"({"name":")") + t + R"(","ags":")" + (t[0] == 'a' ? "09162000" : "09162001") + "\"}");
      ASSERT_EQ(r.status, 201) << r.body;
    }
  }

  int get(const std::string& bearer, const std::string& tenant = "alpha") {
    HttpResult r = client_->request("GET", "/ngsi-ld/v1/entities?type=Car",
                                    {{"NGSILD-Tenant", tenant}, {"Authorization", "Bearer " + bearer}});
    last_ = r.body;
    return r.status;
  }
  int post(const std::string& bearer, const std::string& id) {
    HttpResult r = client_->request(
        "POST", "/ngsi-ld/v1/entities",
        {{"Content-Type", "application/json"}, {"NGSILD-Tenant", "alpha"}, {"Authorization", "Bearer " + bearer}},
        R"({"id":"urn:ngsi-ld:Car:)" + id + R"(","type":"Car","speed":1})");
    last_ = r.body;
    return r.status;
  }

  static Key* rsa_;
  static Key* ec_;
  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
  std::string last_;
};
Key* Jwt::rsa_ = nullptr;
Key* Jwt::ec_ = nullptr;

const std::string kReaderAlpha = R"("tenant":"alpha","roles":["reader"])";
const std::string kEditorAlpha = R"("tenant":"alpha","roles":["editor"])";

// One server for many tokens: each token is checked on its own (the names say which case).
TEST_F(Jwt, ValidTokensActWithTheirRolesInTheirTenant) {
  std::string reader = token(*rsa_, "RS256", "rsa-1", claims(kReaderAlpha));
  EXPECT_EQ(get(reader), 200) << "RS256 reader reads: " << last_;
  EXPECT_EQ(post(reader, "r1"), 403) << "a reader does not write: " << last_;
  EXPECT_EQ(get(reader, "beta"), 403) << "nor reads another tenant: " << last_;

  std::string editor = token(*ec_, "ES256", "ec-1", claims(kEditorAlpha));
  EXPECT_EQ(post(editor, "e1"), 201) << "ES256 editor writes: " << last_;
  EXPECT_EQ(get(editor), 200) << last_;

  EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", claims(kReaderAlpha, 300, R"(["account","allmende"])"))), 200)
      << "aud may be an array holding ours: " << last_;
  EXPECT_EQ(post(token(*rsa_, "RS256", "rsa-1", claims(R"("tenant":"alpha","roles":"reader editor")")), "s1"), 201)
      << "roles as a space-separated string: " << last_;

  std::string admin = token(*rsa_, "RS256", "rsa-1", claims(R"("roles":["platform-admin"])"));
  HttpResult r = client_->request("GET", "/admin/v1/tenants", {{"Authorization", "Bearer " + admin}});
  EXPECT_EQ(r.status, 200) << "a platform-admin token administers: " << r.body;

  std::string device = token(*ec_, "ES256", "ec-1",
                             claims(R"("tenant":"alpha","roles":["device"],"entity_prefix":"urn:ngsi-ld:Car:dev-")"));
  EXPECT_EQ(post(device, "dev-1"), 201) << "a device writes under its prefix: " << last_;
  EXPECT_EQ(post(device, "other-1"), 403) << "and nowhere else: " << last_;
  EXPECT_EQ(get(device), 403) << "and does not read: " << last_;
  std::string noPrefix = token(*ec_, "ES256", "ec-1", claims(R"("tenant":"alpha","roles":["device"])"));
  EXPECT_EQ(post(noPrefix, "dev-2"), 403) << "a device token without a prefix writes nothing: " << last_;
}

TEST_F(Jwt, ValidTokensWithoutTheRightRoleOrTenantAre403) {
  EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", claims(R"("tenant":"alpha","roles":["mayor"])"))), 403)
      << "no Allmende role: " << last_;
  EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", claims(R"("tenant":"beta","roles":["editor"])"))), 403)
      << "another tenant's token: " << last_;
}

TEST_F(Jwt, InvalidTokensAre401) {
  EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", claims(kReaderAlpha, -120))), 401) << "expired: " << last_;
  std::string noExp = R"({"iss":")" + std::string(kIssuer) + R"(","aud":"allmende",)" + kReaderAlpha + "}";
  EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", noExp)), 401) << "no exp: " << last_;
  EXPECT_EQ(
      get(token(*rsa_, "RS256", "rsa-1", claims(kReaderAlpha + ",\"nbf\":" + std::to_string(nowSeconds() + 3600)))),
      401)
      << "not yet valid: " << last_;
  EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", claims(kReaderAlpha, 300, "\"other-service\""))), 401)
      << "wrong audience: " << last_;
  std::string otherIssuer = claims(kReaderAlpha);
  otherIssuer.replace(otherIssuer.find("bayern"), 6, "hessen");
  EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", otherIssuer)), 401) << "wrong issuer: " << last_;

  Key stranger = rsaKey();
  EXPECT_EQ(get(token(stranger, "RS256", "rsa-1", claims(kReaderAlpha))), 401)
      << "signed by an unknown key under a trusted kid: " << last_;

  std::string none = b64url(R"({"alg":"none","typ":"JWT"})") + "." + b64url(claims(kReaderAlpha)) + ".";
  EXPECT_EQ(get(none), 401) << "alg none: " << last_;

  // The classic algorithm confusion: HMAC keyed with the RSA public key a verifier might use.
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, rsa_->get());
  char* pem = nullptr;
  long len = BIO_get_mem_data(bio, &pem);
  std::string secret(pem, static_cast<size_t>(len));
  BIO_free(bio);
  std::string hsInput = b64url(R"({"alg":"HS256","typ":"JWT","kid":"rsa-1"})") + "." + b64url(claims(kReaderAlpha));
  unsigned char mac[32];
  unsigned int macLen = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(hsInput.data()), hsInput.size(), mac, &macLen);
  EXPECT_EQ(get(hsInput + "." + b64url(std::string(reinterpret_cast<char*>(mac), macLen))), 401)
      << "HS256 with the public key as secret: " << last_;

  std::string mixed = b64url(R"({"alg":"RS256","kid":"ec-1"})") + "." + b64url(claims(kReaderAlpha));
  EXPECT_EQ(get(mixed + "." + b64url(sign(*ec_, mixed))), 401) << "an RS256 header on an EC signature: " << last_;

  std::string crit =
      b64url(R"({"alg":"RS256","kid":"rsa-1","crit":["exp"],"exp":1})") + "." + b64url(claims(kReaderAlpha));
  EXPECT_EQ(get(crit + "." + b64url(sign(*rsa_, crit))), 401) << "critical header extensions: " << last_;

  std::string t = token(*rsa_, "RS256", "rsa-1", claims(kReaderAlpha));
  size_t d1 = t.find('.'), d2 = t.rfind('.');
  std::string forged =
      t.substr(0, d1 + 1) + b64url(claims(R"("tenant":"alpha","roles":["tenant-admin"])")) + t.substr(d2);
  EXPECT_EQ(get(forged), 401) << "tampered payload: " << last_;
  std::string es = token(*ec_, "ES256", "ec-1", claims(kReaderAlpha));
  es[es.size() - 5] = es[es.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(get(es), 401) << "tampered signature: " << last_;

  EXPECT_EQ(get("not-a-token"), 401);
  EXPECT_EQ(get("a.b.c"), 401);
  EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", claims(kReaderAlpha + ",\"pad\":\"" + std::string(9000, 'x') + "\""))),
            401)
      << "oversized";
}

class JwtKeycloakClaims : public Jwt {
 protected:
  void SetUp() override { start({"--jwt-roles-claim", "realm_access.roles", "--jwt-tenant-claim", "allmende.tenant"}); }
};

TEST_F(JwtKeycloakClaims, RolesAndTenantFromNestedClaims) {
  std::string t =
      token(*rsa_, "RS256", "rsa-1",
            claims(R"("realm_access":{"roles":["offline_access","editor"]},"allmende":{"tenant":"alpha"})"));
  EXPECT_EQ(post(t, "k1"), 201) << last_;
  // The top-level claims of the default configuration are not read any more.
  EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", claims(kReaderAlpha))), 403) << last_;
}

// A JWKS endpoint on loopback: answers every GET with the current document and counts them.
class JwksServer {
 public:
  JwksServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~JwksServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  void setBody(std::string b) {
    std::lock_guard<std::mutex> lock(mu_);
    body_ = std::move(b);
  }
  int fetches() const { return fetches_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/realms/bayern/certs"; }

 private:
  void loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      std::string body;
      {
        std::lock_guard<std::mutex> lock(mu_);
        body = body_;
      }
      ++fetches_;
      std::string resp =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\nConnection: close\r\n\r\n" + body;
      ::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> fetches_{0};
  std::mutex mu_;
  std::string body_;
  std::thread thread_;
};

class JwtFromUrl : public Jwt {
 protected:
  void SetUp() override {}
  void startWithUrl(const std::string& cacheSeconds = "300") {
    setenv("ALLMENDE_ADMIN_KEY", kAdminKey, 1);
    server_ = std::make_unique<ServerProcess>(
        ALLMENDE_BINARY, dir_.path() + "/data",
        std::vector<std::string>{"--production", "--jwks-url", jwks_.url(), "--jwks-cache", cacheSeconds,
                                 "--jwt-issuer", kIssuer, "--jwt-audience", kAudience});
    if (!server_->ok()) return;
    client_ = std::make_unique<HttpClient>(server_->port());
    HttpResult r =
        client_->request("POST", "/admin/v1/tenants", {{"Content-Type", "application/json"}, {"X-API-Key", kAdminKey}},
                         R"({"name":"alpha","ags":"09162000"})");
    ASSERT_EQ(r.status, 201) << r.body;
  }
  JwksServer jwks_;
};

TEST_F(JwtFromUrl, KeysAreFetchedOnceAndCached) {
  jwks_.setBody(R"({"keys":[)" + jwk(*rsa_, "rsa-1") + "]}");
  startWithUrl();
  ASSERT_TRUE(server_->ok());
  EXPECT_EQ(jwks_.fetches(), 1);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", claims(kReaderAlpha + ",\"n\":" + std::to_string(i)))), 200) << last_;
  }
  EXPECT_EQ(jwks_.fetches(), 1) << "within --jwks-cache the set is not fetched again";
}

TEST_F(JwtFromUrl, AnUnknownKidRefetchesAtMostOncePerTenSeconds) {
  jwks_.setBody(R"({"keys":[)" + jwk(*rsa_, "rsa-1") + "]}");
  startWithUrl();
  ASSERT_TRUE(server_->ok());
  // The provider rotates to a new key; a token with its kid arrives right after start: the set
  // was fetched less than 10 s ago, so it is not fetched again and the token is refused.
  jwks_.setBody(R"({"keys":[)" + jwk(*ec_, "ec-2") + "]}");
  EXPECT_EQ(get(token(*ec_, "ES256", "ec-2", claims(kReaderAlpha))), 401) << last_;
  EXPECT_EQ(get(token(*ec_, "ES256", "ec-3", claims(kReaderAlpha))), 401) << last_;
  EXPECT_EQ(jwks_.fetches(), 1);
}

TEST_F(JwtFromUrl, AfterTheCachePeriodTheRotatedSetIsUsed) {
  jwks_.setBody(R"({"keys":[)" + jwk(*rsa_, "rsa-1") + "]}");
  startWithUrl("1");
  ASSERT_TRUE(server_->ok());
  jwks_.setBody(R"({"keys":[)" + jwk(*ec_, "ec-2") + "]}");
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // past --jwks-cache 1
  EXPECT_EQ(get(token(*ec_, "ES256", "ec-2", claims(kReaderAlpha))), 200) << last_;
  EXPECT_EQ(jwks_.fetches(), 2);
  // The old key is gone from the set: a new token signed with it is refused.
  EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", claims(kReaderAlpha + ",\"fresh\":1"))), 401) << last_;
}

TEST_F(JwtFromUrl, AnUnreachableJwksStopsTheStart) {
  // Nothing listens on the port the JWKS server had before it was destroyed.
  std::string url;
  {
    JwksServer gone;
    url = gone.url();
  }
  setenv("ALLMENDE_ADMIN_KEY", kAdminKey, 1);
  ServerProcess s(ALLMENDE_BINARY, dir_.path() + "/data2",
                  {"--production", "--jwks-url", url, "--jwt-issuer", kIssuer, "--jwt-audience", kAudience});
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace allmende::testing
