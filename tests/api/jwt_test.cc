// OIDC / JWT bearer tokens against the real server (issue 5): RS256 and ES256 tokens from a JWKS
// file, and the edge cases -- expired, wrong audience or issuer, wrong key, "alg": "none", HMAC
// with the public key, tampered payload or signature. Keys are generated here with OpenSSL.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>
#include <memory>
#include <string>

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
    return R"({"kty":"RSA","kid":")" + kid + R"(","use":"sig","n":")" + b64url(bnBytes(k.get(), OSSL_PKEY_PARAM_RSA_N, 0)) +
           R"(","e":")" + b64url(bnBytes(k.get(), OSSL_PKEY_PARAM_RSA_E, 0)) + "\"}";
  }
  return R"({"kty":"EC","crv":"P-256","kid":")" + kid + R"(","x":")" + b64url(bnBytes(k.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32)) +
         R"(","y":")" + b64url(bnBytes(k.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32)) + "\"}";
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

std::string claims(const std::string& extra, int64_t expIn = 300, const std::string& aud = std::string("\"") + kAudience + "\"") {
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
    other_ = new Key(rsaKey());
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ec_;
    delete other_;
  }
  void SetUp() override { start({}); }

  void start(std::vector<std::string> extra) {
    std::string jwks = dir_.path() + "/jwks.json";
    std::ofstream(jwks) << R"({"keys":[)" << jwk(*rsa_, "rsa-1") << "," << jwk(*ec_, "ec-1") << "]}";
    setenv("ALLMENDE_ADMIN_KEY", kAdminKey, 1);
    std::vector<std::string> args = {"--production", "--jwks-file", jwks, "--jwt-issuer", kIssuer,
                                     "--jwt-audience", kAudience};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ServerProcess>(ALLMENDE_BINARY, dir_.path() + "/data", args);
    ASSERT_TRUE(server_->ok());
    client_ = std::make_unique<HttpClient>(server_->port());
    for (const char* t : {"alpha", "beta"}) {
      HttpResult r = client_->request("POST", "/admin/v1/tenants",
                                      {{"Content-Type", "application/json"}, {"X-API-Key", kAdminKey}},
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
    HttpResult r = client_->request("POST", "/ngsi-ld/v1/entities",
                                    {{"Content-Type", "application/json"}, {"NGSILD-Tenant", "alpha"},
                                     {"Authorization", "Bearer " + bearer}},
                                    R"({"id":"urn:ngsi-ld:Car:)" + id + R"(","type":"Car","speed":1})");
    last_ = r.body;
    return r.status;
  }

  static Key* rsa_;
  static Key* ec_;
  static Key* other_;
  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
  std::string last_;
};
Key* Jwt::rsa_ = nullptr;
Key* Jwt::ec_ = nullptr;
Key* Jwt::other_ = nullptr;

const std::string kReaderAlpha = R"("tenant":"alpha","roles":["reader"])";
const std::string kEditorAlpha = R"("tenant":"alpha","roles":["editor"])";

TEST_F(Jwt, Rs256ReaderReadsItsTenantOnly) {
  std::string t = token(*rsa_, "RS256", "rsa-1", claims(kReaderAlpha));
  EXPECT_EQ(get(t), 200) << last_;
  EXPECT_EQ(post(t, "r1"), 403) << last_;
  EXPECT_EQ(get(t, "beta"), 403) << last_;
}

TEST_F(Jwt, Es256EditorWrites) {
  std::string t = token(*ec_, "ES256", "ec-1", claims(kEditorAlpha));
  EXPECT_EQ(post(t, "e1"), 201) << last_;
  EXPECT_EQ(get(t), 200) << last_;
}

TEST_F(Jwt, AudienceMayBeAnArrayHoldingOurs) {
  EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", claims(kReaderAlpha, 300, R"(["account","allmende"])"))), 200) << last_;
}

TEST_F(Jwt, RolesAsSpaceSeparatedString) {
  EXPECT_EQ(post(token(*rsa_, "RS256", "rsa-1", claims(R"("tenant":"alpha","roles":"reader editor")")), "s1"), 201) << last_;
}

TEST_F(Jwt, PlatformAdminTokenAdministers) {
  std::string t = token(*rsa_, "RS256", "rsa-1", claims(R"("roles":["platform-admin"])"));
  HttpResult r = client_->request("GET", "/admin/v1/tenants", {{"Authorization", "Bearer " + t}});
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(Jwt, ExpiredIs401) {
  EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", claims(kReaderAlpha, -120))), 401) << last_;
}

TEST_F(Jwt, MissingExpIs401) {
  std::string payload = R"({"iss":")" + std::string(kIssuer) + R"(","aud":"allmende",)" + kReaderAlpha + "}";
  EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", payload)), 401) << last_;
}

TEST_F(Jwt, NotYetValidIs401) {
  EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", claims(kReaderAlpha + ",\"nbf\":" + std::to_string(nowSeconds() + 3600)))), 401)
      << last_;
}

TEST_F(Jwt, WrongAudienceIs401) {
  EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", claims(kReaderAlpha, 300, "\"other-service\""))), 401) << last_;
}

