#include "notify/subscription.h"

#include <random>

#include "geo/geo_query.h"
#include "model/entity.h"
#include "model/expand.h"

namespace allmende::notify {

namespace {

constexpr size_t kMaxIdPatternLength = 256;  // as for queries: std::regex backtracks

// Members the broker maintains (5.2.12); given in a payload they are ignored, not stored.
constexpr const char* kBrokerMembers[] = {"status",           "timesSent",   "timesFailed",
                                          "lastNotification", "lastSuccess", "lastFailure"};

std::string randomSuffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%08llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng() & 0xffffffffu));
  return buf;
}

Status bad(const std::string& member, const std::string& what) { return badRequestData(member + ": " + what); }

Result<std::string_view> stringMember(const Json& obj, const char* name, bool required) {
  const Json* v = findMember(obj, name);
  if (!v) {
    if (required) return bad(name, "required");
    return std::string_view();
  }
  if (!v->IsString() || v->GetStringLength() == 0) return bad(name, "must be a non-empty string");
  return asView(*v);
}

Result<std::vector<std::string>> stringArray(const Json& v, const std::string& name) {
  if (!v.IsArray() || v.Empty()) return bad(name, "must be a non-empty array of strings");
  std::vector<std::string> out;
  for (const auto& s : v.GetArray()) {
    if (!s.IsString() || s.GetStringLength() == 0) return bad(name, "must be a non-empty array of strings");
    out.emplace_back(asView(s));
  }
  return out;
}

Result<unsigned> parseTriggers(const Json& v) {
  auto names = stringArray(v, "notificationTrigger");
  if (!names) return names.status();
  static const std::pair<const char*, Trigger> kNames[] = {
      {"entityCreated", kEntityCreated},       {"entityUpdated", kEntityUpdated},
      {"entityDeleted", kEntityDeleted},       {"attributeCreated", kAttributeCreated},
      {"attributeUpdated", kAttributeUpdated}, {"attributeDeleted", kAttributeDeleted}};
  unsigned bits = 0;
  for (const auto& n : *names) {
    auto it = std::find_if(std::begin(kNames), std::end(kNames), [&](const auto& p) { return n == p.first; });
    if (it == std::end(kNames)) return bad("notificationTrigger", "unknown trigger '" + n + "'");
    bits |= it->second;
  }
  return bits;
}

