// JWT bearer tokens (auth/jwt.h): a token as sent, and a token made of a fuzzed JOSE header and
// fuzzed claims that the harness signs with the fuzz key (fuzz_jwt.h), so that the claim checks
// behind the signature (exp, nbf, iss, aud, tenant and roles by dotted paths) see hostile
// values too. Input: newline-separated fields: token, JOSE header, claims. Never crash; a
// verified principal always has a role and came from a token whose signature verifies; asking
// again (the cache) answers the same.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "auth/jwt.h"
#include "fuzz_input.h"
#include "fuzz_jwt.h"

namespace {

using namespace allmende;

class FixedClock : public Clock {
 public:
  Micros now() const override { return 1767225600LL * 1000000; }  // 2026-01-01T00:00:00Z
};

FixedClock gClock;
std::unique_ptr<auth::JwtVerifier> gVerifier;

void check(std::string_view token) {
  auto first = gVerifier->verify(token);
  auto again = gVerifier->verify(token);
  FUZZ_CHECK(first.isOk() == again.isOk());
  if (!first) return;
  FUZZ_CHECK(!first->roles.empty());
  FUZZ_CHECK(first->method == "jwt");
  FUZZ_CHECK(first->subject == again->subject && first->tenant == again->tenant &&
             first->roles.toString() == again->roles.toString());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char dir[] = "/tmp/allmende-jwt-fuzz-XXXXXX";
  if (!mkdtemp(dir)) return 0;
  std::string jwks = std::string(dir) + "/jwks.json";
  FILE* f = fopen(jwks.c_str(), "w");
  std::string text = fuzz::fuzzJwks();
  fwrite(text.data(), 1, text.size(), f);
  fclose(f);
  auth::JwtOptions o;
  o.jwksFile = jwks;
  o.issuer = "https://idp.fuzz";
  o.audience = "allmende";
  o.rolesClaim = "realm_access.roles";
  o.cacheEntries = 64;  // the bound is reached and the cache starts over now and then
  auto v = auth::JwtVerifier::create(o, gClock);
  if (!v) __builtin_trap();
  gVerifier = std::move(v).value();
  unlink(jwks.c_str());
  rmdir(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = fuzz::fields(fuzz::asText(data, size), 3);
  check(f[0]);
  if (!f[1].empty() || !f[2].empty()) check(fuzz::signedToken(f[1], f[2]));
  return 0;
}
