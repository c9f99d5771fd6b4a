// Public keys of a JSON Web Key Set (RFC 7517): RSA ("kty": "RSA", n, e) and EC P-256
// ("kty": "EC", "crv": "P-256", x, y). Other keys in the set are skipped.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace allmende::auth {

struct PublicKey {
  std::string kid;  // "" when the JWK has none
  std::string kty;  // "RSA" or "EC"
  std::string alg;  // the JWK's "alg" if given ("RS256", "ES256"), else ""
  std::shared_ptr<EVP_PKEY> key;
};

// Parses a JWKS document ({"keys": [...]}). BadRequestData when it is not one or holds no
// usable key.
Result<std::vector<PublicKey>> parseJwks(std::string_view json);

}  // namespace allmende::auth
