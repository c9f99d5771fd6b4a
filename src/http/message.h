// HTTP request and response as the rest of Allmende sees them: plain values, no Beast types.
#pragma once

#include <memory>
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

// A body made while it is sent, piece by piece, so that a large download takes constant memory.
// The server calls next() on one of its threads whenever the previous piece has been written.
class BodySource {
 public:
  enum class Step { kMore, kEnd, kFailed };
  virtual ~BodySource() = default;
  // Appends the next piece to `out` (it may append nothing). kMore: call again; kEnd: that was
  // the last piece; kFailed: the body cannot be completed -- the server then closes the
  // connection without the final chunk, so an HTTP/1.1 client sees a truncated body, never a
  // short one that looks complete (an HTTP/1.0 client cannot tell).
  virtual Step next(std::string& out) = 0;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body comes from here instead of `body`: sent with chunked transfer coding to
  // HTTP/1.1 clients (RFC 9112 7.1), to HTTP/1.0 clients until the connection closes.
  std::shared_ptr<BodySource> stream;

  void setHeader(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
};

// The response as bytes on the wire (RFC 9112): status line, `Server`, the response's headers,
// `Content-Length` (not for 1xx, 204 and 304, which have no body; `Transfer-Encoding: chunked`
// instead for a streamed body to HTTP/1.1) and, where the connection's persistence differs from
// the version's default, `Connection`; then the body, unless the request was HEAD. A streamed
// body is not included: the server sends it after these bytes (chunk() frames its pieces).
// A streamed body to an HTTP/1.0 client ends with the connection: keepAlive must be false then.
std::string serializeResponse(const Response& r, unsigned version, bool keepAlive, bool headRequest);

// Whether a streamed body of `r` follows its head on the wire (not for HEAD, 1xx, 204, 304).
bool streamsBody(const Response& r, bool headRequest);

// One chunk of a chunked body (RFC 9112 7.1): size in hex, CRLF, data, CRLF; appended to `out`.
// An empty `data` writes nothing (the zero-size chunk ends the body: see kLastChunk).
void appendChunk(std::string& out, std::string_view data);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// Percent-encodes everything but letters, digits, "-_.~" and the characters in `keep`.
std::string percentEncode(std::string_view in, std::string_view keep = "");
// Percent-decodes `in`; false on a malformed escape.
bool percentDecode(std::string_view in, std::string& out);
// Splits "a=1&b=2" into decoded pairs; false on a malformed escape.
bool parseQueryString(std::string_view qs, std::vector<std::pair<std::string, std::string>>& out);

}  // namespace allmende::http
