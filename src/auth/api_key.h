// API keys: high-entropy random secrets, shown once at creation and stored only as a SHA-256
// hash (a slow password hash adds nothing for 256-bit random keys and would cost every request).
#pragma once

#include <string>
#include <string_view>

struct evp_md_st;

namespace allmende::auth {

// A new key: "alm_" + 43 base64url characters (32 random bytes from OpenSSL's CSPRNG).
std::string newApiKey();
// A new public key id: "key-" + 12 hex digits.
std::string newKeyId();
// SHA-256, fetched from OpenSSL once.
const evp_md_st* sha256();
// Hex SHA-256 of the key text.
std::string hashApiKey(std::string_view key);
// Whether `token` looks like an Allmende API key (so a Bearer value is not taken for a JWT).
bool looksLikeApiKey(std::string_view token);
// Constant-time comparison of two equally long strings (false when lengths differ).
bool constantTimeEquals(std::string_view a, std::string_view b);

}  // namespace allmende::auth
