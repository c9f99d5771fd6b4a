// One API call: the HTTP request with what every NGSI-LD handler derives from it first — tenant,
// @context (6.3.5), negotiated response media type (6.3.4), parsed body — and the helpers that
// shape every answer the same way.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "api/header_values.h"
#include "api/services.h"
#include "auth/roles.h"
#include "http/message.h"
#include "ld/context.h"

namespace allmende::api {

enum class MediaType { kJson, kJsonLd, kGeoJson };

class Call {
 public:
  Call(http::Request& request, Services& services, std::map<std::string, std::string> pathParams)
      : request_(request), services_(services), pathParams_(std::move(pathParams)) {}

  http::Request& request() { return request_; }
  const http::Request& request() const { return request_; }
  Services& services() { return services_; }
  const Services& services() const { return services_; }
  const std::string& pathParam(const std::string& name) const { return pathParams_.at(name); }
  const std::string* param(std::string_view name) const { return request_.param(name); }
  // The path segment captured as {name}, or nullptr when the route has none.
  const std::string* pathParamIf(const std::string& name) const {
    auto it = pathParams_.find(name);
    return it == pathParams_.end() ? nullptr : &it->second;
  }

  // Who makes the call (set by the access check, api/access.h); "anonymous" without roles when
  // authentication is off (then nothing checks roles).
  const auth::Principal& principal() const { return principal_; }
  void setPrincipal(auth::Principal p) { principal_ = std::move(p); }

  // NGSI-LD 4.14 / 6.3.14: the tenant named by the NGSILD-Tenant header ("" = default). Reads of
  // a tenant that does not exist fail with NonexistentTenant; writes create it -- unless the
  // tenant registry decides (api/tenant_admission.h: strict mode, suspended tenants).
  Status resolveTenant(bool forWrite);
  const store::TenantId& tenant() const { return tenant_; }

  // Negotiates the response media type from Accept (406 NotAcceptable when nothing fits);
  // GeoJSON only where `allowGeoJson`.
  Status negotiate(bool allowGeoJson);
  MediaType responseType() const { return responseType_; }

  // Checks Content-Type (415), parses the body (limits of ApiOptions), and takes the @context
  // from the body (application/ld+json) or the Link header (application/json), NGSI-LD 6.3.5.
  Status parseBody();
  const JsonDocument& body() const { return body_; }

  // The @context from the Link header (for calls without a body), or the core context.
  Status resolveContextFromLink();
  const ld::Context& context() const { return *context_; }
  // The @context value of the request as JSON text (a URL string, or the inline value).
  const std::string& contextJson() const { return contextJson_; }

  // An answer carrying JSON in the negotiated media type, with the context Link header when the
  // answer is application/json (6.3.6). `json` must be complete.
  http::Response jsonResponse(int status, std::string json) const;
  // The @context to embed in application/ld+json answers (JSON text), else "".
  std::string embeddedContext() const;

  Micros now() const { return services_.clock.now(); }

 private:
  Status resolveContext(const Json* bodyContext);

  http::Request& request_;
  Services& services_;
  std::map<std::string, std::string> pathParams_;
  store::TenantId tenant_;
  MediaType responseType_ = MediaType::kJson;
  JsonDocument body_;
  std::shared_ptr<const ld::Context> context_;
  std::string contextJson_;  // the context as the request gave it (URL string or inline value)
  std::string linkUrl_;      // the context URL for Link headers of answers
  auth::Principal principal_{"anonymous", "none", "", {}, ""};
};

// A `key=value` option list check: whether `options` (comma separated) contains `name`.
bool hasOption(const std::string* options, std::string_view name);

}  // namespace allmende::api
