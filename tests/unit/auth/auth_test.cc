// Pieces of auth/: base64url, API keys, JWKS parsing, role names, the cache of verified JWTs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "auth/api_key.h"
#include "auth/base64url.h"
#include "auth/jwk.h"
#include "auth/jwt.h"
#include "auth/roles.h"
#include "fuzz_jwt.h"

namespace allmende::auth {
namespace {

TEST(Base64Url, RoundTripsAllLengths) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(base64UrlDecode(base64UrlEncode(bytes)), bytes);
    bytes += static_cast<char>(i * 37 + 250);
  }
  EXPECT_EQ(base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Base64Url, RefusesPaddingForeignCharactersAndNonCanonicalTails) {
  EXPECT_FALSE(base64UrlDecode("YQ==").has_value());
  EXPECT_FALSE(base64UrlDecode("Y+Q").has_value());
  EXPECT_FALSE(base64UrlDecode("Y").has_value());
  EXPECT_FALSE(base64UrlDecode("YR").has_value());  // 'R' leaves non-zero bits
  EXPECT_EQ(base64UrlDecode("YQ"), "a");
}

TEST(ApiKey, KeysAreLongRandomAndHashedStably) {
  std::string a = newApiKey(), b = newApiKey();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 4u + 43u);
  EXPECT_TRUE(looksLikeApiKey(a));
  EXPECT_FALSE(looksLikeApiKey("eyJhbGciOi"));
  EXPECT_EQ(hashApiKey("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(constantTimeEquals("abc", "abc"));
  EXPECT_FALSE(constantTimeEquals("abc", "abd"));
  EXPECT_FALSE(constantTimeEquals("abc", "ab"));
}

TEST(Jwks, RefusesDocumentsWithoutUsableKeys) {
  EXPECT_FALSE(parseJwks("[]").isOk());
  EXPECT_FALSE(parseJwks(R"({"keys": []})").isOk());
  // A symmetric key is never a trusted key.
  EXPECT_FALSE(parseJwks(R"({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})").isOk());
  // An RSA key of 512 bits is too short.
  EXPECT_FALSE(parseJwks(R"({"keys": [{"kty": "RSA", "n": ")" + std::string(86, 'A') + R"(", "e": "AQAB"}]})").isOk());
  // An EC key on another curve.
  EXPECT_FALSE(parseJwks(R"({"keys": [{"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}]})").isOk());
}

TEST(Roles, NamesRoundTrip) {
  for (auto r : {Role::kPlatformAdmin, Role::kTenantAdmin, Role::kEditor, Role::kReader, Role::kDevice}) {
    EXPECT_EQ(roleFromName(roleName(r)), r);
  }
  EXPECT_FALSE(roleFromName("admin").has_value());
  RoleSet s;
  s.add(Role::kReader);
  s.add(Role::kEditor);
  EXPECT_EQ(s.toString(), "editor reader");
}

class StepClock : public Clock {
 public:
  Micros now() const override { return now_; }
  void advance(Micros by) { now_ += by; }

 private:
  Micros now_ = 1767225600LL * 1000000;  // 2026-01-01T00:00:00Z
};

// A verifier trusting the fuzz key, and tokens it signs.
class JwtCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/allmende-jwt-test-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir));
    dir_ = dir;
    std::string path = dir_ + "/jwks.json";
    FILE* f = std::fopen(path.c_str(), "w");
    std::string jwks = fuzz::fuzzJwks();
    std::fwrite(jwks.data(), 1, jwks.size(), f);
    std::fclose(f);
    JwtOptions o;
    o.jwksFile = path;
    o.issuer = "https://idp.test";
    o.audience = "allmende";
    o.leewaySeconds = 30;
    o.cacheEntries = 8;
    auto v = JwtVerifier::create(o, clock_);
    ASSERT_TRUE(v.isOk()) << v.status().toString();
    verifier_ = std::move(v).value();
  }
  void TearDown() override {
    unlink((dir_ + "/jwks.json").c_str());
    rmdir(dir_.c_str());
  }
  std::string token(const std::string& sub, int64_t expSeconds) {
    return fuzz::signedToken(R"({"alg":"RS256","kid":"fuzz"})",
                             R"({"iss":"https://idp.test","aud":"allmende","sub":")" + sub + R"(","exp":)" +
                                 std::to_string(expSeconds) + R"(,"tenant":"t","roles":["reader"]})");
  }
  int64_t nowSeconds() const { return clock_.now() / 1000000; }

  StepClock clock_;
  std::string dir_;
  std::unique_ptr<JwtVerifier> verifier_;
};

