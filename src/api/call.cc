#include "api/call.h"

#include <algorithm>

#include "api/header_values.h"
#include "api/tenant_admission.h"
#include "ld/core_context.h"

namespace allmende::api {

namespace {

constexpr std::string_view kJsonLdContextRel = "http://www.w3.org/ns/json-ld#context";

}  // namespace

bool hasOption(const std::string* options, std::string_view name) {
  if (!options) return false;
  std::string_view s = *options;
  while (!s.empty()) {
    size_t comma = s.find(',');
    if (trimHeaderValue(s.substr(0, comma)) == name) return true;
    if (comma == std::string_view::npos) break;
    s = s.substr(comma + 1);
  }
  return false;
}

Status Call::resolveTenant(bool forWrite) {
  std::string_view t = request_.header("ngsild-tenant");
  if (t.empty()) t = request_.header("ngsi-ld-tenant");  // spelling used by some older clients
  if (t.empty()) {
    tenant_.clear();
    return Status::ok();
  }
  if (!isValidTenantName(t)) {
    return badRequestData("invalid NGSILD-Tenant '" + std::string(t.substr(0, 80)) +
                          "': use up to 64 letters, digits, '-', '_', '.', ':'");
  }
  tenant_ = std::string(t);
  if (services_.tenants) return admitTenant(services_, tenant_, forWrite);
  if (!forWrite && !services_.store.tenantExists(tenant_)) {
    return Status(ErrorType::kNonexistentTenant, "tenant '" + tenant_ + "' does not exist");
  }
  return Status::ok();
}

Status Call::negotiate(bool allowGeoJson) {
  std::string_view accept = request_.header("accept");
  if (accept.empty()) {
    responseType_ = MediaType::kJson;
    return Status::ok();
  }
  // Highest q wins; on a tie the first listed. */* and application/* mean application/json.
  std::optional<int> best = preferredMediaType(accept, [allowGeoJson](std::string_view type) -> std::optional<int> {
    if (type == "application/json" || type == "*/*" || type == "application/*")
      return static_cast<int>(MediaType::kJson);
    if (type == "application/ld+json") return static_cast<int>(MediaType::kJsonLd);
    if (type == "application/geo+json" && allowGeoJson) return static_cast<int>(MediaType::kGeoJson);
    return std::nullopt;
  });
  if (!best) {
    return Status(ErrorType::kNotAcceptable,
                  allowGeoJson ? "acceptable media types: application/json, application/ld+json, application/geo+json"
                               : "acceptable media types: application/json, application/ld+json");
  }
  responseType_ = static_cast<MediaType>(*best);
  return Status::ok();
}

Status Call::parseBody() {
  std::string type = mediaTypeOfHeader(request_.header("content-type"));
  bool ld = type == "application/ld+json";
  if (!ld && type != "application/json" && type != "application/merge-patch+json") {
    return Status(ErrorType::kUnsupportedMediaType,
                  "Content-Type must be application/json or application/ld+json, not '" + type + "'");
  }
  ALLMENDE_RETURN_IF_ERROR(parseJson(request_.body, body_, services_.options.json));
  const Json* bodyContext = body_.IsObject() ? findMember(body_, "@context") : nullptr;
  // NGSI-LD 6.3.5: with application/ld+json the @context is in the body and a Link header is an
  // error; with application/json it comes from the Link header and may not be in the body.
  if (ld) {
    if (request_.hasHeader("link")) return badRequestData("a Link header is not allowed with application/ld+json");
    if (body_.IsArray()) return resolveContext(nullptr);  // batch: each entity carries its @context
    if (!bodyContext) return badRequestData("application/ld+json payload without @context");
    return resolveContext(bodyContext);
  }
  if (bodyContext) return badRequestData("@context in an application/json payload: use application/ld+json");
  return resolveContextFromLink();
}

Status Call::resolveContextFromLink() {
  std::string url;
  if (!contextLinkUrl(request_.header("link"), url)) return badRequestData("malformed Link header");
  if (url.empty()) return resolveContext(nullptr);
  auto ctx = services_.contexts.resolveUrl(url);
  if (!ctx) return ctx.status();
  context_ = *ctx;
  linkUrl_ = url;
  contextJson_ = "\"" + url + "\"";
  return Status::ok();
}

Status Call::resolveContext(const Json* bodyContext) {
  if (!bodyContext) {
    context_ = services_.contexts.core();
    linkUrl_ = std::string(ld::kCoreContextUrl);
    contextJson_ = "\"" + linkUrl_ + "\"";
    return Status::ok();
  }
  auto ctx = services_.contexts.resolve(*bodyContext);
  if (!ctx) return ctx.status();
  context_ = *ctx;
  contextJson_ = toJsonString(*bodyContext);
  linkUrl_ = bodyContext->IsString() ? std::string(asView(*bodyContext)) : std::string(ld::kCoreContextUrl);
  return Status::ok();
}

std::string Call::embeddedContext() const { return responseType_ == MediaType::kJsonLd ? contextJson_ : std::string(); }

http::Response Call::jsonResponse(int status, std::string json) const {
  http::Response r;
  r.status = status;
  switch (responseType_) {
    case MediaType::kJsonLd:
      r.setHeader("Content-Type", "application/ld+json");
      break;
    case MediaType::kGeoJson:
      r.setHeader("Content-Type", "application/geo+json");
      r.setHeader("Link",
                  "<" + linkUrl_ + ">; rel=\"" + std::string(kJsonLdContextRel) + "\"; type=\"application/ld+json\"");
      break;
    case MediaType::kJson:
      r.setHeader("Content-Type", "application/json");
      r.setHeader("Link",
                  "<" + linkUrl_ + ">; rel=\"" + std::string(kJsonLdContextRel) + "\"; type=\"application/ld+json\"");
      break;
  }
  r.body = std::move(json);
  return r;
}

}  // namespace allmende::api