Result<std::vector<std::pair<std::string, std::string>>> keyValues(const Json& v, const char* name) {
  if (!v.IsArray()) return bad(name, "must be an array of {key, value}");
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& kv : v.GetArray()) {
    const Json* k = kv.IsObject() ? findMember(kv, "key") : nullptr;
    const Json* val = kv.IsObject() ? findMember(kv, "value") : nullptr;
    if (!k || !val || !k->IsString() || !val->IsString() || k->GetStringLength() == 0)
      return bad(name, "must be an array of {key, value} with string members");
    std::string key(asView(*k));
    // A header name is a token (RFC 9110 5.6.2); a value may not break the header line.
    bool tokenOk = key.find_first_of(" \t\r\n:()<>@,;\\\"/[]?={}") == std::string::npos;
    std::string value(asView(*val));
    if (!tokenOk || value.find_first_of("\r\n") != std::string::npos)
      return bad(name, "invalid key or value '" + key + "'");
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

// The scheme of an endpoint URI if it is one Allmende delivers to.
Status checkEndpointUri(std::string_view uri) {
  size_t colon = uri.find("://");
  if (colon == std::string_view::npos || uri.size() == colon + 3)
    return bad("notification.endpoint.uri", "must be an absolute URI");
  std::string_view scheme = uri.substr(0, colon);
  if (scheme == "http" || scheme == "https" || scheme == "mqtt" || scheme == "mqtts") return Status::ok();
  return bad("notification.endpoint.uri", "scheme must be http, https, mqtt or mqtts");
}

Result<Micros> seconds(const Json& v, const char* name, bool positive) {
  if (!v.IsNumber() || v.GetDouble() < 0 || (positive && v.GetDouble() <= 0) || v.GetDouble() > 1e9)
    return bad(name, positive ? "must be a positive number of seconds" : "must be a non-negative number of seconds");
  return static_cast<Micros>(v.GetDouble() * 1e6);
}

Status compileSelectors(const Json& entities, const ld::Context& ctx, Subscription& s) {
  if (!entities.IsArray() || entities.Empty()) return bad("entities", "must be a non-empty array of EntitySelector");
  query::ExpandFn expand = [&ctx](std::string_view term) { return ctx.expandTerm(term); };
  for (const auto& e : entities.GetArray()) {
    if (!e.IsObject()) return bad("entities", "an EntitySelector must be an object");
    Subscription::Selector sel;
    auto id = stringMember(e, "id", false);
    if (!id) return id.status();
    if (!id->empty() && !model::isUri(*id)) return bad("entities", "id '" + std::string(*id) + "' is not a URI");
    sel.id = std::string(*id);
    auto pattern = stringMember(e, "idPattern", false);
    if (!pattern) return pattern.status();
    if (!pattern->empty()) {
      if (pattern->size() > kMaxIdPatternLength) return Status(ErrorType::kTooComplexQuery, "idPattern too long");
      try {
        sel.idPattern.emplace(std::string(*pattern), std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error& err) {
        return bad("entities", "invalid idPattern: " + std::string(err.what()));
      }
    }
    // NGSI-LD 5.2.33: type is mandatory in an EntitySelector; it may be a type selection (4.17).
    auto type = stringMember(e, "type", true);
    if (!type) return type.status();
    auto t = query::parseTypeSelector(*type, expand);
    if (!t) return t.status();
    for (auto& iri : query::mentionedTypes(*t)) s.typeIris.push_back(std::move(iri));
    sel.type = std::move(t).value();
    s.selectors.push_back(std::move(sel));
  }
  return Status::ok();
}

Status compileNotification(const Json& n, const ld::Context& ctx, Subscription& s) {
  if (!n.IsObject()) return bad("notification", "must be an object (NotificationParams)");
  if (const Json* attrs = findMember(n, "attributes")) {
    auto names = stringArray(*attrs, "notification.attributes");
    if (!names) return names.status();
    std::unordered_set<std::string> pick{"id", "type"};
    for (const auto& a : *names) {
      auto iri = model::expandAttributeName(a, ctx);
      if (!iri) return iri.status();
      pick.insert(*iri);
    }
    s.render.projection.pick = std::move(pick);
  }
  auto format = stringMember(n, "format", false);
  if (!format) return format.status();
  if (*format == "keyValues" || *format == "simplified")
    s.render.format = model::Format::kKeyValues;
  else if (*format == "concise")
    s.render.format = model::Format::kConcise;
  else if (format->empty() || *format == "normalized")
    s.render.format = model::Format::kNormalized;
  else
    return bad("notification.format", "must be normalized, concise or keyValues");
  if (const Json* v = findMember(n, "sysAttrs")) {
    if (!v->IsBool()) return bad("notification.sysAttrs", "must be a boolean");
    s.render.sysAttrs = v->GetBool();
  }
  if (const Json* v = findMember(n, "showChanges")) {
    if (!v->IsBool()) return bad("notification.showChanges", "must be a boolean");
    s.showChanges = v->GetBool();
  }
  const Json* ep = findMember(n, "endpoint");
  if (!ep || !ep->IsObject()) return bad("notification.endpoint", "required, an object");
  auto uri = stringMember(*ep, "uri", true);
  if (!uri) return uri.status();
  ALLMENDE_RETURN_IF_ERROR(checkEndpointUri(*uri));
  s.endpoint.uri = std::string(*uri);
  auto accept = stringMember(*ep, "accept", false);
  if (!accept) return accept.status();
  if (!accept->empty()) {
    if (*accept != "application/json" && *accept != "application/ld+json" && *accept != "application/geo+json")
      return bad("notification.endpoint.accept",
                 "must be application/json, application/ld+json or application/geo+json");
    s.endpoint.accept = std::string(*accept);
  }
  if (const Json* ri = findMember(*ep, "receiverInfo")) {
    auto kv = keyValues(*ri, "notification.endpoint.receiverInfo");
    if (!kv) return kv.status();
    s.endpoint.receiverInfo = std::move(kv).value();
  }
  if (const Json* ni = findMember(*ep, "notifierInfo")) {
    auto kv = keyValues(*ni, "notification.endpoint.notifierInfo");
    if (!kv) return kv.status();
    s.endpoint.notifierInfo = std::move(kv).value();
    // NGSI-LD 5.2.15 notifierInfo for MQTT: MQTT-Version and MQTT-QoS.
    for (const auto& [k, v] : s.endpoint.notifierInfo) {
      if (k == "MQTT-Version" && v != "mqtt3.1.1" && v != "mqtt5.0")
        return bad("notification.endpoint.notifierInfo", "MQTT-Version must be mqtt3.1.1 or mqtt5.0");
      if (k == "MQTT-QoS" && v != "0" && v != "1" && v != "2")
        return bad("notification.endpoint.notifierInfo", "MQTT-QoS must be 0, 1 or 2");
    }
  }
  if (s.endpoint.uri.rfind("mqtt://", 0) == 0 || s.endpoint.uri.rfind("mqtts://", 0) == 0) {
    std::string_view rest = std::string_view(s.endpoint.uri).substr(s.endpoint.uri.find("://") + 3);
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos || slash + 1 == rest.size())
      return bad("notification.endpoint.uri", "an mqtt URI names a topic: mqtt://host:port/topic");
  }
  return Status::ok();
}

Status compileFilters(const Json& doc, const ld::Context& ctx, Subscription& s) {
  query::ExpandFn expand = [&ctx](std::string_view term) { return ctx.expandTerm(term); };
  if (const Json* v = findMember(doc, "q")) {
    if (!v->IsString()) return bad("q", "must be a string");
    auto q = query::parseQ(asView(*v), expand);
    if (!q) return q.status();
    s.q = std::move(q).value();
  }
  if (const Json* v = findMember(doc, "scopeQ")) {
    if (!v->IsString()) return bad("scopeQ", "must be a string");
    auto sq = query::parseScopeQ(asView(*v));
    if (!sq) return sq.status();
    s.scopeQ = std::move(sq).value();
  }
  if (const Json* v = findMember(doc, "geoQ")) {
    if (!v->IsObject()) return bad("geoQ", "must be a GeoQuery object");
    auto g = geo::parseGeoQuery(*v, expand);
    if (!g) return g.status();
    s.geoQ = std::make_shared<geo::GeoFilter>(std::move(g).value());
  }
  if (const Json* v = findMember(doc, "lang")) {
    if (!v->IsString()) return bad("lang", "must be a string");
    s.render.lang = std::string(asView(*v));
  }
  return Status::ok();
}

Status compileTiming(const Json& doc, Subscription& s) {
  if (const Json* v = findMember(doc, "expiresAt")) {
    auto t = v->IsString() ? parseDateTime(asView(*v)) : std::nullopt;
    if (!t) return bad("expiresAt", "must be an ISO 8601 date-time");
    s.expiresAt = *t;
  }
  if (const Json* v = findMember(doc, "isActive")) {
    if (!v->IsBool()) return bad("isActive", "must be a boolean");
    s.isActive = v->GetBool();
  }
  if (const Json* v = findMember(doc, "throttling")) {
    auto t = seconds(*v, "throttling", false);
    if (!t) return t.status();
    s.throttling = *t;
  }
  if (const Json* v = findMember(doc, "timeInterval")) {
    auto t = seconds(*v, "timeInterval", true);
    if (!t) return t.status();
    s.timeInterval = *t;
    // NGSI-LD 5.2.12: timeInterval excludes watchedAttributes and throttling.
    if (findMember(doc, "watchedAttributes")) return bad("timeInterval", "cannot be combined with watchedAttributes");
    if (findMember(doc, "throttling")) return bad("timeInterval", "cannot be combined with throttling");
  }
  return Status::ok();
}

// Compiles the stored form `doc` (it keeps it).
Result<std::shared_ptr<Subscription>> compile(const store::TenantId& tenant, JsonDocument doc,
                                              const ContextResolver& resolve) {
  auto s = std::make_shared<Subscription>();
  s->tenant = tenant;
  if (!doc.IsObject()) return badRequestData("a subscription must be a JSON object");
  auto id = stringMember(doc, "id", true);
  if (!id) return id.status();
  if (!model::isUri(*id)) return bad("id", "'" + std::string(*id) + "' is not a URI");
  s->id = std::string(*id);
  auto type = stringMember(doc, "type", true);
  if (!type) return type.status();
  if (*type != "Subscription") return bad("type", "must be 'Subscription'");
  const Json* ctxValue = findMember(doc, "@context");
  static const Json kNull;
  auto ctx = resolve(ctxValue ? *ctxValue : kNull);
  if (!ctx) return ctx.status();
  s->context = *ctx;
  s->contextJson = ctxValue ? toJsonString(*ctxValue) : "null";
  s->contextUrl = ctxValue && ctxValue->IsString() ? std::string(asView(*ctxValue)) : std::string();
  // NGSI-LD 5.2.12 jsonldContext: the @context notifications are compacted with and point to.
  auto jc = stringMember(doc, "jsonldContext", false);
  if (!jc) return jc.status();
  if (!jc->empty()) {
    Json url(jc->data(), static_cast<rapidjson::SizeType>(jc->size()));
    auto nctx = resolve(url);
    if (!nctx) return nctx.status();
    s->context = *nctx;
    s->contextUrl = std::string(*jc);
    s->contextJson = toJsonString(url);
  }
  const ld::Context& c = *s->context;
  const Json* entities = findMember(doc, "entities");
  if (entities) ALLMENDE_RETURN_IF_ERROR(compileSelectors(*entities, c, *s));
  if (const Json* w = findMember(doc, "watchedAttributes")) {
    auto names = stringArray(*w, "watchedAttributes");
    if (!names) return names.status();
    for (const auto& n : *names) {
      auto iri = model::expandAttributeName(n, c);
      if (!iri) return iri.status();
      s->watched.push_back(*iri);
    }
  }
  ALLMENDE_RETURN_IF_ERROR(compileTiming(doc, *s));
  // NGSI-LD 5.8.1: entities or watchedAttributes (or a timeInterval) must be given.
  if (!entities && s->watched.empty() && s->timeInterval == 0)
    return badRequestData("a subscription needs entities or watchedAttributes");
  if (const Json* t = findMember(doc, "notificationTrigger")) {
    auto bits = parseTriggers(*t);
    if (!bits) return bits.status();
    s->triggers = *bits;
  }
  ALLMENDE_RETURN_IF_ERROR(compileFilters(doc, c, *s));
  const Json* n = findMember(doc, "notification");
  if (!n) return bad("notification", "required");
  ALLMENDE_RETURN_IF_ERROR(compileNotification(*n, c, *s));
  if (s->endpoint.accept == "application/ld+json") s->render.contextJson.clear();
  s->doc = std::move(doc);
  return s;
}

void removeBrokerMembers(Json& doc) {
  for (const char* m : kBrokerMembers) doc.RemoveMember(m);
  if (Json* n = findMember(doc, "notification"); n && n->IsObject()) {
    for (const char* m : kBrokerMembers) n->RemoveMember(m);
  }
}

}  // namespace

