// Context source registration subscriptions (NGSI-LD 5.11; HTTP binding 6.12, 6.13): create,
// query, retrieve, update, delete. Stored in the registration repository; notified by
// notifyRegistrationChange (api/csource_common.h) when registrations change.
#include <mutex>

#include "api/csource_common.h"
#include "api/handlers.h"
#include "api/problem.h"
#include "federation/csource_notifier.h"
#include "federation/csource_subscription.h"
#include "federation/registration_store.h"
#include "ld/core_context.h"
#include "store/registration_store.h"

namespace allmende::api {

namespace {

using store::CSourceKind;

std::mutex changeMutex;  // serialises changes (read-modify-write of PATCH)

Status begin(Call& call, bool write) {
  ALLMENDE_RETURN_IF_ERROR(csourcesAvailable(call));
  ALLMENDE_RETURN_IF_ERROR(resolveCSourceTenant(call, write));
  return call.negotiate(false);
}

federation::TermFn expander(const Call& call) {
  return [&call](std::string_view t) { return call.context().expandTerm(t); };
}

// SSRF: as for entity subscriptions (api/subscriptions.cc), an endpoint the egress policy
// refuses without resolving is refused at once; the rest is checked at every delivery.
Status checkEndpoint(const Call& call, const federation::CSourceSubscription& s) {
  const auto& egress = call.services().egress;
  if (!egress) return Status::ok();
  Status st = egress->checkHost(EgressPolicy::hostOf(s.endpoint));
  if (!st.isOk()) return badRequestData("notification.endpoint.uri: " + st.detail());
  return st;
}

Result<federation::CSourceSubscription> find(const Call& call) {
  auto rec = call.services().csources->get(CSourceKind::kSubscription, call.tenant(), call.pathParam("subscriptionId"));
  if (!rec) return rec.status();
  return federation::csourceSubscriptionFromJson(rec->tenant, rec->doc);
}

// Shown with the terms of the request's @context, like registrations.
std::string render(const Call& call, const federation::CSourceSubscription& s) {
  JsonBuffer buf;
  JsonWriter w(buf);
  federation::RegistrationStatus st = call.services().csourceNotifier->status(s.ownerTenant, s.id);
  federation::writeCSourceSubscription(
      w, s, [&call](std::string_view iri) { return call.context().compactIri(iri); }, &st, csourceSysAttrs(call));
  std::string text(buf.GetString(), buf.GetSize());
  std::string ctx = call.embeddedContext();
  if (!ctx.empty()) text.insert(text.size() - 1, ",\"@context\":" + ctx);
  return text;
}

Status store(Call& call, const federation::CSourceSubscription& s, bool create) {
  return call.services().csources->put(CSourceKind::kSubscription, {s.ownerTenant, s.id, federation::toInternalJson(s)},
                                       create);
}

}  // namespace

http::Response createCSourceSubscription(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(begin(call, true));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.parseBody());
  auto s =
      federation::parseCSourceSubscription(call.body(), expander(call), call.tenant(), call.contextJson(), call.now());
  if (!s) return problemResponse(s.status());
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(checkEndpoint(call, *s));
  {
    std::lock_guard<std::mutex> lock(changeMutex);
    ALLMENDE_RETURN_IF_ERROR_RESPONSE(store(call, *s, true));
  }
  notifyMatchingRegistrations(call, s->id);
  http::Response r = emptyResponse(201);
  r.setHeader("Location", "/ngsi-ld/v1/csourceSubscriptions/" + http::percentEncode(s->id, ":"));
  return r;
}

http::Response queryCSourceSubscriptions(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(begin(call, false));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveContextFromLink());
  size_t limit = 0, offset = 0;
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(csourcePage(call, limit, offset));
  auto all = call.services().csources->list(CSourceKind::kSubscription, call.tenant());
  if (!all) return problemResponse(all.status());
  std::string body = "[";
  size_t shown = 0;
  for (size_t i = offset; i < all->size() && shown < limit; ++i) {
    auto s = federation::csourceSubscriptionFromJson((*all)[i].tenant, (*all)[i].doc);
    if (!s) continue;
    if (shown++ > 0) body += ',';
    body += render(call, *s);
  }
  body += "]";
  http::Response r = call.jsonResponse(200, std::move(body));
  if (const std::string* c = call.param("count"); c && *c == "true") {
    r.setHeader("NGSILD-Results-Count", std::to_string(all->size()));
  }
  return r;
}

http::Response retrieveCSourceSubscription(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(begin(call, false));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveContextFromLink());
  auto s = find(call);
  if (!s) return problemResponse(s.status());
  return call.jsonResponse(200, render(call, *s));
}

http::Response updateCSourceSubscription(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(begin(call, true));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.parseBody());
  std::lock_guard<std::mutex> lock(changeMutex);
  auto current = find(call);
  if (!current) return problemResponse(current.status());
  auto next = federation::patchCSourceSubscription(*current, call.body(), expander(call), call.now());
  if (!next) return problemResponse(next.status());
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(checkEndpoint(call, *next));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(store(call, *next, false));
  return emptyResponse(204);
}

http::Response deleteCSourceSubscription(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(csourcesAvailable(call));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveTenant(true));
  const std::string& id = call.pathParam("subscriptionId");
  std::lock_guard<std::mutex> lock(changeMutex);
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.services().csources->remove(CSourceKind::kSubscription, call.tenant(), id));
  call.services().csourceNotifier->forget(call.tenant(), id);
  return emptyResponse(204);
}

}  // namespace allmende::api