TEST_F(JwtCacheTest, ACachedTokenIsRefusedOnceItExpires) {
  std::string t = token("alice", nowSeconds() + 60);
  auto p = verifier_->verify(t);
  ASSERT_TRUE(p.isOk()) << p.status().toString();
  EXPECT_EQ(p->subject, "alice");
  EXPECT_TRUE(verifier_->isCached(t));
  clock_.advance(89LL * 1000000);  // exp + leeway - 1 s
  EXPECT_TRUE(verifier_->verify(t).isOk());
  clock_.advance(1LL * 1000000);  // exp + leeway
  auto late = verifier_->verify(t);
  ASSERT_FALSE(late.isOk());
  EXPECT_EQ(late.status().type(), ErrorType::kUnauthorized);
  EXPECT_NE(late.status().detail().find("expired"), std::string::npos) << late.status().detail();
}

// An exp far beyond any real date (found by jwt_fuzz: its microseconds overflowed int64) is
// accepted as the distant future, and one far in the past as expired.
TEST_F(JwtCacheTest, ExpirationsBeyondTheMicrosecondRangeAreClamped) {
  EXPECT_TRUE(verifier_->verify(token("far", 1893451893456030)).isOk());
  auto past = verifier_->verify(token("past", -1893451893456030));
  ASSERT_FALSE(past.isOk());
  EXPECT_NE(past.status().detail().find("expired"), std::string::npos) << past.status().detail();
}

TEST_F(JwtCacheTest, StaysWithinItsBoundAndKeepsTheTokensInUse) {
  std::string busy = token("busy", nowSeconds() + 3600);
  ASSERT_TRUE(verifier_->verify(busy).isOk());
  for (int i = 0; i < 100; ++i) {
    // A token in use all along, and one new token (seen once) after each of its uses.
    ASSERT_TRUE(verifier_->verify(busy).isOk());
    auto p = verifier_->verify(token("once-" + std::to_string(i), nowSeconds() + 3600));
    ASSERT_TRUE(p.isOk()) << p.status().toString();
    EXPECT_EQ(p->subject, "once-" + std::to_string(i));
    EXPECT_LE(verifier_->cachedTokens(), 8u);
    EXPECT_TRUE(verifier_->isCached(busy)) << "after " << i;
  }
}

TEST_F(JwtCacheTest, ExpiredTokensLeaveRoomFirst) {
  std::vector<std::string> shortLived;
  for (int i = 0; i < 7; ++i) {
    shortLived.push_back(token("short-" + std::to_string(i), nowSeconds() + 10));
    ASSERT_TRUE(verifier_->verify(shortLived.back()).isOk());
    ASSERT_TRUE(verifier_->verify(shortLived.back()).isOk());  // in use
  }
  std::string longLived = token("long", nowSeconds() + 3600);
  ASSERT_TRUE(verifier_->verify(longLived).isOk());
  ASSERT_TRUE(verifier_->verify(longLived).isOk());
  EXPECT_EQ(verifier_->cachedTokens(), 8u);
  clock_.advance(60LL * 1000000);  // the short-lived ones expired (leeway included)
  std::string next = token("next", nowSeconds() + 3600);
  ASSERT_TRUE(verifier_->verify(next).isOk());
  EXPECT_TRUE(verifier_->isCached(longLived));
  EXPECT_TRUE(verifier_->isCached(next));
  for (const auto& t : shortLived) EXPECT_FALSE(verifier_->isCached(t));
  EXPECT_EQ(verifier_->cachedTokens(), 2u);
}

}  // namespace
}  // namespace allmende::auth
