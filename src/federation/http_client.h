// The HTTP(S) client of distributed operations (NGSI-LD 4.3.6): sends requests to several
// context sources at once and waits for all of them, each within its own timeout and answer size
// limit. Every address a source's host resolves to passes the egress policy (common/egress.h)
// before it is connected to, as for notifications and remote @contexts.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/egress.h"
#include "common/status.h"

namespace allmende::federation {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpClientOptions {
  std::chrono::milliseconds timeout{5000};     // per request, from start to the last byte of the answer
  size_t maxBodyBytes = 16 << 20;              // a larger answer fails the request
  std::shared_ptr<const EgressPolicy> egress;  // null = any address
  std::string caFile;                          // extra CAs (PEM) for https sources; "" = system CAs only
};

struct OutboundRequest {
  std::string method;  // "GET", "POST", ...
  std::string url;     // absolute http:// or https:// URL with path and query
  Headers headers;     // Host, User-Agent and Content-Length are added
  std::string body;
  std::chrono::milliseconds timeout{0};  // 0 = HttpClientOptions::timeout
};

struct InboundResponse {
  int status = 0;
  Headers headers;  // names lower-cased
  std::string body;
  // The first header of that lower-case name, or "".
  std::string_view header(std::string_view lowerName) const;
};

// Sends every request in parallel (one thread, the caller's) and returns one result per request,
// in order. A request fails with ServiceUnavailable (connection refused, timeout, malformed or
// too large answer; the detail says which) or BadRequestData (URL refused by the egress policy or
// malformed); an HTTP error status is a successful exchange.
std::vector<Result<InboundResponse>> exchangeAll(const std::vector<OutboundRequest>& requests,
                                                 const HttpClientOptions& options);

// Splits an absolute http(s) URL; false when it is not one.
struct UrlParts {
  bool tls = false;
  std::string host;  // IPv6 without brackets
  std::string port;
  std::string target;  // path and query, starting with '/'
};
bool splitUrl(std::string_view url, UrlParts& out);

}  // namespace allmende::federation
