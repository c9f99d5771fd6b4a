// Subscriptions (NGSI-LD 5.8; HTTP binding 6.10, 6.11): create, query, retrieve, update, delete.
// A subscription is stored (NotificationStore), then put into the matcher's index; the
// notifier's delivery status is merged into what GET shows.
#include <mutex>

#include "api/handlers.h"
#include "api/problem.h"
#include "ld/core_context.h"
#include "notify/matcher.h"
#include "notify/notifier.h"
#include "store/notification_store.h"

namespace allmende::api {

namespace {

// Create, update and delete are serialised, so the store and the matcher's index see them in the
// same order (they are rare next to entity writes).
std::mutex crudMutex;

Status available(const Call& call) {
  const Services& s = call.services();
  if (!s.notifications || !s.subscriptionIndex || !s.notifier)
    return Status(ErrorType::kOperationNotSupported, "subscriptions are not enabled on this server");
  return Status::ok();
}

notify::ContextResolver resolver(Call& call) {
  return [&call](const Json& value) { return call.services().contexts.resolve(value); };
}

// The subscription as the API shows it (5.2.12): the stored members, then the ones the broker
// maintains (status; notification status and counters, 5.2.14).
std::string renderSubscription(const Call& call, const notify::Subscription& s) {
  const Micros now = call.now();
  notify::DeliveryStatus ds = call.services().notifier->status(s.tenant, s.id);
  JsonDocument out;
  out.CopyFrom(s.doc, out.GetAllocator());
  auto& a = out.GetAllocator();
  out.RemoveMember("@context");
  auto set = [&](Json& obj, const char* name, Json v) {
    obj.RemoveMember(name);
    obj.AddMember(jsonString(name, a), v, a);
  };
  set(out, "status", jsonString(s.status(now), a));
  set(out, "isActive", Json(s.isActive));
  if (Json* n = findMember(out, "notification"); n && n->IsObject()) {
    set(*n, "timesSent", Json(static_cast<uint64_t>(ds.timesSent)));
    set(*n, "timesFailed", Json(static_cast<uint64_t>(ds.timesFailed)));
    if (ds.lastNotification) set(*n, "lastNotification", jsonString(formatDateTime(*ds.lastNotification), a));
    if (ds.lastSuccess) set(*n, "lastSuccess", jsonString(formatDateTime(*ds.lastSuccess), a));
    if (ds.lastFailure) set(*n, "lastFailure", jsonString(formatDateTime(*ds.lastFailure), a));
    if (ds.lastNotification) {
      bool failed = ds.lastFailure && (!ds.lastSuccess || *ds.lastFailure > *ds.lastSuccess);
      set(*n, "status", jsonString(failed ? "failed" : "ok", a));
    }
  }
  // The members are shown with the terms they were created with, so application/ld+json gives
  // the subscription's own @context (not the request's) to interpret them.
  if (!call.embeddedContext().empty()) {
    const Json* own = findMember(s.doc, "@context");
    set(out, "@context", own ? Json(*own, a) : jsonString(ld::kCoreContextUrl, a));
  }
  return toJsonString(out);
}

// The tenant, the subscriptions' availability and (for calls without a body) the @context.
Status begin(Call& call) {
  ALLMENDE_RETURN_IF_ERROR(available(call));
  // Subscriptions belong to a tenant by name, whether or not it holds entities yet.
  ALLMENDE_RETURN_IF_ERROR(call.resolveTenant(true));
  return call.negotiate(false);
}

Result<notify::SubscriptionPtr> find(const Call& call) {
  const std::string& id = call.pathParam("subscriptionId");
  auto s = call.services().subscriptionIndex->find(call.tenant(), id);
  if (!s) return notFound("no subscription '" + id + "'");
  return s;
}

Result<size_t> number(const Call& call, const char* name, size_t fallback) {
  const std::string* v = call.param(name);
  if (!v) return fallback;
  if (v->empty() || v->size() > 9 || v->find_first_not_of("0123456789") != std::string::npos)
    return badRequestData(std::string(name) + " must be a non-negative integer");
  return static_cast<size_t>(std::stoul(*v));
}

// SSRF: an endpoint the egress policy refuses without resolving its name (an address literal,
// a denied name, localhost in production) is refused at once; the others are checked against
// the resolved address at every delivery (notify/http_sender.h).
Status checkEndpoint(const Call& call, const notify::Subscription& s) {
  const auto& egress = call.services().egress;
  if (!egress) return Status::ok();
  Status st = egress->checkHost(EgressPolicy::hostOf(s.endpoint.uri));
  if (!st.isOk()) return badRequestData("notification.endpoint.uri: " + st.detail());
  return st;
}

}  // namespace

http::Response createSubscription(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(begin(call));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.parseBody());
  auto s = notify::buildSubscription(call.body(), call.contextJson(), call.tenant(), resolver(call));
  if (!s) return problemResponse(s.status());
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(checkEndpoint(call, **s));
  Services& sv = call.services();
  std::lock_guard<std::mutex> lock(crudMutex);
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(
      sv.notifications->putSubscription({call.tenant(), (*s)->id, toJsonString((*s)->doc)}, true));
  sv.subscriptionIndex->put(*s);
  http::Response r = emptyResponse(201);
  r.setHeader("Location", "/ngsi-ld/v1/subscriptions/" + http::percentEncode((*s)->id, ":"));
  return r;
}

