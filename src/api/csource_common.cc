#include "api/csource_common.h"

#include <spdlog/spdlog.h>

#include "federation/csource_notifier.h"
#include "federation/csource_subscription.h"
#include "federation/registration_json.h"
#include "federation/registration_query.h"
#include "federation/registration_store.h"
#include "ld/core_context.h"
#include "query/q.h"
#include "store/registration_store.h"

namespace allmende::api {

namespace {

// The processed @context a csourceSubscription was created with (the core one for "").
std::shared_ptr<const ld::Context> contextOf(Call& call, const federation::CSourceSubscription& s) {
  auto& contexts = call.services().contexts;
  if (s.contextJson.empty()) return contexts.core();
  JsonDocument value;
  if (!parseJson(s.contextJson, value).isOk()) return contexts.core();
  auto ctx = contexts.resolve(value);
  return ctx ? *ctx : contexts.core();
}

bool selects(const federation::CSourceSubscription& s, const federation::Registration& r, const ld::Context& ctx) {
  if (!federation::subscriptionSelects(s, r)) return false;
  if (!s.q) return true;
  auto expand = [&ctx](std::string_view t) { return ctx.expandTerm(t); };
  auto q = query::parseQ(*s.q, expand);
  if (!q) return false;
  JsonDocument entity = federation::registrationAsEntity(r, expand);
  return query::evaluate(*q, entity);
}

// NGSI-LD 5.3.2 CSourceNotification.
notify::RenderedNotification render(Call& call, const federation::CSourceSubscription& s,
                                    const federation::Registration& r, std::string_view reason,
                                    const ld::Context& ctx) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("id");
  w.String("urn:ngsi-ld:Notification:" + r.id + ":" + std::to_string(call.now()));
  w.Key("type");
  w.String("Notification");
  w.Key("subscriptionId");
  w.String(s.id);
  w.Key("notifiedAt");
  w.String(formatDateTime(call.now()));
  w.Key("triggerReason");
  w.String(reason.data(), static_cast<rapidjson::SizeType>(reason.size()));
  w.Key("data");
  w.StartArray();
  federation::writeRegistration(w, r, [&ctx](std::string_view iri) { return ctx.compactIri(iri); }, {});
  w.EndArray();
  const std::string contextText =
      s.contextJson.empty() ? "\"" + std::string(ld::kCoreContextUrl) + "\"" : s.contextJson;
  notify::RenderedNotification n;
  if (s.accept == "application/ld+json") {
    w.Key("@context");
    w.RawValue(contextText.data(), contextText.size(), rapidjson::kObjectType);
    n.contentType = "application/ld+json";
  } else {
    n.contentType = "application/json";
    JsonDocument c;
    std::string url = std::string(ld::kCoreContextUrl);
    if (parseJson(contextText, c).isOk() && c.IsString()) url = std::string(asView(c));
    n.headers.emplace_back("Link",
                           "<" + url + ">; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"");
  }
  w.EndObject();
  n.body.assign(buf.GetString(), buf.GetSize());
  if (!s.ownerTenant.empty()) n.headers.emplace_back("NGSILD-Tenant", s.ownerTenant);
  for (const auto& kv : s.receiverInfo) n.headers.emplace_back(kv.key, kv.value);
  return n;
}

}  // namespace

Status csourcesAvailable(const Call& call) {
  const Services& s = call.services();
  if (!s.registrations || !s.csources || !s.csourceNotifier) {
    return Status(ErrorType::kOperationNotSupported, "context source registrations are not enabled on this server");
  }
  return Status::ok();
}

Status resolveCSourceTenant(Call& call, bool forWrite) {
  Status st = call.resolveTenant(forWrite);
  if (st.isOk() || st.type() != ErrorType::kNonexistentTenant || call.services().strictTenants) return st;
  for (auto kind : {store::CSourceKind::kRegistration, store::CSourceKind::kSubscription}) {
    auto held = call.services().csources->list(kind, call.tenant());
    if (held && !held->empty()) return Status::ok();
  }
  return st;
}

Result<size_t> csourceNumber(const Call& call, const char* name, size_t fallback) {
  const std::string* v = call.param(name);
  if (!v) return fallback;
  if (v->empty() || v->size() > 9 || v->find_first_not_of("0123456789") != std::string::npos)
    return badRequestData(std::string(name) + " must be a non-negative integer");
  return static_cast<size_t>(std::stoul(*v));
}

Status csourcePage(const Call& call, size_t& limit, size_t& offset) {
  auto l = csourceNumber(call, "limit", call.services().options.defaultLimit);
  if (!l) return l.status();
  auto o = csourceNumber(call, "offset", 0);
  if (!o) return o.status();
  if (*l > call.services().options.maxLimit) {
    return Status(ErrorType::kTooManyResults, "limit " + std::to_string(*l) + " exceeds the maximum page size " +
                                                  std::to_string(call.services().options.maxLimit));
  }
  limit = *l;
  offset = *o;
  return Status::ok();
}

bool csourceSysAttrs(const Call& call) { return hasOption(call.param("options"), "sysAttrs"); }

void endWithContext(const Call& call, JsonWriter& w) {
  std::string ctx = call.embeddedContext();
  if (!ctx.empty()) {
    w.Key("@context");
    w.RawValue(ctx.data(), ctx.size(), rapidjson::kObjectType);
  }
  w.EndObject();
}

void notifyRegistrationChange(Call& call, const federation::Registration* before,
                              const federation::Registration* after) {
  Services& sv = call.services();
  auto records = sv.csources->list(store::CSourceKind::kSubscription, call.tenant());
  if (!records) {
    spdlog::warn("csourceSubscriptions of tenant '{}' not read: {}", call.tenant(), records.status().toString());
    return;
  }
  const Micros now = call.now();
  for (const auto& rec : *records) {
    auto s = federation::csourceSubscriptionFromJson(rec.tenant, rec.doc);
    if (!s || !s->notifies(now)) continue;
    auto ctx = contextOf(call, *s);
    bool was = before && !before->expired(now) && selects(*s, *before, *ctx);
    bool is = after && !after->expired(now) && selects(*s, *after, *ctx);
    auto reason = federation::triggerReason(was, is);
    if (!reason) continue;
    sv.csourceNotifier->send(s->ownerTenant, s->id, s->endpoint,
                             render(call, *s, after ? *after : *before, *reason, *ctx));
  }
}

Status deleteCSourcesOfTenant(Services& services, const std::string& tenant) {
  if (!services.registrations || !services.csources) return Status::ok();
  auto regs = services.csources->list(store::CSourceKind::kRegistration, tenant);
  if (!regs) return regs.status();
  for (const auto& r : *regs) ALLMENDE_RETURN_IF_ERROR(services.registrations->remove(tenant, r.id));
  auto subs = services.csources->list(store::CSourceKind::kSubscription, tenant);
  if (!subs) return subs.status();
  for (const auto& s : *subs) {
    ALLMENDE_RETURN_IF_ERROR(services.csources->remove(store::CSourceKind::kSubscription, tenant, s.id));
    if (services.csourceNotifier) services.csourceNotifier->forget(tenant, s.id);
  }
  return Status::ok();
}

void notifyMatchingRegistrations(Call& call, const std::string& subscriptionId) {
  Services& sv = call.services();
  auto rec = sv.csources->get(store::CSourceKind::kSubscription, call.tenant(), subscriptionId);
  if (!rec) return;
  auto s = federation::csourceSubscriptionFromJson(rec->tenant, rec->doc);
  auto all = sv.registrations->list(call.tenant());
  if (!s || !all || !s->notifies(call.now())) return;
  auto ctx = contextOf(call, *s);
  for (const auto& r : *all) {
    if (r.expired(call.now()) || !selects(*s, r, *ctx)) continue;
    sv.csourceNotifier->send(s->ownerTenant, s->id, s->endpoint, render(call, *s, r, "newlyMatching", *ctx));
  }
}

}  // namespace allmende::api
