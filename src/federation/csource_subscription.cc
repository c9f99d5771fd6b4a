#include "federation/csource_subscription.h"

#include <algorithm>

#include "federation/json_members.h"
#include "geo/geo_query.h"
#include "model/entity.h"
#include "query/q.h"
#include "query/scope_query.h"

namespace allmende::federation {

namespace {

using members::bad;
using members::entityInfo;
using members::names;
using members::nonEmptyString;
using members::randomSuffix;
using members::writeEntityInfo;
using members::writeStrings;

// Members the broker maintains; given in a payload they are ignored.
constexpr std::string_view kBrokerMembers[] = {"status",      "timesSent",    "timesFailed", "lastNotification",
                                               "lastSuccess", "lastFailure",  "createdAt",   "modifiedAt",
                                               "@context",    "jsonldContext"};

std::string identity(std::string_view s) { return std::string(s); }

Status notification(CSourceSubscription& s, const Json& v) {
  if (!v.IsObject()) return bad("notification", "must be an object");
  const Json* endpoint = findMember(v, "endpoint");
  if (!endpoint || !endpoint->IsObject()) return bad("notification.endpoint", "required");
  const Json* uri = findMember(*endpoint, "uri");
  if (!uri) return bad("notification.endpoint.uri", "required");
  auto u = nonEmptyString(*uri, "notification.endpoint.uri");
  if (!u) return u.status();
  if (u->rfind("http://", 0) != 0 && u->rfind("https://", 0) != 0) {
    return bad("notification.endpoint.uri", "must be an http or https URI");
  }
  s.endpoint = *u;
  s.accept = "application/json";
  if (const Json* accept = findMember(*endpoint, "accept")) {
    auto a = nonEmptyString(*accept, "notification.endpoint.accept");
    if (!a) return a.status();
    if (*a != "application/json" && *a != "application/ld+json") {
      return bad("notification.endpoint.accept", "must be application/json or application/ld+json");
    }
    s.accept = *a;
  }
  s.receiverInfo.clear();
  if (const Json* info = findMember(*endpoint, "receiverInfo")) {
    if (!info->IsArray()) return bad("notification.endpoint.receiverInfo", "must be an array of {key, value}");
    for (const auto& kv : info->GetArray()) {
      const Json* k = findMember(kv, "key");
      const Json* val = findMember(kv, "value");
      if (!k || !val || !k->IsString() || !val->IsString() || k->GetStringLength() == 0) {
        return bad("notification.endpoint.receiverInfo", "each member must be {key, value} strings");
      }
      s.receiverInfo.push_back({std::string(asView(*k)), std::string(asView(*val))});
    }
  }
  return Status::ok();
}

Status applyMember(CSourceSubscription& s, std::string_view key, const Json& v, const TermFn& expand) {
  const bool clear = v.IsNull();
  if (key == "subscriptionName" || key == "description") {
    std::string& slot = key == "subscriptionName" ? s.subscriptionName : s.description;
    if (clear) return slot.clear(), Status::ok();
    auto t = nonEmptyString(v, key);
    if (!t) return t.status();
    slot = *t;
  } else if (key == "entities") {
    if (clear) return s.entities.clear(), Status::ok();
    if (!v.IsArray() || v.Empty()) return bad(key, "must be a non-empty array");
    std::vector<EntityInfo> out;
    for (const auto& e : v.GetArray()) {
      auto one = entityInfo(e, expand, "entities");
      if (!one) return one.status();
      out.push_back(std::move(*one));
    }
    s.entities = std::move(out);
  } else if (key == "watchedAttributes") {
    if (clear) return s.watchedAttributes.clear(), Status::ok();
    auto n = names(v, key, expand);
    if (!n) return n.status();
    s.watchedAttributes = std::move(*n);
  } else if (key == "geoQ") {
    if (clear) return s.geoQ.reset(), Status::ok();
    auto g = geo::parseGeoQuery(v, identity);
    if (!g) return bad(key, g.status().detail());
    s.geoQ = toJsonString(v);
  } else if (key == "scopeQ") {
    if (clear) return s.scopeQ.reset(), Status::ok();
    auto t = nonEmptyString(v, key);
    if (!t) return t.status();
    auto parsed = query::parseScopeQ(*t);
    if (!parsed) return bad(key, parsed.status().detail());
    s.scopeQ = *t;
  } else if (key == "q") {
    if (clear) return s.q.reset(), Status::ok();
    auto t = nonEmptyString(v, key);
    if (!t) return t.status();
    auto parsed = query::parseQ(*t, expand);
    if (!parsed) return bad(key, parsed.status().detail());
    s.q = *t;
  } else if (key == "isActive") {
    if (!v.IsBool()) return bad(key, "must be true or false");
    s.isActive = v.GetBool();
  } else if (key == "expiresAt") {
    if (clear) return s.expiresAt.reset(), Status::ok();
    auto t = v.IsString() ? parseDateTime(asView(v)) : std::nullopt;
    if (!t) return bad(key, "must be a DateTime");
    s.expiresAt = *t;
  } else if (key == "notification") {
    if (clear) return bad(key, "cannot be removed");
    return notification(s, v);
  } else if (key == "timeInterval" || key == "temporalQ" || key == "throttling") {
    if (!clear) return bad(key, "is not supported by context source subscriptions");
  }
  // Other members (lang, notificationTrigger, ...) have no meaning for registrations: ignored.
  return Status::ok();
}

Status applyMembers(CSourceSubscription& s, const Json& body, const TermFn& expand) {
  for (const auto& m : body.GetObject()) {
    std::string_view key = asView(m.name);
    if (key == "id" || key == "type") continue;
    if (std::find(std::begin(kBrokerMembers), std::end(kBrokerMembers), key) != std::end(kBrokerMembers)) continue;
    ALLMENDE_RETURN_IF_ERROR(applyMember(s, key, m.value, expand));
  }
  return Status::ok();
}

Status validate(const CSourceSubscription& s) {
  if (s.endpoint.empty()) return bad("notification", "required");
  if (s.entities.empty() && s.watchedAttributes.empty()) {
    return badRequestData("entities or watchedAttributes: one of them is required");
  }
  return Status::ok();
}

void writeMembers(JsonWriter& w, const CSourceSubscription& s, const TermFn& compact, bool internal) {
  w.Key("id");
  w.String(s.id);
  w.Key("type");
  w.String("Subscription");
  if (!s.subscriptionName.empty()) {
    w.Key("subscriptionName");
    w.String(s.subscriptionName);
  }
  if (!s.description.empty()) {
    w.Key("description");
    w.String(s.description);
  }
  if (!s.entities.empty()) {
    w.Key("entities");
    w.StartArray();
    for (const auto& e : s.entities) writeEntityInfo(w, e, compact);
    w.EndArray();
  }
  if (!s.watchedAttributes.empty()) {
    w.Key("watchedAttributes");
    writeStrings(w, s.watchedAttributes, compact);
  }
  if (s.geoQ) {
    w.Key("geoQ");
    w.RawValue(s.geoQ->data(), s.geoQ->size(), rapidjson::kObjectType);
  }
  for (auto [name, v] : {std::pair{"scopeQ", &s.scopeQ}, std::pair{"q", &s.q}}) {
    if (!*v) continue;
    w.Key(name);
    w.String(**v);
  }
  w.Key("isActive");
  w.Bool(s.isActive);
  if (s.expiresAt) {
    w.Key("expiresAt");
    w.String(formatDateTime(*s.expiresAt));
  }
  w.Key("notification");
  w.StartObject();
  w.Key("endpoint");
  w.StartObject();
  w.Key("uri");
  w.String(s.endpoint);
  w.Key("accept");
  w.String(s.accept);
  if (!s.receiverInfo.empty()) {
    w.Key("receiverInfo");
    w.StartArray();
    for (const auto& kv : s.receiverInfo) {
      w.StartObject();
      w.Key("key");
      w.String(kv.key);
      w.Key("value");
      w.String(kv.value);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  w.EndObject();
  if (internal) {
    w.Key("jsonldContext");
    w.String(s.contextJson);
    w.Key("createdAt");
    w.String(formatDateTime(s.createdAt));
    w.Key("modifiedAt");
    w.String(formatDateTime(s.modifiedAt));
  }
}

}  // namespace

Result<CSourceSubscription> parseCSourceSubscription(const Json& body, const TermFn& expand,
                                                     const std::string& ownerTenant, const std::string& contextJson,
                                                     Micros now) {
  if (!body.IsObject()) return invalidRequest("a subscription must be a JSON object");
  const TermFn& ex = expand ? expand : TermFn(identity);
  CSourceSubscription s;
  s.ownerTenant = ownerTenant;
  s.contextJson = contextJson;
  if (const Json* id = findMember(body, "id")) {
    auto t = nonEmptyString(*id, "id");
    if (!t) return t.status();
    if (!model::isUri(*t)) return bad("id", "must be a URI");
    s.id = *t;
  } else {
    s.id = "urn:ngsi-ld:Subscription:" + randomSuffix();
  }
  const Json* type = findMember(body, "type");
  if (!type || !type->IsString() || asView(*type) != "Subscription") return bad("type", "must be Subscription");
  ALLMENDE_RETURN_IF_ERROR(applyMembers(s, body, ex));
  ALLMENDE_RETURN_IF_ERROR(validate(s));
  s.createdAt = s.modifiedAt = now;
  return s;
}

Result<CSourceSubscription> patchCSourceSubscription(const CSourceSubscription& current, const Json& fragment,
                                                     const TermFn& expand, Micros now) {
  if (!fragment.IsObject() || fragment.ObjectEmpty()) {
    return badRequestData("the update of a subscription must be a non-empty JSON object");
  }
  if (const Json* id = findMember(fragment, "id"); id && !(id->IsString() && asView(*id) == current.id)) {
    return bad("id", "cannot be changed");
  }
  if (const Json* type = findMember(fragment, "type"); type && !(type->IsString() && asView(*type) == "Subscription")) {
    return bad("type", "must be Subscription");
  }
  CSourceSubscription s = current;
  ALLMENDE_RETURN_IF_ERROR(applyMembers(s, fragment, expand ? expand : TermFn(identity)));
  ALLMENDE_RETURN_IF_ERROR(validate(s));
  s.modifiedAt = now;
  return s;
}

std::string toInternalJson(const CSourceSubscription& s) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  writeMembers(w, s, identity, true);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<CSourceSubscription> csourceSubscriptionFromJson(const std::string& ownerTenant, std::string_view text) {
  JsonDocument doc;
  ALLMENDE_RETURN_IF_ERROR(parseJson(text, doc));
  const Json* ctx = findMember(doc, "jsonldContext");
  auto s =
      parseCSourceSubscription(doc, identity, ownerTenant, ctx && ctx->IsString() ? std::string(asView(*ctx)) : "", 0);
  if (!s) return s.status();
  // q is stored as written: its terms need the subscription's @context, which parse had not.
  if (const Json* c = findMember(doc, "createdAt"); c && c->IsString())
    s->createdAt = parseDateTime(asView(*c)).value_or(0);
  if (const Json* m = findMember(doc, "modifiedAt"); m && m->IsString())
    s->modifiedAt = parseDateTime(asView(*m)).value_or(0);
  return s;
}

void writeCSourceSubscription(JsonWriter& w, const CSourceSubscription& s, const TermFn& compact,
                              const RegistrationStatus* status, bool sysAttrs, Micros now) {
  w.StartObject();
  writeMembers(w, s, compact ? compact : TermFn(identity), false);
  w.Key("status");
  w.String(!s.isActive ? "paused" : s.notifies(now) ? "active" : "expired");
  if (status && (status->timesSent > 0 || status->timesFailed > 0)) {
    w.Key("timesSent");
    w.Uint64(status->timesSent);
    w.Key("timesFailed");
    w.Uint64(status->timesFailed);
    if (status->lastSuccess) {
      w.Key("lastSuccess");
      w.String(formatDateTime(*status->lastSuccess));
    }
    if (status->lastFailure) {
      w.Key("lastFailure");
      w.String(formatDateTime(*status->lastFailure));
    }
  }
  if (sysAttrs) {
    w.Key("createdAt");
    w.String(formatDateTime(s.createdAt));
    w.Key("modifiedAt");
    w.String(formatDateTime(s.modifiedAt));
  }
  w.EndObject();
}

bool subscriptionSelects(const CSourceSubscription& s, const Registration& r) {
  RequestSelector base;
  base.attrs = s.watchedAttributes;
  base.scopeQ = s.scopeQ;
  if (s.geoQ) {
    JsonDocument g;
    if (parseJson(*s.geoQ, g).isOk()) {
      auto parsed = geo::parseGeoQuery(g, identity);
      if (parsed) {
        JsonDocument geometry;
        Json gj = geo::toGeoJson(parsed->geometry, geometry.GetAllocator());
        base.geometry = toJsonString(gj);
      }
    }
  }
  if (s.entities.empty()) return registrationOverlaps(r, base);
  return std::any_of(s.entities.begin(), s.entities.end(), [&](const EntityInfo& e) {
    RequestSelector sel = base;
    if (e.id) sel.ids.push_back(*e.id);
    sel.idPattern = e.idPattern;
    sel.types = e.types;
    return registrationOverlaps(r, sel);
  });
}

std::optional<std::string_view> triggerReason(bool matchedBefore, bool matchesAfter) {
  if (matchedBefore && matchesAfter) return "updated";
  if (matchesAfter) return "newlyMatching";
  if (matchedBefore) return "noLongerMatching";
  return std::nullopt;
}

}  // namespace allmende::federation
