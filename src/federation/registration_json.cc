#include "federation/registration_json.h"

#include <algorithm>

#include "federation/json_members.h"
#include "geo/geometry.h"
#include "model/entity.h"

namespace allmende::federation {

namespace {

using members::bad;
using members::dateTime;
using members::entityInfo;
using members::names;
using members::nonEmptyString;
using members::randomSuffix;
using members::strings;
using members::uri;
using members::writeEntityInfo;
using members::writeStrings;

// Members the broker maintains (5.2.9); given in a payload they are ignored, not stored.
constexpr std::string_view kBrokerMembers[] = {"status",      "timesSent", "timesFailed", "lastSuccess",
                                               "lastFailure", "createdAt", "modifiedAt",  "@context"};

std::string identity(std::string_view s) { return std::string(s); }

// NGSI-LD 5.2.10.
Result<RegistrationInfo> registrationInfo(const Json& v, const TermFn& expand) {
  if (!v.IsObject()) return bad("information", "each member must be an object");
  RegistrationInfo info;
  for (const auto& m : v.GetObject()) {
    std::string_view key = asView(m.name);
    if (key == "entities") {
      if (!m.value.IsArray() || m.value.Empty()) return bad("information.entities", "must be a non-empty array");
      for (const auto& e : m.value.GetArray()) {
        auto one = entityInfo(e, expand, "information.entities");
        if (!one) return one.status();
        info.entities.push_back(std::move(*one));
      }
    } else if (key == "propertyNames" || key == "relationshipNames") {
      auto n = names(m.value, "information." + std::string(key), expand);
      if (!n) return n.status();
      (key == "propertyNames" ? info.propertyNames : info.relationshipNames) = std::move(*n);
    }
  }
  if (info.entities.empty() && info.propertyNames.empty() && info.relationshipNames.empty()) {
    return bad("information", "each member needs entities, propertyNames or relationshipNames");
  }
  return info;
}

// NGSI-LD 5.2.11.
Result<TimeInterval> timeInterval(const Json& v, std::string_view name) {
  if (!v.IsObject()) return bad(name, "must be an object with startAt and endAt");
  TimeInterval t;
  const Json* start = findMember(v, "startAt");
  if (!start) return bad(name, "startAt is required");
  auto s = dateTime(*start, std::string(name) + ".startAt");
  if (!s) return s.status();
  t.startAt = *s;
  if (const Json* end = findMember(v, "endAt")) {
    auto e = dateTime(*end, std::string(name) + ".endAt");
    if (!e) return e.status();
    if (*e < t.startAt) return bad(name, "endAt is before startAt");
    t.endAt = *e;
  }
  return t;
}

Result<std::string> geometry(const Json& v, std::string_view name) {
  Status st = geo::validateGeometry(v);
  if (!st.isOk()) return bad(name, st.detail());
  return toJsonString(v);
}

Result<std::vector<KeyValue>> keyValues(const Json& v) {
  if (!v.IsArray()) return bad("contextSourceInfo", "must be an array of {key, value} objects");
  std::vector<KeyValue> out;
  for (const auto& kv : v.GetArray()) {
    const Json* k = findMember(kv, "key");
    const Json* val = findMember(kv, "value");
    if (!k || !val || !k->IsString() || !val->IsString() || k->GetStringLength() == 0) {
      return bad("contextSourceInfo", "each member must be an object with the strings key and value");
    }
    out.push_back({std::string(asView(*k)), std::string(asView(*val))});
  }
  return out;
}

Result<std::optional<int64_t>> positiveMillis(const Json& v, std::string_view name) {
  if (!v.IsNumber() || v.GetDouble() <= 0 || v.GetDouble() > 1e12) return bad(name, "must be a positive number");
  return std::optional<int64_t>(static_cast<int64_t>(v.GetDouble()));
}

// NGSI-LD 5.2.34 RegistrationManagementInfo.
Result<RegistrationManagement> management(const Json& v) {
  if (!v.IsObject()) return bad("management", "must be an object");
  RegistrationManagement m;
  for (const auto& member : v.GetObject()) {
    std::string_view key = asView(member.name);
    std::string name = "management." + std::string(key);
    if (key == "localOnly") {
      if (!member.value.IsBool()) return bad(name, "must be true or false");
      m.localOnly = member.value.GetBool();
      continue;
    }
    std::optional<int64_t>* slot = key == "timeout"         ? &m.timeoutMillis
                                   : key == "cooldown"      ? &m.cooldownMillis
                                   : key == "cacheDuration" ? &m.cacheDurationMillis
                                                            : nullptr;
    if (!slot) continue;
    auto ms = positiveMillis(member.value, name);
    if (!ms) return ms.status();
    *slot = *ms;
  }
  return m;
}

Status scopes(const Json& v, std::vector<std::string>& out) {
  auto s = strings(v, "scope");
  if (!s) return s.status();
  for (const auto& sc : *s) {
    if (sc.size() < 2 || sc[0] != '/' || sc.back() == '/')
      return bad("scope", "'" + sc.substr(0, 80) + "' is no scope");
  }
  out = std::move(*s);
  return Status::ok();
}

// Sets the member `key` of `r` from `v`; a null `v` clears an optional member (PATCH). Members
// outside 5.2.9 are kept as properties under their expanded name.
Status applyMember(Registration& r, std::string_view key, const Json& v, const TermFn& expand) {
  const bool clear = v.IsNull();
  auto required = [&]() { return bad(key, "cannot be removed"); };
  if (key == "registrationName" || key == "description") {
    std::string& slot = key == "registrationName" ? r.registrationName : r.description;
    if (clear) return slot.clear(), Status::ok();
    auto s = nonEmptyString(v, key);
    if (!s) return s.status();
    slot = *s;
  } else if (key == "information") {
    if (clear) return required();
    if (!v.IsArray() || v.Empty()) return bad(key, "must be a non-empty array");
    std::vector<RegistrationInfo> infos;
    for (const auto& i : v.GetArray()) {
      auto info = registrationInfo(i, expand);
      if (!info) return info.status();
      infos.push_back(std::move(*info));
    }
    r.information = std::move(infos);
  } else if (key == "endpoint") {
    if (clear) return required();
    auto s = uri(v, key);
    if (!s) return s.status();
    if (s->rfind("http://", 0) != 0 && s->rfind("https://", 0) != 0) return bad(key, "must be an http or https URI");
    r.endpoint = *s;
  } else if (key == "mode") {
    if (clear) return r.mode = Mode::kInclusive, Status::ok();
    auto m = v.IsString() ? modeFromName(asView(v)) : std::nullopt;
    if (!m) return bad(key, "must be inclusive, exclusive, redirect or auxiliary");
    r.mode = *m;
  } else if (key == "operations") {
    std::vector<std::string> ops{"federationOps"};  // 5.2.9 default
    if (!clear) {
      auto s = strings(v, key);
      if (!s) return s.status();
      ops = std::move(*s);
    }
    auto set = expandOperations(ops);
    if (!set) return set.status();
    r.operationNames = std::move(ops);
    r.operations = *set;
  } else if (key == "contextSourceInfo") {
    if (clear) return r.contextSourceInfo.clear(), Status::ok();
    auto kv = keyValues(v);
    if (!kv) return kv.status();
    r.contextSourceInfo = std::move(*kv);
  } else if (key == "tenant") {
    if (clear) return r.tenant.reset(), Status::ok();
    auto s = nonEmptyString(v, key);
    if (!s) return s.status();
    r.tenant = *s;
  } else if (key == "scope") {
    if (clear) return r.scopes.clear(), Status::ok();
    return scopes(v, r.scopes);
  } else if (key == "location" || key == "observationSpace" || key == "operationSpace") {
    std::optional<std::string>& slot = key == "location"           ? r.location
                                       : key == "observationSpace" ? r.observationSpace
                                                                   : r.operationSpace;
    if (clear) return slot.reset(), Status::ok();
    auto g = geometry(v, key);
    if (!g) return g.status();
    slot = *g;
  } else if (key == "observationInterval" || key == "managementInterval") {
    auto& slot = key == "observationInterval" ? r.observationInterval : r.managementInterval;
    if (clear) return slot.reset(), Status::ok();
    auto t = timeInterval(v, key);
    if (!t) return t.status();
    slot = *t;
  } else if (key == "expiresAt") {
    if (clear) return r.expiresAt.reset(), Status::ok();
    auto t = dateTime(v, key);
    if (!t) return t.status();
    r.expiresAt = *t;
  } else if (key == "management") {
    if (clear) return r.management = {}, Status::ok();
    auto m = management(v);
    if (!m) return m.status();
    r.management = *m;
  } else {
    if (!model::isUri(key) && !model::isValidName(key)) return bad(key, "is not a valid name");
    std::string name = expand(key);
    auto it = std::find_if(r.properties.begin(), r.properties.end(), [&](const auto& p) { return p.first == name; });
    if (clear) {
      if (it != r.properties.end()) r.properties.erase(it);
    } else if (it != r.properties.end()) {
      it->second = toJsonString(v);
    } else {
      r.properties.emplace_back(name, toJsonString(v));
    }
  }
  return Status::ok();
}

bool brokerMember(std::string_view key) {
  return std::find(std::begin(kBrokerMembers), std::end(kBrokerMembers), key) != std::end(kBrokerMembers);
}

Status applyMembers(Registration& r, const Json& body, const TermFn& expand) {
  for (const auto& m : body.GetObject()) {
    std::string_view key = asView(m.name);
    if (key == "id" || key == "type" || brokerMember(key)) continue;
    ALLMENDE_RETURN_IF_ERROR(applyMember(r, key, m.value, expand));
  }
  return Status::ok();
}

// The rules of one registration on its own (5.2.9, 4.3.6).
Status validate(const Registration& r) {
  if (r.information.empty()) return bad("information", "required");
  if (r.endpoint.empty()) return bad("endpoint", "required");
  if (r.mode == Mode::kAuxiliary && !onlyReadOperations(r.operations)) {
    return bad("operations", "an auxiliary registration supports retrieval operations only");  // 4.3.6.4
  }
  if (r.mode == Mode::kExclusive) {
    // NGSI-LD 4.3.6.3: an exclusive registration names the entities by id and the attributes.
    for (const auto& info : r.information) {
      if (info.entities.empty()) return bad("information", "an exclusive registration must name entities by id");
      for (const auto& e : info.entities) {
        if (!e.id) return bad("information.entities", "an exclusive registration must give an id (no idPattern)");
      }
      if (info.propertyNames.empty() && info.relationshipNames.empty()) {
        return bad("information", "an exclusive registration must name propertyNames or relationshipNames");
      }
    }
  }
  return Status::ok();
}

RequestSelector selectorOf(const EntityInfo& e, const RegistrationInfo& info) {
  RequestSelector s;
  if (e.id) s.ids.push_back(*e.id);
  s.idPattern = e.idPattern;
  s.types = e.types;
  s.attrs = info.propertyNames;
  s.attrs.insert(s.attrs.end(), info.relationshipNames.begin(), info.relationshipNames.end());
  return s;
}

bool conflicting(Mode a, Mode b) {
  return (a == Mode::kExclusive && (b == Mode::kExclusive || b == Mode::kRedirect)) ||
         (a == Mode::kRedirect && b == Mode::kExclusive);
}

// --- writing -------------------------------------------------------------------------------

void writeRaw(JsonWriter& w, const std::string& jsonText) {
  w.RawValue(jsonText.data(), jsonText.size(), rapidjson::kObjectType);
}

void writeInterval(JsonWriter& w, const char* name, const std::optional<TimeInterval>& t) {
  if (!t) return;
  w.Key(name);
  w.StartObject();
  w.Key("startAt");
  w.String(formatDateTime(t->startAt));
  if (t->endAt) {
    w.Key("endAt");
    w.String(formatDateTime(*t->endAt));
  }
  w.EndObject();
}

void writeInformation(JsonWriter& w, const std::vector<RegistrationInfo>& infos, const TermFn& compact) {
  w.StartArray();
  for (const auto& info : infos) {
    w.StartObject();
    if (!info.entities.empty()) {
      w.Key("entities");
      w.StartArray();
      for (const auto& e : info.entities) writeEntityInfo(w, e, compact);
      w.EndArray();
    }
    if (!info.propertyNames.empty()) {
      w.Key("propertyNames");
      writeStrings(w, info.propertyNames, compact, false);
    }
    if (!info.relationshipNames.empty()) {
      w.Key("relationshipNames");
      writeStrings(w, info.relationshipNames, compact, false);
    }
    w.EndObject();
  }
  w.EndArray();
}

void writeManagement(JsonWriter& w, const RegistrationManagement& m) {
  if (!m.localOnly && !m.timeoutMillis && !m.cooldownMillis && !m.cacheDurationMillis) return;
  w.Key("management");
  w.StartObject();
  if (m.localOnly) {
    w.Key("localOnly");
    w.Bool(*m.localOnly);
  }
  for (auto [name, v] : {std::pair{"timeout", m.timeoutMillis}, std::pair{"cooldown", m.cooldownMillis},
                         std::pair{"cacheDuration", m.cacheDurationMillis}}) {
    if (!v) continue;
    w.Key(name);
    w.Int64(*v);
  }
  w.EndObject();
}

void writeStatus(JsonWriter& w, const RegistrationStatus& s) {
  if (s.timesSent == 0 && s.timesFailed == 0) return;
  const bool failed = s.lastFailure && (!s.lastSuccess || *s.lastFailure > *s.lastSuccess);
  w.Key("status");
  w.String(failed ? "failed" : "ok");
  w.Key("timesSent");
  w.Uint64(s.timesSent);
  w.Key("timesFailed");
  w.Uint64(s.timesFailed);
  if (s.lastSuccess) {
    w.Key("lastSuccess");
    w.String(formatDateTime(*s.lastSuccess));
  }
  if (s.lastFailure) {
    w.Key("lastFailure");
    w.String(formatDateTime(*s.lastFailure));
  }
}

// Both forms: `internal` writes IRIs as they are and the system attributes always.
void writeMembers(JsonWriter& w, const Registration& r, const TermFn& compact, bool sysAttrs) {
  w.Key("id");
  w.String(r.id);
  w.Key("type");
  w.String(r.type);
  if (!r.registrationName.empty()) {
    w.Key("registrationName");
    w.String(r.registrationName);
  }
  if (!r.description.empty()) {
    w.Key("description");
    w.String(r.description);
  }
  w.Key("endpoint");
  w.String(r.endpoint);
  w.Key("information");
  writeInformation(w, r.information, compact);
  w.Key("mode");
  w.String(std::string(modeName(r.mode)));
  w.Key("operations");
  writeStrings(w, r.operationNames, identity, false);
  if (!r.contextSourceInfo.empty()) {
    w.Key("contextSourceInfo");
    w.StartArray();
    for (const auto& kv : r.contextSourceInfo) {
      w.StartObject();
      w.Key("key");
      w.String(kv.key);
      w.Key("value");
      w.String(kv.value);
      w.EndObject();
    }
    w.EndArray();
  }
  if (r.tenant) {
    w.Key("tenant");
    w.String(*r.tenant);
  }
  if (!r.scopes.empty()) {
    w.Key("scope");
    writeStrings(w, r.scopes, identity, true);
  }
  for (auto [name, g] : {std::pair{"location", &r.location}, std::pair{"observationSpace", &r.observationSpace},
                         std::pair{"operationSpace", &r.operationSpace}}) {
    if (!*g) continue;
    w.Key(name);
    writeRaw(w, **g);
  }
  writeInterval(w, "observationInterval", r.observationInterval);
  writeInterval(w, "managementInterval", r.managementInterval);
  if (r.expiresAt) {
    w.Key("expiresAt");
    w.String(formatDateTime(*r.expiresAt));
  }
  writeManagement(w, r.management);
  for (const auto& [name, value] : r.properties) {
    const std::string key = compact(name);
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    writeRaw(w, value);
  }
  if (sysAttrs) {
    w.Key("createdAt");
    w.String(formatDateTime(r.createdAt));
    w.Key("modifiedAt");
    w.String(formatDateTime(r.modifiedAt));
  }
}

}  // namespace

Result<Registration> parseRegistration(const Json& body, const TermFn& expand, const std::string& ownerTenant,
                                       Micros now) {
  if (!body.IsObject()) return invalidRequest("a context source registration must be a JSON object");
  const TermFn& ex = expand ? expand : TermFn(identity);
  Registration r;
  r.ownerTenant = ownerTenant;
  if (const Json* id = findMember(body, "id")) {
    auto s = uri(*id, "id");
    if (!s) return s.status();
    r.id = *s;
  } else {
    r.id = "urn:ngsi-ld:ContextSourceRegistration:" + randomSuffix();
  }
  const Json* type = findMember(body, "type");
  if (!type) return bad("type", "required");
  if (!type->IsString() || asView(*type) != "ContextSourceRegistration") {
    return bad("type", "must be ContextSourceRegistration");
  }
  ALLMENDE_RETURN_IF_ERROR(applyMember(r, "operations", Json(), ex));  // the default
  ALLMENDE_RETURN_IF_ERROR(applyMembers(r, body, ex));
  ALLMENDE_RETURN_IF_ERROR(validate(r));
  r.createdAt = r.modifiedAt = now;
  return r;
}

Result<Registration> patchRegistration(const Registration& current, const Json& fragment, const TermFn& expand,
                                       Micros now) {
  if (!fragment.IsObject() || fragment.ObjectEmpty()) {
    return badRequestData("the update of a registration must be a non-empty JSON object");
  }
  if (const Json* id = findMember(fragment, "id"); id && !(id->IsString() && asView(*id) == current.id)) {
    return bad("id", "cannot be changed");
  }
  if (const Json* type = findMember(fragment, "type");
      type && !(type->IsString() && asView(*type) == "ContextSourceRegistration")) {
    return bad("type", "must be ContextSourceRegistration");
  }
  Registration r = current;
  ALLMENDE_RETURN_IF_ERROR(applyMembers(r, fragment, expand ? expand : TermFn(identity)));
  ALLMENDE_RETURN_IF_ERROR(validate(r));
  r.modifiedAt = now;
  return r;
}

Status checkModeConflicts(const Registration& r, const std::vector<Registration>& others, Micros now) {
  if (r.mode != Mode::kExclusive && r.mode != Mode::kRedirect) return Status::ok();
  for (const auto& o : others) {
    if (o.id == r.id || o.expired(now) || !conflicting(r.mode, o.mode)) continue;
    for (const auto& info : r.information) {
      for (const auto& e : info.entities) {
        if (registrationOverlaps(o, selectorOf(e, info))) {
          return Status(ErrorType::kConflict, "the " + std::string(modeName(r.mode)) + " registration overlaps the " +
                                                  std::string(modeName(o.mode)) + " registration " + o.id);
        }
      }
    }
  }
  return Status::ok();
}

std::string toInternalJson(const Registration& r) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  writeMembers(w, r, identity, true);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<Registration> fromInternalJson(const std::string& ownerTenant, std::string_view text) {
  JsonDocument doc;
  ALLMENDE_RETURN_IF_ERROR(parseJson(text, doc));
  auto r = parseRegistration(doc, identity, ownerTenant, 0);
  if (!r) return r.status();
  if (const Json* c = findMember(doc, "createdAt"); c && c->IsString())
    r->createdAt = parseDateTime(asView(*c)).value_or(0);
  if (const Json* m = findMember(doc, "modifiedAt"); m && m->IsString())
    r->modifiedAt = parseDateTime(asView(*m)).value_or(0);
  return r;
}

void writeRegistration(JsonWriter& w, const Registration& r, const TermFn& compact, const RenderOptions& options) {
  w.StartObject();
  writeMembers(w, r, compact ? compact : TermFn(identity), options.sysAttrs);
  if (options.status) writeStatus(w, *options.status);
  w.EndObject();
}

}  // namespace allmende::federation
