// Verification of OIDC / JWT bearer tokens (RFC 7519, JWS compact serialization RFC 7515) so a
// state's Keycloak (or any OpenID provider) can issue the tokens: RS256 and ES256 only (no
// "none", no HMAC: a shared secret would let every service mint tokens), keys from a JWKS file
// or URL, `iss`, `aud`, `exp` (required) and `nbf` checked, tenant and roles from claims.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/jwk.h"
#include "auth/roles.h"
#include "common/status.h"
#include "common/time.h"

namespace allmende::auth {

struct JwtOptions {
  std::string jwksFile;  // path of a JWKS document, or
  std::string jwksUrl;   // its URL (fetched at start and again after jwksCacheSeconds)
  std::string issuer;    // required `iss`
  std::string audience;  // required member of `aud`
  // Claim paths (dots descend into objects: Keycloak puts roles in "realm_access.roles").
  std::string tenantClaim = "tenant";
  std::string rolesClaim = "roles";
  std::string entityPrefixClaim = "entity_prefix";  // device tokens: ids they may write start so
  int leewaySeconds = 30;                           // clock skew allowed on exp and nbf
  int jwksCacheSeconds = 300;  // lifetime of a fetched JWKS; an unknown kid refetches at most this often
  size_t maxTokenBytes = 8192;
  size_t cacheEntries = 10000;  // verified tokens remembered (until their exp; the least used go first)
};

// Returns the body of the document at a URL (the app passes the HTTP client of ld/).
using FetchFn = std::function<Result<std::string>(const std::string& url)>;

class JwtVerifier {
 public:
  // Loads the keys (file or URL). Fails when none can be loaded or issuer/audience are missing.
  static Result<std::unique_ptr<JwtVerifier>> create(JwtOptions options, const Clock& clock, FetchFn fetch = {});

  // The principal of a valid token; Unauthorized with the reason otherwise. Thread-safe.
  // A token verified before is answered from a cache until its exp (a signature check costs
  // ~30 us of CPU, more than the rest of a retrieval); its exp is checked at every use.
  Result<Principal> verify(std::string_view token);

  // Tokens in the cache (at most options.cacheEntries), and whether it holds this one (tests).
  size_t cachedTokens();
  bool isCached(std::string_view token);

 private:
  JwtVerifier(JwtOptions options, const Clock& clock, FetchFn fetch)
      : options_(std::move(options)), clock_(clock), fetch_(std::move(fetch)) {}
  Status loadKeys();
  // The keys to try for a token with this alg and kid; refetches a URL set when stale or when
  // the kid is unknown (key rotation), at most once per jwksCacheSeconds.
  std::vector<PublicKey> candidates(const std::string& alg, const std::string& kid);
  Result<Principal> verifyUncached(std::string_view token, Micros& expires);

  JwtOptions options_;
  const Clock& clock_;
  FetchFn fetch_;
  std::mutex mu_;
  std::vector<PublicKey> keys_;  // GUARDED_BY(mu_)
  Micros fetchedAt_ = 0;         // GUARDED_BY(mu_)
  struct Verified {
    Principal principal;
    Micros expires;
    // Set by every use after the first, cleared by an eviction sweep that passes it over: the
    // cache keeps the tokens in use and drops those seen once first (a second-chance
    // approximation of least-recently-used that a lookup can mark under the shared lock).
    mutable std::atomic<bool> used{false};
    Verified(Principal p, Micros e) : principal(std::move(p)), expires(e) {}
  };
  // Hashes a token by its last bytes (its signature: distinct for every token the cache holds,
  // which are all verified), so that a lookup neither copies nor hashes the whole token.
  struct TokenHash {
    using is_transparent = void;
    size_t operator()(std::string_view token) const {
      constexpr size_t kTail = 32;
      return std::hash<std::string_view>{}(token.substr(token.size() > kTail ? token.size() - kTail : 0)) ^
             token.size();
    }
  };
  // Makes room when the cache is full: expired tokens go, then those not used since the last
  // sweep, then (all in use) enough others for capacity / 8 new ones. REQUIRES(cacheMu_) exclusively.
  void evict(Micros now);
  // Lookups share it (every authenticated request takes it: an exclusive lock made the HTTP
  // threads wait for each other); inserts and evictions hold it alone.
  std::shared_mutex cacheMu_;
  // By token. GUARDED_BY(cacheMu_)
  std::unordered_map<std::string, Verified, TokenHash, std::equal_to<>> cache_;
};

}  // namespace allmende::auth
