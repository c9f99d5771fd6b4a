#include "auth/jwk.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "auth/base64url.h"
#include "common/json.h"

namespace allmende::auth {

namespace {

struct Deleter {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Deleter>;

std::optional<std::string> member(const Json& jwk, std::string_view name) {
  const Json* v = findMember(jwk, name);
  if (!v || !v->IsString()) return std::nullopt;
  return std::string(asView(*v));
}

std::optional<std::string> decodedMember(const Json& jwk, std::string_view name) {
  auto text = member(jwk, name);
  if (!text) return std::nullopt;
  return base64UrlDecode(*text);
}

std::shared_ptr<EVP_PKEY> fromParams(const char* type, OSSL_PARAM_BLD* bld) {
  Owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld));
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

BIGNUM* toBignum(const std::string& bytes) {
  return BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr);
}

std::shared_ptr<EVP_PKEY> rsaKey(const Json& jwk) {
  auto n = decodedMember(jwk, "n"), e = decodedMember(jwk, "e");
  if (!n || !e || n->size() < 256) return nullptr;  // RS256 keys of less than 2048 bits are refused
  Owned<BIGNUM> bn(toBignum(*n)), be(toBignum(*e));
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bn || !be || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, be.get()) != 1) {
    return nullptr;
  }
  return fromParams("RSA", bld.get());
}

std::shared_ptr<EVP_PKEY> ecKey(const Json& jwk) {
  if (member(jwk, "crv") != "P-256") return nullptr;
  auto x = decodedMember(jwk, "x"), y = decodedMember(jwk, "y");
  if (!x || !y || x->size() != 32 || y->size() != 32) return nullptr;
  std::string point = "\x04" + *x + *y;  // uncompressed SEC1 point
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return nullptr;
  }
  return fromParams("EC", bld.get());
}

}  // namespace

Result<std::vector<PublicKey>> parseJwks(std::string_view json) {
  JsonDocument doc;
  ALLMENDE_RETURN_IF_ERROR(parseJson(json, doc));
  const Json* keys = doc.IsObject() ? findMember(doc, "keys") : nullptr;
  if (!keys || !keys->IsArray()) return badRequestData("a JWKS document is an object with a \"keys\" array");
  std::vector<PublicKey> out;
  for (const auto& jwk : keys->GetArray()) {
    if (!jwk.IsObject()) continue;
    if (auto use = member(jwk, "use"); use && *use != "sig") continue;
    PublicKey k;
    k.kid = member(jwk, "kid").value_or("");
    k.kty = member(jwk, "kty").value_or("");
    k.alg = member(jwk, "alg").value_or("");
    if (k.kty == "RSA")
      k.key = rsaKey(jwk);
    else if (k.kty == "EC")
      k.key = ecKey(jwk);
    if (k.key) out.push_back(std::move(k));
  }
  if (out.empty()) return badRequestData("the JWKS holds no usable RSA (>= 2048 bits) or EC P-256 key");
  return out;
}

}  // namespace allmende::auth
