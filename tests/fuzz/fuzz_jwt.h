// Shared by the fuzz harnesses that see JWTs (jwt_fuzz.cc, router_fuzz.cc): an RSA key made for
// the fuzzers alone (generated for them, trusted by nothing else), its JWKS, and RS256 signing,
// so that a harness can hand the verifier tokens whose signature verifies and reach the claim
// checks behind it. Seeds may hold tokens signed with it (tests/fuzz/corpus/router_fuzz).
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <string>
#include <string_view>

#include "auth/base64url.h"

namespace allmende::fuzz {

inline constexpr const char* kFuzzKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDBsuf/B+kcYGBz\n"
    "62xIIWESEA/2pz5nzBfNz/bFLD7hHG3PyfiwOMUeXcZBgPgN75qXe2tqNqA2D38q\n"
    "mP3P2CkNFQ2oKfwoDmwZJxwdExMt+2Ca6bU3E9n8kwUo2v8tzmg6HN0Kpi48F0yR\n"
    "DLi88K6wJt2AkqklmQRxeblH8Fydfm0crT3SayClem3ceH8tc2hBtmQeYic65NdF\n"
    "vOG1nF99B2CisirHU6b9nbY1IVQTC1eP97cdmVjGkQ9UQ4YjLJ+uWVqJ//ra2ymy\n"
    "jEk+Z9mTjWykazGKLrZXwy+emxVnBEUVAZCEi13Xk52/REGe13pxx/91virIDyU6\n"
    "Fvjsc7lVAgMBAAECggEABHInDY1ArkBPDnIVpO0xNXEtcJ+jmM3QMQ7oLtvmYJPe\n"
    "uGF+JgtTiPAllAzSBL3eakIws7onwL3n0RI8ZygivxRf4R9/lGrKU+R4Knms28YU\n"
    "kFGzcV1xCDFWsbqfF03Qyh6t+yfX0VTGkuC8H8gVdmEZ/fC/1adWuQUOeeZ8Nbgu\n"
    "JlFkxZDdj1KfBswC622LAo5GdAnA45BQX+d1HOG/ImI2Qy7Phn6S/BwbmuNZGQSM\n"
    "deQS7lWqRmgphsVJlTtGIPm+YwkqUz1qdX313tfP95qpco7Q/umraHGYzX08adLJ\n"
    "/o6GhCjv9K70UV315NCvV/5dwxCQfjAz9bxTlUiCkQKBgQDyJ9ZV9Ibb2tFcA2AO\n"
    "KWEjlti1WqPIDB1Sh8aTapTULnxYRlxlqg4DwaqcDmrBSjzTJnwQXleMeW+pT74n\n"
    "JQLKC5FhNj9M1Q7AH7SEbv2sMg7oSxAichms5YPLnKBMbVk8ZS8GOkaVcdfnnpbR\n"
    "4t+3QW5O6bSioNqYmecWJSBOhQKBgQDMxdx2yTvDwoDYw9vGwbStZjDGEbILvQTh\n"
    "abTzvV/zxyUcHrdAEDGEUHvPDtpQhTfzQUVkj5bJWnVErET7LSif248ywmf+qeaA\n"
    "eqXX0blCoCSF7atKtGk5P7O2XMQ3CC82k+im2XygTGQb1+BR3MzObuZjgfu8snfK\n"
    "HYWP4U5AkQKBgD6xL51rRCrRONiQiyK/dcWn/QzenX5iHIlMW424zzUrn8ee17b+\n"
    "UsiIMCpc1Siblqm30fDO6+2TVuRHn9w0icdTPV0klTjIBBybWLncnlIhV5iuLkws\n"
    "rBcGCJwDPcDrommvbIA5QCLaqWHuve8yxGaGSw+lE73y1QUi+x/Rls6dAoGAF0WF\n"
    "QJquCBlau0fG+leZSPuMH3ZzXZIls9hnkCu9c972ALQc71Lnzbm32Fg/x1bcfPC2\n"
    "Ci+nW0rEeQF69XC0ZTZ2l7YwS2jToVZO8rAK9d9tRyszhFHsg20R52+zfO2ZMAKv\n"
    "NgcResYzulZWT/df7zX7SOPE0DUYGAgy3Z8lXYECgYEAjBV68hy9TKBhlPY+/P30\n"
    "DJg2A7gutV8Kaw82Tjm/rDeRW6vsKWtcqYcX8iwAWW+HodUVFc1EUMeEmmap7Ole\n"
    "PFCA22mAzsQqaMkUbv/HFdy+l9wk1qKe6C8JuFs4O7rfX0thfA79WUmP+YMaVJM2\n"
    "les2KcpG1Y/wU0lRUrc4Oa0=\n"
    "-----END PRIVATE KEY-----\n";

inline EVP_PKEY* fuzzKey() {
  static EVP_PKEY* key = [] {
    BIO* bio = BIO_new_mem_buf(kFuzzKeyPem, -1);
    EVP_PKEY* k = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    return k;
  }();
  return key;
}

inline std::string bigEndian(const char* param) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(fuzzKey(), param, &bn) != 1) return "";
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

// {"keys":[{"kty":"RSA","kid":"fuzz","n":...,"e":...}]}
inline std::string fuzzJwks() {
  return "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"fuzz\",\"n\":\"" +
         auth::base64UrlEncode(bigEndian(OSSL_PKEY_PARAM_RSA_N)) + "\",\"e\":\"" +
         auth::base64UrlEncode(bigEndian(OSSL_PKEY_PARAM_RSA_E)) + "\"}]}";
}

// The JWS compact serialization of `header` and `payload` (any bytes), signed RS256.
inline std::string signedToken(std::string_view header, std::string_view payload) {
  std::string input = auth::base64UrlEncode(header) + "." + auth::base64UrlEncode(payload);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  std::string sig;
  if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, fuzzKey()) == 1 &&
      EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1) {
    sig.resize(len);
    if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
      sig.clear();
    }
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  return input + "." + auth::base64UrlEncode(sig);
}

}  // namespace allmende::fuzz