TEST_F(Jwt, WrongIssuerIs401) {
  std::string payload = claims(kReaderAlpha);
  payload.replace(payload.find("bayern"), 6, "hessen");
  EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", payload)), 401) << last_;
}

TEST_F(Jwt, UnknownKeyWithTrustedKidIs401) {
  EXPECT_EQ(get(token(*other_, "RS256", "rsa-1", claims(kReaderAlpha))), 401) << last_;
}

TEST_F(Jwt, AlgNoneIs401) {
  std::string t = b64url(R"({"alg":"none","typ":"JWT"})") + "." + b64url(claims(kReaderAlpha)) + ".";
  EXPECT_EQ(get(t), 401) << last_;
}

TEST_F(Jwt, Hs256WithThePublicKeyAsSecretIs401) {
  // The classic algorithm confusion: HMAC keyed with the RSA public key a verifier might use.
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, rsa_->get());
  char* pem = nullptr;
  long len = BIO_get_mem_data(bio, &pem);
  std::string secret(pem, static_cast<size_t>(len));
  BIO_free(bio);
  std::string input = b64url(R"({"alg":"HS256","typ":"JWT","kid":"rsa-1"})") + "." + b64url(claims(kReaderAlpha));
  unsigned char mac[32];
  unsigned int macLen = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac, &macLen);
  EXPECT_EQ(get(input + "." + b64url(std::string(reinterpret_cast<char*>(mac), macLen))), 401) << last_;
}

TEST_F(Jwt, AlgOfTheKeyTypeMustMatch) {
  // An RS256 header on an EC signature (and the reverse) does not verify.
  std::string input = b64url(R"({"alg":"RS256","kid":"ec-1"})") + "." + b64url(claims(kReaderAlpha));
  EXPECT_EQ(get(input + "." + b64url(sign(*ec_, input))), 401) << last_;
}

TEST_F(Jwt, CriticalHeaderExtensionsAre401) {
  std::string input = b64url(R"({"alg":"RS256","kid":"rsa-1","crit":["exp"],"exp":1})") + "." + b64url(claims(kReaderAlpha));
  EXPECT_EQ(get(input + "." + b64url(sign(*rsa_, input))), 401) << last_;
}

TEST_F(Jwt, TamperedPayloadIs401) {
  std::string t = token(*rsa_, "RS256", "rsa-1", claims(kReaderAlpha));
  size_t d1 = t.find('.'), d2 = t.rfind('.');
  std::string forged = t.substr(0, d1 + 1) + b64url(claims(R"("tenant":"alpha","roles":["tenant-admin"])")) + t.substr(d2);
  EXPECT_EQ(get(forged), 401) << last_;
}

TEST_F(Jwt, TamperedSignatureIs401) {
  std::string t = token(*ec_, "ES256", "ec-1", claims(kReaderAlpha));
  t[t.size() - 5] = t[t.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(get(t), 401) << last_;
}

TEST_F(Jwt, GarbageAndOversizedTokensAre401) {
  EXPECT_EQ(get("not-a-token"), 401);
  EXPECT_EQ(get("a.b.c"), 401);
  EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", claims(kReaderAlpha + ",\"pad\":\"" + std::string(9000, 'x') + "\""))), 401);
}

TEST_F(Jwt, ValidTokenWithoutRoleIs403) {
  EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", claims(R"("tenant":"alpha","roles":["mayor"])"))), 403) << last_;
}

TEST_F(Jwt, DeviceTokenWritesOnlyUnderItsPrefix) {
  std::string t = token(*ec_, "ES256", "ec-1", claims(R"("tenant":"alpha","roles":["device"],"entity_prefix":"urn:ngsi-ld:Car:dev-")"));
  EXPECT_EQ(post(t, "dev-1"), 201) << last_;
  EXPECT_EQ(post(t, "other-1"), 403) << last_;
  EXPECT_EQ(get(t), 403) << last_;
  std::string noPrefix = token(*ec_, "ES256", "ec-1", claims(R"("tenant":"alpha","roles":["device"])"));
  EXPECT_EQ(post(noPrefix, "dev-2"), 403) << last_;
}

TEST_F(Jwt, TokenOfAnotherTenantIs403) {
  EXPECT_EQ(get(token(*rsa_, "RS256", "rsa-1", claims(R"("tenant":"beta","roles":["editor"])"))), 403) << last_;
}

class JwtKeycloakClaims : public Jwt {
 protected:
  void SetUp() override { start({"--jwt-roles-claim", "realm_access.roles", "--jwt-tenant-claim", "allmende.tenant"}); }
};

TEST_F(JwtKeycloakClaims, RolesAndTenantFromNestedClaims) {
  std::string t = token(*rsa_, "RS256", "rsa-1",
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
      std::string resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
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
        std::vector<std::string>{"--production", "--jwks-url", jwks_.url(), "--jwks-cache", cacheSeconds, "--jwt-issuer",
                                 kIssuer, "--jwt-audience", kAudience});
    if (!server_->ok()) return;
    client_ = std::make_unique<HttpClient>(server_->port());
    HttpResult r = client_->request("POST", "/admin/v1/tenants",
                                    {{"Content-Type", "application/json"}, {"X-API-Key", kAdminKey}},
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
