// HTTP request and response as the rest of Allmende sees them: plain values, no Beast types.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace allmende::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // percent-decoded path without the query string
  // The path as sent (still percent-encoded), so that routing can split segments before decoding
  // (an entity id may contain an encoded '/'). May be empty; then `path` is used.
  std::string rawPath;
  // Query parameters in order, percent-decoded ('+' is kept as '+': NGSI-LD scopeQ uses it).
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remoteAddress;

  // The first header of that (lower-case) name, or "" when absent.
  std::string_view header(std::string_view lowerName) const;
  bool hasHeader(std::string_view lowerName) const;
  // The first query parameter of that name; nullptr when absent.
  const std::string* param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  void setHeader(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
};

// The response as bytes on the wire (RFC 9112): status line, `Server`, the response's headers,
// `Content-Length` (not for 1xx, 204 and 304, which have no body) and, where the connection's
// persistence differs from the version's default, `Connection`; then the body, unless the
// request was HEAD.
std::string serializeResponse(const Response& r, unsigned version, bool keepAlive, bool headRequest);

// Percent-encodes everything but letters, digits, "-_.~" and the characters in `keep`.
std::string percentEncode(std::string_view in, std::string_view keep = "");
// Percent-decodes `in`; false on a malformed escape.
bool percentDecode(std::string_view in, std::string& out);
// Splits "a=1&b=2" into decoded pairs; false on a malformed escape.
bool parseQueryString(std::string_view qs, std::vector<std::pair<std::string, std::string>>& out);

}  // namespace allmende::http
