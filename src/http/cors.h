// CORS (the Fetch standard's CORS protocol): which web origins a browser lets call the API.
// Plain values in, headers out; the server applies it to every request.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "http/message.h"

namespace allmende::http {

struct CorsPolicy {
  // Allowed origins as browsers send them ("https://app.example.org"); "*" allows any.
  // Empty: no CORS headers at all (browsers then refuse cross-origin calls).
  std::vector<std::string> origins;

  bool enabled() const { return !origins.empty(); }
  bool allows(std::string_view origin) const;
};

// For a preflight request (OPTIONS with Origin and Access-Control-Request-Method) the answer:
// 204 with the allowed methods and headers when the origin is allowed, else the Status to answer
// with (403). nullopt when `r` is not a preflight or the policy is not enabled.
std::optional<Result<Response>> corsPreflight(const CorsPolicy& policy, const Request& r);

// Adds Access-Control-Allow-Origin (and the exposed headers) when `r` comes from an allowed
// origin; always adds `Vary: Origin` when the policy is enabled.
void addCorsHeaders(const CorsPolicy& policy, const Request& r, Response& out);

}  // namespace allmende::http
