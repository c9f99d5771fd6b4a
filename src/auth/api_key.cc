#include "auth/api_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <stdexcept>

#include "auth/base64url.h"

namespace allmende::auth {

namespace {
constexpr std::string_view kPrefix = "alm_";

std::string randomBytes(size_t n) {
  std::string b(n, '\0');
  // Failure of the system's CSPRNG is not an expected condition: no key may come from it.
  if (RAND_bytes(reinterpret_cast<unsigned char*>(b.data()), static_cast<int>(n)) != 1) std::abort();
  return b;
}

std::string hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}
}  // namespace

std::string newApiKey() { return std::string(kPrefix) + base64UrlEncode(randomBytes(32)); }

std::string newKeyId() {
  std::string b = randomBytes(6);
  return "key-" + hex(reinterpret_cast<const unsigned char*>(b.data()), b.size());
}

const EVP_MD* sha256() {
  // Fetched once: OpenSSL 3 looks EVP_sha256() up in its provider tables (under a lock) at every
  // use otherwise, which cost more than the hash itself on every authenticated request.
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

std::string hashApiKey(std::string_view key) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(key.data(), key.size(), md, &len, sha256(), nullptr);
  return hex(md, len);
}

bool looksLikeApiKey(std::string_view token) { return token.substr(0, kPrefix.size()) == kPrefix; }

bool constantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace allmende::auth
