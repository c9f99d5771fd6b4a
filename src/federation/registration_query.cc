#include "federation/registration_query.h"

#include <algorithm>

namespace allmende::federation {

namespace {

void addProperty(JsonDocument& entity, const std::string& name, Json value) {
  auto& a = entity.GetAllocator();
  Json& attrs = entity["attrs"];
  Json instance(rapidjson::kObjectType);
  // A value given in the normalized form ({"type": "Property", "value": ...}) keeps its shape.
  if (value.IsObject() && value.HasMember("value")) {
    instance.CopyFrom(value, a);
    if (!instance.HasMember("type")) instance.AddMember("type", "Property", a);
  } else {
    instance.AddMember("type", "Property", a);
    instance.AddMember("value", value, a);
  }
  Json arr(rapidjson::kArrayType);
  arr.PushBack(instance, a);
  attrs.RemoveMember(name.c_str());
  attrs.AddMember(jsonString(name, a), arr, a);
}

bool typesSelected(const query::TypeSelector& sel, const Registration& r) {
  for (const auto& info : r.information) {
    if (info.entities.empty()) return true;  // entities of any type
    for (const auto& e : info.entities) {
      JsonDocument types(rapidjson::kArrayType);
      for (const auto& t : e.types) types.PushBack(jsonString(t, types.GetAllocator()), types.GetAllocator());
      if (query::evaluate(sel, types)) return true;
    }
  }
  return false;
}

bool timeSelected(const TimeQuery& t, const Registration& r) {
  const auto& interval = t.management ? r.managementInterval : r.observationInterval;
  if (!interval) return false;
  switch (t.rel) {
    case TimeQuery::Rel::kBefore:
      return interval->startAt < t.at;
    case TimeQuery::Rel::kAfter:
      return !interval->endAt || *interval->endAt > t.at;
    case TimeQuery::Rel::kBetween:
      return interval->startAt < t.endAt && (!interval->endAt || *interval->endAt > t.at);
  }
  return false;
}

}  // namespace

JsonDocument registrationAsEntity(const Registration& r, const std::function<std::string(std::string_view)>& expand) {
  JsonDocument e(rapidjson::kObjectType);
  auto& a = e.GetAllocator();
  e.AddMember("id", jsonString(r.id, a), a);
  Json types(rapidjson::kArrayType);
  types.PushBack(jsonString(expand(r.type), a), a);
  e.AddMember("type", types, a);
  e.AddMember("attrs", Json(rapidjson::kObjectType), a);
  auto str = [&](std::string_view name, const std::string& v) {
    if (!v.empty()) addProperty(e, expand(name), jsonString(v, a));
  };
  str("registrationName", r.registrationName);
  str("description", r.description);
  str("endpoint", r.endpoint);
  str("mode", std::string(modeName(r.mode)));
  if (r.tenant) str("tenant", *r.tenant);
  for (const auto& kv : r.contextSourceInfo) str(kv.key, kv.value);
  for (const auto& [name, text] : r.properties) {
    JsonDocument v;
    if (!parseJson(text, v).isOk()) continue;
    Json copy;
    copy.CopyFrom(v, a);
    addProperty(e, name, std::move(copy));
  }
  return e;
}

bool selects(const RegistrationQuery& query, const Registration& r,
             const std::function<std::string(std::string_view)>& expand) {
  if (!registrationOverlaps(r, query.selector)) return false;
  if (query.types && !typesSelected(*query.types, r)) return false;
  if (query.geo) {
    if (!r.location) return false;
    JsonDocument area;
    if (!parseJson(*r.location, area).isOk() || !query.geo->matches(area)) return false;
  }
  if (query.scopeQ) {
    JsonDocument scopes(rapidjson::kArrayType);
    for (const auto& s : r.scopes) scopes.PushBack(jsonString(s, scopes.GetAllocator()), scopes.GetAllocator());
    if (!query::evaluate(*query.scopeQ, scopes)) return false;
  }
  if (query.time && !timeSelected(*query.time, r)) return false;
  if (query.q || query.csf) {
    JsonDocument entity = registrationAsEntity(r, expand);
    if (query.q && !query::evaluate(*query.q, entity)) return false;
    if (query.csf && !query::evaluate(*query.csf, entity)) return false;
  }
  return true;
}

}  // namespace allmende::federation
