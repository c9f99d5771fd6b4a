#include "api/open_http.h"

#include <zlib.h>

#include <cstdio>
#include <ctime>

namespace allmende::api {

namespace {

constexpr size_t kGzipMinBytes = 1024;

// The entity tags listed in an If-None-Match value, weak prefixes dropped; "*" kept.
bool noneMatchHits(std::string_view header, const std::string& tag, const std::string& gzipTag) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t comma = header.find(',', pos);
    std::string_view item = header.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.substr(0, 2) == "W/") item.remove_prefix(2);
    if (item == "*" || item == tag || item == gzipTag) return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
}

}  // namespace

bool acceptsGzip(std::string_view acceptEncoding) {
  size_t at = acceptEncoding.find("gzip");
  if (at == std::string_view::npos) return false;
  std::string_view rest = acceptEncoding.substr(at + 4, acceptEncoding.find(',', at) - at - 4);
  return rest.find("q=0") == std::string_view::npos || rest.find("q=0.") != std::string_view::npos;
}

std::string formatHttpDate(Micros t) {
  std::time_t secs = static_cast<std::time_t>(t / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::optional<Micros> parseHttpDate(std::string_view text) {
  std::string s(text);
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  // The whole value (a NUL inside it ends c_str() early) and a year Micros can hold.
  if (!end || end != s.c_str() + s.size() || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) return std::nullopt;
  return static_cast<Micros>(timegm(&tm)) * 1000000;
}

std::string entityTag(std::string_view body, std::string_view mediaType) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  mix(mediaType);
  mix(std::string_view("\0", 1));
  mix(body);
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

std::string gzip(std::string_view in) {
  z_stream z{};
  // windowBits 15 + 16: a gzip wrapper instead of zlib's.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out;
  out.resize(deflateBound(&z, in.size()));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string();
}

namespace {

// The caching headers of an answer with these validators; true when the request's conditions
// make it a 304 (RFC 9110 13.2.2: If-None-Match first, If-Modified-Since only without it).
bool validate(const http::Request& request, http::Response& r, const std::string& tag, const std::string& gzipTag,
              bool compressed, Micros lastModified) {
  r.setHeader("ETag", compressed ? gzipTag : tag);
  if (lastModified > 0) r.setHeader("Last-Modified", formatHttpDate(lastModified));
  r.setHeader("Cache-Control", "public, max-age=60");
  r.setHeader("Vary", "Accept, Accept-Encoding");
  if (request.hasHeader("if-none-match")) return noneMatchHits(request.header("if-none-match"), tag, gzipTag);
  if (lastModified > 0 && request.hasHeader("if-modified-since")) {
    auto since = parseHttpDate(request.header("if-modified-since"));
    return since && lastModified / 1000000 <= *since / 1000000;
  }
  return false;
}

std::string gzipTagOf(const std::string& tag) { return tag.substr(0, tag.size() - 1) + "-gz\""; }

class GzipSource : public http::BodySource {
 public:
  explicit GzipSource(std::shared_ptr<http::BodySource> inner) : inner_(std::move(inner)) {
    // windowBits 15 + 16: a gzip wrapper instead of zlib's.
    ok_ = deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~GzipSource() override {
    if (ok_) deflateEnd(&z_);
  }

  Step next(std::string& out) override {
    if (!ok_) return Step::kFailed;
    plain_.clear();
    Step step = inner_->next(plain_);
    if (step == Step::kFailed) return step;
    const int flush = step == Step::kEnd ? Z_FINISH : Z_NO_FLUSH;
    z_.next_in = reinterpret_cast<Bytef*>(plain_.data());
    z_.avail_in = static_cast<uInt>(plain_.size());
    int rc;
    do {
      char buf[32 << 10];
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof buf;
      rc = deflate(&z_, flush);
      if (rc == Z_STREAM_ERROR) return Step::kFailed;
      out.append(buf, sizeof buf - z_.avail_out);
    } while (z_.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    return step;
  }

 private:
  std::shared_ptr<http::BodySource> inner_;
  z_stream z_{};
  bool ok_ = false;
  std::string plain_;
};

}  // namespace

std::string entityTag(uint64_t fingerprint, std::string_view mediaType) {
  char hex[24];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fingerprint));
  return entityTag(std::string_view(hex), mediaType);
}

std::shared_ptr<http::BodySource> gzipStream(std::shared_ptr<http::BodySource> inner) {
  return std::make_shared<GzipSource>(std::move(inner));
}

http::Response conditionalResponse(const http::Request& request, std::string body, std::string_view mediaType,
                                   Micros lastModified) {
  http::Response r;
  std::string tag = entityTag(body, mediaType);
  bool compress =
      body.size() > kGzipMinBytes && body.size() < (1ULL << 31) && acceptsGzip(request.header("accept-encoding"));
  std::string compressed = compress ? gzip(body) : std::string();
  compress = !compressed.empty();
  if (validate(request, r, tag, gzipTagOf(tag), compress, lastModified)) {
    r.status = 304;
    return r;
  }
  r.setHeader("Content-Type", std::string(mediaType));
  if (compress) {
    r.setHeader("Content-Encoding", "gzip");
    r.body = std::move(compressed);
  } else {
    r.body = std::move(body);
  }
  return r;
}

http::Response streamedResponse(const http::Request& request, std::shared_ptr<http::BodySource> body,
                                std::string_view mediaType, const std::string& etag, Micros lastModified) {
  http::Response r;
  bool compress = acceptsGzip(request.header("accept-encoding"));
  if (validate(request, r, etag, gzipTagOf(etag), compress, lastModified)) {
    r.status = 304;
    return r;
  }
  r.setHeader("Content-Type", std::string(mediaType));
  if (compress) r.setHeader("Content-Encoding", "gzip");
  r.stream = compress ? gzipStream(std::move(body)) : std::move(body);
  return r;
}

}  // namespace allmende::api
