#include "http/cors.h"

#include <algorithm>

namespace allmende::http {

namespace {
// The methods and request headers the API uses; the response headers a script may read.
constexpr const char* kMethods = "GET, POST, PATCH, PUT, DELETE, HEAD, OPTIONS";
constexpr const char* kHeaders =
    "Accept, Authorization, Content-Type, Link, NGSILD-Tenant, NGSI-LD-Tenant, X-API-Key, If-None-Match, "
    "If-Modified-Since";
constexpr const char* kExposed =
    "Link, Location, NGSILD-Results-Count, NGSILD-Tenant, Content-Range, ETag, Last-Modified, Retry-After";
constexpr int kPreflightMaxAgeSeconds = 600;
}  // namespace

bool CorsPolicy::allows(std::string_view origin) const {
  if (origin.empty()) return false;
  return std::any_of(origins.begin(), origins.end(), [&](const std::string& o) { return o == "*" || o == origin; });
}

std::optional<Result<Response>> corsPreflight(const CorsPolicy& policy, const Request& r) {
  if (!policy.enabled() || r.method != "OPTIONS" || !r.hasHeader("origin") ||
      !r.hasHeader("access-control-request-method")) {
    return std::nullopt;
  }
  std::string_view origin = r.header("origin");
  if (!policy.allows(origin)) {
    return Result<Response>(Status(ErrorType::kForbidden, "origin " + std::string(origin) + " is not allowed (CORS)"));
  }
  Response out;
  out.status = 204;
  out.setHeader("Access-Control-Allow-Origin", std::string(origin));
  out.setHeader("Access-Control-Allow-Methods", kMethods);
  out.setHeader("Access-Control-Allow-Headers", kHeaders);
  out.setHeader("Access-Control-Max-Age", std::to_string(kPreflightMaxAgeSeconds));
  out.setHeader("Vary", "Origin");
  return Result<Response>(std::move(out));
}

void addCorsHeaders(const CorsPolicy& policy, const Request& r, Response& out) {
  if (!policy.enabled()) return;
  out.setHeader("Vary", "Origin");
  std::string_view origin = r.header("origin");
  if (!policy.allows(origin)) return;
  // The origin itself rather than "*": answers differ per origin, hence Vary.
  out.setHeader("Access-Control-Allow-Origin", std::string(origin));
  out.setHeader("Access-Control-Expose-Headers", kExposed);
}

}  // namespace allmende::http
