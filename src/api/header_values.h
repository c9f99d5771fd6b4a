// The request header values the API reads itself (Beast only frames them): Accept and
// Content-Type media types, the JSON-LD context Link, NGSILD-Tenant and Authorization. Pure
// functions over header text, in a small library of their own (allmende_api_headers, with
// open_http.cc) so that the fuzz harness tests/fuzz/header_fuzz.cc links without the whole API.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace allmende::api {

// `s` without leading and trailing spaces and tabs (RFC 9110 5.6.3 OWS).
std::string_view trimHeaderValue(std::string_view s);

// The media type of a Content-Type or Accept element, without parameters, lower case.
std::string mediaTypeOfHeader(std::string_view value);

// The q parameter of an Accept element (RFC 9110 12.5.1), 1 when absent, clamped to [0, 1]
// (NaN and malformed values count as 0). Only a parameter named exactly "q" counts.
double acceptQuality(std::string_view item);

// Accept negotiation (RFC 9110 12.5.1): `offer` maps a listed media type (lower case, without
// parameters) to what the server would answer with it, or nullopt. The answer of the element with
// the highest q > 0 wins, on a tie the first listed; nullopt when nothing listed is offered.
std::optional<int> preferredMediaType(std::string_view accept,
                                      const std::function<std::optional<int>(std::string_view type)>& offer);

// The URL of the JSON-LD context Link header (RFC 8288; NGSI-LD 6.3.5), "" when absent; false
// when malformed. Only the first link with rel="http://www.w3.org/ns/json-ld#context" counts.
bool contextLinkUrl(std::string_view header, std::string& url);

// NGSI-LD tenant names as Allmende accepts them: up to 64 letters, digits, '-', '_', '.', ':'
// (they name databases and URLs later).
bool isValidTenantName(std::string_view name);

// The token of an "Authorization: Bearer <token>" value (RFC 6750 2.1; the scheme is
// case-insensitive, RFC 9110 11.1), trimmed; nullopt for another scheme or no token.
std::optional<std::string_view> bearerToken(std::string_view authorization);

}  // namespace allmende::api
