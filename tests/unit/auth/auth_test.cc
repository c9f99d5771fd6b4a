// Pieces of auth/: base64url, API keys, JWKS parsing, role names.
#include <gtest/gtest.h>

#include "auth/api_key.h"
#include "auth/base64url.h"
#include "auth/jwk.h"
#include "auth/roles.h"

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

}  // namespace
}  // namespace allmende::auth
