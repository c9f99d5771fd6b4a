// HTTP details of the open-data answers (issue 11): entity tags, Last-Modified, conditional
// requests (RFC 9110 13.1.2 If-None-Match, 13.1.3 If-Modified-Since) and gzip
// (Accept-Encoding, RFC 9110 12.5.3).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/time.h"
#include "http/message.h"

namespace allmende::api {

// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") of t, and back (nullopt when malformed).
std::string formatHttpDate(Micros t);
std::optional<Micros> parseHttpDate(std::string_view text);

// A strong entity tag of a representation: "\"<FNV-1a 64 hex of body and media type>\"".
std::string entityTag(std::string_view body, std::string_view mediaType);

// Finishes an answer of `request`: sets Content-Type, ETag, Last-Modified (when lastModified >
// 0), Cache-Control, Vary; answers 304 without a body when If-None-Match matches (weak
// comparison), or, without If-None-Match, when If-Modified-Since is not older than lastModified;
// gzips the body when the client accepts gzip and the body is larger than 1 KiB.
http::Response conditionalResponse(const http::Request& request, std::string body, std::string_view mediaType,
                                   Micros lastModified);

// A strong entity tag of a representation known by a fingerprint instead of its bytes.
std::string entityTag(uint64_t fingerprint, std::string_view mediaType);

// The same for a body sent as a stream (http::BodySource): the validators are given, since the
// body is not known yet. Gzips the stream (whatever its size) when the client accepts gzip.
http::Response streamedResponse(const http::Request& request, std::shared_ptr<http::BodySource> body,
                                std::string_view mediaType, const std::string& etag, Micros lastModified);

// Wraps a stream into its gzip (RFC 1952), compressed piece by piece.
std::shared_ptr<http::BodySource> gzipStream(std::shared_ptr<http::BodySource> inner);

// Whether an Accept-Encoding value accepts gzip (not with q=0).
bool acceptsGzip(std::string_view acceptEncoding);

// gzip of `in` (RFC 1952) at the default level.
std::string gzip(std::string_view in);

}  // namespace allmende::api
