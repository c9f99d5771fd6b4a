// @context management (NGSI-LD 5.13; HTTP binding 6.29, 6.30): hosted and cached contexts.
#include "api/handlers.h"
#include "api/problem.h"

namespace allmende::api {

namespace {

void infoObject(JsonWriter& w, const ld::ContextInfo& i) {
  w.StartObject();
  w.Key("URL");
  w.String(i.url);
  w.Key("localId");
  w.String(i.localId);
  w.Key("kind");
  w.String(ld::contextKindName(i.kind));
  w.Key("createdAt");
  w.String(formatDateTime(i.createdAt));
  if (i.lastUsage) {
    w.Key("lastUsage");
    w.String(formatDateTime(*i.lastUsage));
  }
  w.Key("numberOfHits");
  w.Uint64(i.numberOfHits);
  if (!i.extraInfo.empty()) {
    w.Key("extraInfo");
    w.String(i.extraInfo);
  }
  w.EndObject();
}

http::Response json(int status, std::string body, const char* type = "application/json") {
  http::Response r;
  r.status = status;
  r.setHeader("Content-Type", type);
  r.body = std::move(body);
  return r;
}

// NGSI-LD 5.13 does not place @contexts in a tenant (4.14 scopes entities, subscriptions and
// registrations). Here a hosted @context belongs to the tenant that added it: only that tenant
// lists and deletes it, so one municipality cannot remove or replace another's terms. Cached
// copies of remote documents are public documents and shared. Serving (5.13.4) by URL works for
// the owner and for requests without NGSILD-Tenant (a JSON-LD processor dereferencing the URL
// from a Link header); the local id is random (128 bits), so the URL is not guessable.
bool ownedBy(const ld::ContextInfo& info, const std::string& tenant) {
  return info.kind == ld::ContextKind::kCached || info.owner == tenant;
}

bool namesTenant(const Call& call) {
  return !call.request().header("ngsild-tenant").empty() || !call.request().header("ngsi-ld-tenant").empty();
}

}  // namespace

http::Response listContexts(Call& call) {
  // Contexts are not entities: a tenant's first context does not need its first entity.
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveTenant(true));
  std::optional<ld::ContextKind> kind;
  if (const std::string* k = call.param("kind")) {
    if (*k == "Hosted") kind = ld::ContextKind::kHosted;
    else if (*k == "Cached") kind = ld::ContextKind::kCached;
    else if (*k == "ImplicitlyCreated") kind = ld::ContextKind::kImplicitlyCreated;
    else return problemResponse(badRequestData("kind must be Hosted, Cached or ImplicitlyCreated"));
  }
  const std::string* details = call.param("details");
  bool withDetails = details && *details == "true";
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartArray();
  for (const auto& info : call.services().contexts.list(kind)) {
    if (!ownedBy(info, call.tenant())) continue;
    if (withDetails) infoObject(w, info);
    else w.String(info.url);
  }
  w.EndArray();
  return json(200, std::string(buf.GetString(), buf.GetSize()));
}

http::Response addContext(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveTenant(true));
  http::Request& r = call.request();
  JsonDocument body;
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(parseJson(r.body, body, call.services().options.json));
  auto info = call.services().contexts.add(body, ld::ContextKind::kHosted, call.tenant());
  if (!info) return problemResponse(info.status());
  http::Response res;
  res.status = 201;
  res.setHeader("Location", info->url);
  return res;
}

http::Response retrieveContext(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveTenant(true));
  auto info = call.services().contexts.get(call.pathParam("contextId"));
  if (!info) return problemResponse(info.status());
  if (namesTenant(call) && !ownedBy(*info, call.tenant())) {
    return problemResponse(notFound("no @context with id " + call.pathParam("contextId")));
  }
  const std::string* details = call.param("details");
  if (details && *details == "true") {
    JsonBuffer buf;
    JsonWriter w(buf);
    infoObject(w, *info);
    return json(200, std::string(buf.GetString(), buf.GetSize()));
  }
  return json(200, info->body, "application/ld+json");
}

http::Response deleteContext(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveTenant(true));
  const std::string* reload = call.param("reload");
  auto info = call.services().contexts.get(call.pathParam("contextId"));
  if (!info || !ownedBy(*info, call.tenant())) {
    return problemResponse(notFound("no @context with id " + call.pathParam("contextId")));
  }
  Status st = call.services().contexts.remove(call.pathParam("contextId"), reload && *reload == "true");
  return st.isOk() ? emptyResponse(204) : problemResponse(st);
}

}  // namespace allmende::api
