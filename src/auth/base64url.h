// base64url without padding (RFC 4648 section 5), as JWS and JWK use it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace allmende::auth {

std::string base64UrlEncode(std::string_view bytes);
// nullopt on a character outside the alphabet, padding, or an impossible length.
std::optional<std::string> base64UrlDecode(std::string_view text);

}  // namespace allmende::auth
