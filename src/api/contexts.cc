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

}  // namespace

http::Response listContexts(Call& call) {
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
    if (withDetails) infoObject(w, info);
    else w.String(info.url);
  }
  w.EndArray();
  return json(200, std::string(buf.GetString(), buf.GetSize()));
}

http::Response addContext(Call& call) {
  http::Request& r = call.request();
  JsonDocument body;
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(parseJson(r.body, body, call.services().options.json));
  auto info = call.services().contexts.add(body);
  if (!info) return problemResponse(info.status());
  http::Response res;
  res.status = 201;
  res.setHeader("Location", info->url);
  return res;
}

http::Response retrieveContext(Call& call) {
  auto info = call.services().contexts.get(call.pathParam("contextId"));
  if (!info) return problemResponse(info.status());
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
  const std::string* reload = call.param("reload");
  Status st = call.services().contexts.remove(call.pathParam("contextId"), reload && *reload == "true");
  return st.isOk() ? emptyResponse(204) : problemResponse(st);
}

}  // namespace allmende::api