http::Response querySubscriptions(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(begin(call));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveContextFromLink());
  auto limit = number(call, "limit", call.services().options.defaultLimit);
  if (!limit) return problemResponse(limit.status());
  auto offset = number(call, "offset", 0);
  if (!offset) return problemResponse(offset.status());
  if (*limit > call.services().options.maxLimit) {
    return problemResponse(Status(ErrorType::kTooManyResults, "limit " + std::to_string(*limit) +
                                                                  " exceeds the maximum page size " +
                                                                  std::to_string(call.services().options.maxLimit)));
  }
  auto all = call.services().subscriptionIndex->list(call.tenant());
  std::string body = "[";
  for (size_t i = *offset; i < all.size() && i < *offset + *limit; ++i) {
    if (body.size() > 1) body += ',';
    body += renderSubscription(call, *all[i]);
  }
  body += "]";
  http::Response r = call.jsonResponse(200, std::move(body));
  if (const std::string* c = call.param("count"); c && *c == "true") {
    r.setHeader("NGSILD-Results-Count", std::to_string(all.size()));
  }
  return r;
}

http::Response retrieveSubscription(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(begin(call));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveContextFromLink());
  auto s = find(call);
  if (!s) return problemResponse(s.status());
  return call.jsonResponse(200, renderSubscription(call, **s));
}

http::Response updateSubscription(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(begin(call));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.parseBody());
  std::lock_guard<std::mutex> lock(crudMutex);
  auto current = find(call);
  if (!current) return problemResponse(current.status());
  auto next = notify::patchSubscription(**current, call.body(), resolver(call));
  if (!next) return problemResponse(next.status());
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(checkEndpoint(call, **next));
  Services& sv = call.services();
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(
      sv.notifications->putSubscription({call.tenant(), (*next)->id, toJsonString((*next)->doc)}, false));
  sv.subscriptionIndex->put(*next);
  return emptyResponse(204);
}

http::Response deleteSubscription(Call& call) {
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(available(call));
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(call.resolveTenant(true));
  const std::string& id = call.pathParam("subscriptionId");
  Services& sv = call.services();
  std::lock_guard<std::mutex> lock(crudMutex);
  ALLMENDE_RETURN_IF_ERROR_RESPONSE(sv.notifications->deleteSubscription(call.tenant(), id));
  sv.subscriptionIndex->remove(call.tenant(), id);
  sv.notifier->forget(call.tenant(), id);
  return emptyResponse(204);
}

}  // namespace allmende::api
