#include "api/call.h"

#include <algorithm>

#include "api/tenant_admission.h"
#include "ld/core_context.h"

namespace allmende::api {

namespace {

constexpr std::string_view kJsonLdContextRel = "http://www.w3.org/ns/json-ld#context";
constexpr size_t kMaxTenantLength = 64;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The media type of a Content-Type or Accept element, without parameters, lower case.
std::string mediaTypeOf(std::string_view v) { return lower(trim(v.substr(0, v.find(';')))); }

// The q parameter of an Accept element (RFC 9110 12.4.2), 1 when absent. Only a parameter named
// exactly "q" counts (not e.g. "aq=" inside another parameter).
double qualityOf(std::string_view item) {
  size_t semi = item.find(';');
  while (semi != std::string_view::npos) {
    std::string_view rest = item.substr(semi + 1);
    size_t next = rest.find(';');
    std::string_view param = trim(rest.substr(0, next));
    if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
      return std::atof(std::string(param.substr(2)).c_str());
    }
    semi = next == std::string_view::npos ? next : semi + 1 + next;
  }
  return 1.0;
}

// NGSI-LD tenant names: letters, digits and - _ . : (they name databases and URLs later).
bool isValidTenant(std::string_view t) {
  if (t.empty() || t.size() > kMaxTenantLength) return false;
  return std::all_of(t.begin(), t.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':';
  });
}

// The URL of the JSON-LD context Link header (RFC 8288), "" when absent; false when malformed.
bool contextLinkUrl(std::string_view header, std::string& url) {
  url.clear();
  if (header.empty()) return true;
  // Only the first link value with the JSON-LD context relation counts.
  while (!header.empty()) {
    header = trim(header);
    if (header.front() != '<') return false;
    size_t close = header.find('>');
    if (close == std::string_view::npos) return false;
    std::string_view candidate = header.substr(1, close - 1);
    size_t next = header.find(",", close);
    std::string_view params = header.substr(close + 1, next == std::string_view::npos ? std::string_view::npos : next - close - 1);
    if (params.find(kJsonLdContextRel) != std::string_view::npos) {
      url = std::string(candidate);
      return true;
    }
    if (next == std::string_view::npos) break;
    header = header.substr(next + 1);
  }
  return true;
}

}  // namespace

bool isValidTenantName(std::string_view name) { return isValidTenant(name); }

bool hasOption(const std::string* options, std::string_view name) {
  if (!options) return false;
  std::string_view s = *options;
  while (!s.empty()) {
    size_t comma = s.find(',');
    if (trim(s.substr(0, comma)) == name) return true;
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
  if (!isValidTenant(t)) {
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
  double bestQ = -1;
  std::optional<MediaType> best;
  while (!accept.empty()) {
    size_t comma = accept.find(',');
    std::string_view item = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    std::string type = mediaTypeOf(item);
    double q = qualityOf(item);
    std::optional<MediaType> m;
    if (type == "application/json" || type == "*/*" || type == "application/*") m = MediaType::kJson;
    else if (type == "application/ld+json") m = MediaType::kJsonLd;
    else if (type == "application/geo+json" && allowGeoJson) m = MediaType::kGeoJson;
    if (m && q > 0 && q > bestQ) {
      bestQ = q;
      best = m;
    }
  }
  if (!best) {
    return Status(ErrorType::kNotAcceptable,
                  allowGeoJson ? "acceptable media types: application/json, application/ld+json, application/geo+json"
                               : "acceptable media types: application/json, application/ld+json");
  }
  responseType_ = *best;
  return Status::ok();
}

Status Call::parseBody() {
  std::string type = mediaTypeOf(request_.header("content-type"));
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
      r.setHeader("Link", "<" + linkUrl_ + ">; rel=\"" + std::string(kJsonLdContextRel) + "\"; type=\"application/ld+json\"");
      break;
    case MediaType::kJson:
      r.setHeader("Content-Type", "application/json");
      r.setHeader("Link", "<" + linkUrl_ + ">; rel=\"" + std::string(kJsonLdContextRel) + "\"; type=\"application/ld+json\"");
      break;
  }
  r.body = std::move(json);
  return r;
}

}  // namespace allmende::api
