#include "auth/jwt.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "auth/api_key.h"
#include "auth/base64url.h"
#include "common/json.h"

namespace allmende::auth {

namespace {

Status unauthorized(std::string detail) { return Status(ErrorType::kUnauthorized, std::move(detail)); }

// JWS ES256 signatures are r || s (32 bytes each, RFC 7518 3.4); OpenSSL verifies DER.
std::optional<std::string> es256ToDer(const std::string& raw) {
  if (raw.size() != 64) return std::nullopt;
  auto p = reinterpret_cast<const unsigned char*>(raw.data());
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(p, 32, nullptr);
  BIGNUM* s = BN_bin2bn(p + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool verifySignature(EVP_PKEY* key, std::string_view signingInput, const std::string& signature) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(signingInput.data()), signingInput.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

// The claim at a dotted path ("realm_access.roles"), or nullptr.
const Json* claimAt(const Json& claims, std::string_view path) {
  const Json* v = &claims;
  while (v && !path.empty()) {
    size_t dot = path.find('.');
    v = v->IsObject() ? findMember(*v, path.substr(0, dot)) : nullptr;
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  }
  return v;
}

bool audienceMatches(const Json* aud, const std::string& expected) {
  if (!aud) return false;
  if (aud->IsString()) return asView(*aud) == expected;
  if (!aud->IsArray()) return false;
  for (const auto& a : aud->GetArray()) {
    if (a.IsString() && asView(a) == expected) return true;
  }
  return false;
}

// Roles from a claim: an array of names or one space-separated string; unknown names are ignored.
RoleSet rolesOf(const Json* claim) {
  RoleSet roles;
  auto addName = [&](std::string_view n) {
    if (auto r = roleFromName(n)) roles.add(*r);
  };
  if (claim && claim->IsArray()) {
    for (const auto& r : claim->GetArray()) {
      if (r.IsString()) addName(asView(r));
    }
  } else if (claim && claim->IsString()) {
    std::string_view s = asView(*claim);
    while (!s.empty()) {
      size_t sp = s.find(' ');
      addName(s.substr(0, sp));
      s = sp == std::string_view::npos ? std::string_view() : s.substr(sp + 1);
    }
  }
  return roles;
}

// RFC 7519 2: a NumericDate is seconds since the epoch, possibly fractional. Clamped to 1e12 s
// either way (beyond the year 30000) so that microseconds cannot overflow.
int64_t numericDate(const Json& v) { return static_cast<int64_t>(std::clamp(v.GetDouble(), -1e12, 1e12)); }

Status checkTimes(const Json& claims, Micros now, int leewaySeconds, Micros& expires) {
  const Json* exp = findMember(claims, "exp");
  if (!exp || !exp->IsNumber()) return unauthorized("the token has no exp claim");
  int64_t nowS = now / 1000000;
  expires = (numericDate(*exp) + leewaySeconds) * 1000000;
  if (expires <= now) return unauthorized("the token has expired");
  const Json* nbf = findMember(claims, "nbf");
  if (nbf && (!nbf->IsNumber() || numericDate(*nbf) - leewaySeconds > nowS)) {
    return unauthorized("the token is not valid yet (nbf)");
  }
  return Status::ok();
}

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorType::kServiceUnavailable, "cannot read the JWKS file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Result<std::unique_ptr<JwtVerifier>> JwtVerifier::create(JwtOptions options, const Clock& clock, FetchFn fetch) {
  if (options.issuer.empty() || options.audience.empty()) {
    return invalidRequest("JWT bearer tokens need an issuer and an audience to check");
  }
  if (options.jwksFile.empty() == options.jwksUrl.empty()) return invalidRequest("give one of a JWKS file or URL");
  if (!options.jwksUrl.empty() && !fetch) return invalidRequest("a JWKS URL needs an HTTP client");
  std::unique_ptr<JwtVerifier> v(new JwtVerifier(std::move(options), clock, std::move(fetch)));
  std::lock_guard<std::mutex> lock(v->mu_);
  ALLMENDE_RETURN_IF_ERROR(v->loadKeys());
  return v;
}

Status JwtVerifier::loadKeys() {  // REQUIRES(mu_)
  Result<std::string> text = options_.jwksFile.empty() ? fetch_(options_.jwksUrl) : readFile(options_.jwksFile);
  if (!text) return text.status();
  auto keys = parseJwks(*text);
  if (!keys) return keys.status();
  keys_ = std::move(keys).value();
  fetchedAt_ = clock_.now();
  return Status::ok();
}

std::vector<PublicKey> JwtVerifier::candidates(const std::string& alg, const std::string& kid) {
  const std::string kty = alg == "RS256" ? "RSA" : "EC";
  std::lock_guard<std::mutex> lock(mu_);  // a refetch holds it: verifications wait (cached tokens do not)
  auto select = [&] {
    std::vector<PublicKey> out;
    for (const auto& k : keys_) {
      if (k.kty != kty || (!k.alg.empty() && k.alg != alg)) continue;
      if (!kid.empty() && k.kid != kid) continue;
      out.push_back(k);
    }
    return out;
  };
  std::vector<PublicKey> found = select();
  if (options_.jwksUrl.empty()) return found;
  Micros now = clock_.now();
  Micros period = static_cast<Micros>(options_.jwksCacheSeconds) * 1000000;
  // Refetch when the set is stale, or (key rotation) when the kid is unknown -- then at most
  // every 10 s, so that tokens with invented kids cannot make us hammer the identity provider.
  bool stale = now - fetchedAt_ >= period;
  bool rotated = found.empty() && !kid.empty() && now - fetchedAt_ >= std::min<Micros>(period, 10 * 1000000);
  if (stale || rotated) {
    if (loadKeys().isOk())
      found = select();
    else
      fetchedAt_ = now;  // keep the old keys; try again next period
  }
  return found;
}

Result<Principal> JwtVerifier::verify(std::string_view token) {
  if (token.size() > options_.maxTokenBytes) return unauthorized("the token is too long");
  Micros now = clock_.now();
  {
    std::shared_lock<std::shared_mutex> lock(cacheMu_);
    auto it = cache_.find(token);
    if (it != cache_.end()) {
      // An expired token stays until an eviction sweep takes it; it is refused meanwhile.
      if (it->second.expires <= now) return unauthorized("the token has expired");
      if (!it->second.used.load(std::memory_order_relaxed)) it->second.used.store(true, std::memory_order_relaxed);
      return it->second.principal;
    }
  }
  Micros expires = 0;
  auto p = verifyUncached(token, expires);
  if (!p) return p;
  std::unique_lock<std::shared_mutex> lock(cacheMu_);
  if (cache_.size() >= options_.cacheEntries) evict(now);
  if (cache_.size() < options_.cacheEntries) {
    cache_.try_emplace(std::string(token), *p, expires);
  }
  return p;
}

size_t JwtVerifier::cachedTokens() {
  std::shared_lock<std::shared_mutex> lock(cacheMu_);
  return cache_.size();
}

bool JwtVerifier::isCached(std::string_view token) {
  std::shared_lock<std::shared_mutex> lock(cacheMu_);
  return cache_.find(token) != cache_.end();
}

void JwtVerifier::evict(Micros now) {
  const size_t capacity = options_.cacheEntries;
  if (capacity == 0) return;
  // Expired tokens, and tokens not used since the previous sweep; the others lose their mark.
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (it->second.expires <= now || !it->second.used.exchange(false, std::memory_order_relaxed)) {
      it = cache_.erase(it);
    } else {
      ++it;
    }
  }
  // Were (nearly) all in use, some go all the same, so that a sweep (a pass over the whole cache
  // under the exclusive lock) comes at most every capacity / 8 new tokens.
  const size_t keep = capacity - std::max<size_t>(1, capacity / 8);
  for (auto it = cache_.begin(); it != cache_.end() && cache_.size() > keep;) it = cache_.erase(it);
}

Result<Principal> JwtVerifier::verifyUncached(std::string_view token, Micros& expires) {
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    return unauthorized("the bearer token is neither an API key nor a JWS compact token");
  }
  auto headerText = base64UrlDecode(token.substr(0, d1));
  auto payloadText = base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1));
  auto signature = base64UrlDecode(token.substr(d2 + 1));
  if (!headerText || !payloadText || !signature) return unauthorized("the token is not valid base64url");
  JsonDocument header, claims;
  if (!parseJson(*headerText, header).isOk() || !header.IsObject() || !parseJson(*payloadText, claims).isOk() ||
      !claims.IsObject()) {
    return unauthorized("the token's header or claims are not JSON objects");
  }
  const Json* algV = findMember(header, "alg");
  std::string alg = algV && algV->IsString() ? std::string(asView(*algV)) : "";
  // RFC 8725 3.1: only the algorithms we expect; never "none", never HMAC with a public key.
  if (alg != "RS256" && alg != "ES256") return unauthorized("token algorithm '" + alg + "' is not accepted");
  // RFC 7515 4.1.11: extensions listed in "crit" must be understood; we understand none.
  if (findMember(header, "crit")) return unauthorized("the token has critical header extensions");
  const Json* kidV = findMember(header, "kid");
  std::string kid = kidV && kidV->IsString() ? std::string(asView(*kidV)) : "";
  std::string sig = *signature;
  if (alg == "ES256") {
    auto der = es256ToDer(sig);
    if (!der) return unauthorized("malformed ES256 signature");
    sig = std::move(*der);
  }
  std::string_view signingInput = token.substr(0, d2);
  bool verified = false;
  for (const auto& k : candidates(alg, kid)) {
    if ((verified = verifySignature(k.key.get(), signingInput, sig))) break;
  }
  if (!verified) return unauthorized("the token signature does not verify with any trusted key");
  ALLMENDE_RETURN_IF_ERROR(checkTimes(claims, clock_.now(), options_.leewaySeconds, expires));
  const Json* iss = findMember(claims, "iss");
  if (!iss || !iss->IsString() || asView(*iss) != options_.issuer) return unauthorized("wrong token issuer");
  if (!audienceMatches(findMember(claims, "aud"), options_.audience)) return unauthorized("wrong token audience");
  Principal p;
  p.method = "jwt";
  const Json* sub = findMember(claims, "sub");
  p.subject = sub && sub->IsString() ? std::string(asView(*sub)) : "";
  const Json* tenant = claimAt(claims, options_.tenantClaim);
  if (tenant && tenant->IsString()) p.tenant = std::string(asView(*tenant));
  p.roles = rolesOf(claimAt(claims, options_.rolesClaim));
  const Json* prefix = claimAt(claims, options_.entityPrefixClaim);
  if (prefix && prefix->IsString()) p.entityPrefix = std::string(asView(*prefix));
  if (p.roles.empty()) return Status(ErrorType::kForbidden, "the token carries no Allmende role");
  return p;
}

}  // namespace allmende::auth