std::string Subscription::status(Micros now) const {
  if (expiresAt && *expiresAt <= now) return "expired";
  return isActive ? "active" : "paused";
}

Result<std::shared_ptr<Subscription>> buildSubscription(const Json& body, const std::string& contextValue,
                                                        const store::TenantId& tenant, const ContextResolver& resolve) {
  if (!body.IsObject()) return badRequestData("a subscription must be a JSON object");
  JsonDocument doc;
  doc.CopyFrom(body, doc.GetAllocator());
  doc.RemoveMember("@context");
  removeBrokerMembers(doc);
  if (!findMember(doc, "id")) {
    doc.AddMember("id", jsonString("urn:ngsi-ld:Subscription:" + randomSuffix(), doc.GetAllocator()),
                  doc.GetAllocator());
  }
  if (!findMember(doc, "type")) doc.AddMember("type", "Subscription", doc.GetAllocator());
  JsonDocument ctx;
  if (parseJson(contextValue, ctx).isOk() && !ctx.IsNull()) {
    Json v;
    v.CopyFrom(ctx, doc.GetAllocator());
    doc.AddMember("@context", v, doc.GetAllocator());
  }
  return compile(tenant, std::move(doc), resolve);
}

Result<std::shared_ptr<Subscription>> patchSubscription(const Subscription& current, const Json& patch,
                                                        const ContextResolver& resolve) {
  if (!patch.IsObject() || patch.ObjectEmpty())
    return badRequestData("a subscription update must be a non-empty object");
  if (const Json* id = findMember(patch, "id"); id && !(id->IsString() && asView(*id) == current.id))
    return bad("id", "cannot be changed");
  JsonDocument doc;
  doc.CopyFrom(current.doc, doc.GetAllocator());
  for (auto it = patch.MemberBegin(); it != patch.MemberEnd(); ++it) {
    std::string_view name = asView(it->name);
    if (name == "@context") continue;  // terms of the update are read with the subscription's context
    doc.RemoveMember(it->name);
    if (it->value.IsNull()) continue;  // NGSI-LD 5.8.2: null removes the member
    Json name2(it->name, doc.GetAllocator());
    Json value(it->value, doc.GetAllocator());
    doc.AddMember(name2, value, doc.GetAllocator());
  }
  removeBrokerMembers(doc);
  return compile(current.tenant, std::move(doc), resolve);
}

Result<std::shared_ptr<Subscription>> loadSubscription(const store::TenantId& tenant, std::string_view text,
                                                       const ContextResolver& resolve) {
  JsonDocument doc;
  ALLMENDE_RETURN_IF_ERROR(parseJson(text, doc));
  return compile(tenant, std::move(doc), resolve);
}

}  // namespace allmende::notify
