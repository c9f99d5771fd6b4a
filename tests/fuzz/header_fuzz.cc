// Request header values the API parses itself (api/header_values.h, api/open_http.h): Accept
// negotiation, Content-Type, the JSON-LD context Link, NGSILD-Tenant, Authorization, and the
// conditional-request validators If-None-Match / If-Modified-Since with Accept-Encoding.
// Input: newline-separated header values, in that order; the last field is a body. Never crash;
// every answer keeps its invariants (a qvalue in [0, 1], a chosen type is one offered, an IMF
// date formats and parses back, a 304 has no body).
#include "api/header_values.h"
#include "api/open_http.h"
#include "auth/api_key.h"
#include "auth/base64url.h"
#include "fuzz_input.h"

namespace {

using namespace allmende;

void accept(std::string_view value) {
  for (bool geo : {false, true}) {
    std::optional<int> best = api::preferredMediaType(value, [geo](std::string_view type) -> std::optional<int> {
      if (type == "application/json" || type == "*/*" || type == "application/*") return 0;
      if (type == "application/ld+json") return 1;
      if (type == "application/geo+json" && geo) return 2;
      return std::nullopt;
    });
    FUZZ_CHECK(!best || (*best >= 0 && *best <= (geo ? 2 : 1)));
  }
  double q = api::acceptQuality(value);
  FUZZ_CHECK(q >= 0 && q <= 1);
}

void link(std::string_view value) {
  std::string url;
  if (api::contextLinkUrl(value, url) && !url.empty()) {
    // The URL is what stood between the first '<' and '>' of the element.
    FUZZ_CHECK(url.find('>') == std::string::npos);
    FUZZ_CHECK(value.find(url) != std::string_view::npos);
  }
}

void authorization(std::string_view value) {
  if (auto token = api::bearerToken(value)) {
    FUZZ_CHECK(!token->empty() && token->front() != ' ' && token->back() != ' ');
    auth::looksLikeApiKey(*token);
    if (auto decoded = auth::base64UrlDecode(*token)) FUZZ_CHECK(decoded->size() <= token->size());
  }
}

void conditional(std::string_view ifNoneMatch, std::string_view ifModifiedSince, std::string_view acceptEncoding,
                 std::string_view body) {
  if (auto t = api::parseHttpDate(ifModifiedSince)) {
    auto again = api::parseHttpDate(api::formatHttpDate(*t));
    FUZZ_CHECK(again && *again == *t);
  }
  api::acceptsGzip(acceptEncoding);
  http::Request request;
  request.method = "GET";
  request.path = "/open/v1/datasets";
  request.headers = {{"if-none-match", std::string(ifNoneMatch)},
                     {"if-modified-since", std::string(ifModifiedSince)},
                     {"accept-encoding", std::string(acceptEncoding)}};
  // 1994-11-06T08:49:37Z, the example date of RFC 9110.
  http::Response r = api::conditionalResponse(request, std::string(body), "application/json", 784111777000000);
  FUZZ_CHECK(r.status == 200 || r.status == 304);
  if (r.status == 304) FUZZ_CHECK(r.body.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = fuzz::fields(fuzz::asText(data, size), 8);
  accept(f[0]);
  api::mediaTypeOfHeader(f[1]);
  link(f[2]);
  if (api::isValidTenantName(f[3])) FUZZ_CHECK(f[3].size() <= 64 && f[3].find('/') == std::string_view::npos);
  authorization(f[4]);
  conditional(f[5], f[6], f[0], f[7]);
  return 0;
}
