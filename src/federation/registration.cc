#include "federation/registration.h"

#include <algorithm>
#include <array>
#include <regex>

#include "common/json.h"
#include "federation/registration_store.h"
#include "geo/geo_filter.h"
#include "query/scope_query.h"

namespace allmende::federation {

namespace {

using enum Operation;

// NGSI-LD 4.20 Table 4.20-1, in the order of the enum.
constexpr std::array<std::string_view, static_cast<size_t>(kCount)> kOperationNames = {
    "createEntity",
    "updateEntity",
    "appendAttrs",
    "updateAttrs",
    "deleteAttrs",
    "deleteEntity",
    "createBatch",
    "upsertBatch",
    "updateBatch",
    "deleteBatch",
    "upsertTemporal",
    "appendAttrsTemporal",
    "deleteAttrsTemporal",
    "updateAttrInstanceTemporal",
    "deleteAttrInstanceTemporal",
    "deleteTemporal",
    "mergeEntity",
    "replaceEntity",
    "replaceAttrs",
    "mergeBatch",
    "retrieveEntity",
    "queryEntity",
    "queryBatch",
    "retrieveTemporal",
    "queryTemporal",
    "retrieveEntityTypes",
    "retrieveEntityTypeDetails",
    "retrieveEntityTypeInfo",
    "retrieveAttrTypes",
    "retrieveAttrTypeDetails",
    "retrieveAttrTypeInfo",
    "createSubscription",
    "updateSubscription",
    "retrieveSubscription",
    "querySubscription",
    "deleteSubscription",
};

OperationSet setOf(std::initializer_list<Operation> ops) {
  OperationSet s;
  for (Operation op : ops) s.set(static_cast<size_t>(op));
  return s;
}

// The operations that only read (what an auxiliary registration may offer, NGSI-LD 4.3.6.4).
const OperationSet& readOperations() {
  static const OperationSet s =
      setOf({kRetrieveEntity, kQueryEntity, kQueryBatch, kRetrieveTemporal, kQueryTemporal, kRetrieveEntityTypes,
             kRetrieveEntityTypeDetails, kRetrieveEntityTypeInfo, kRetrieveAttrTypes, kRetrieveAttrTypeDetails,
             kRetrieveAttrTypeInfo, kRetrieveSubscription, kQuerySubscription});
  return s;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool idPatternMatches(const std::string& pattern, const std::string& id) {
  try {
    std::regex re(pattern, std::regex::ECMAScript);
    return std::regex_search(id, re);
  } catch (const std::regex_error&) {
    return false;  // validated at registration; a request's own pattern is validated by the API
  }
}

// NGSI-LD 5.2.8 against the request's entity selection: types overlap (when the request names
// any), and the id, pattern or both agree. Two patterns cannot be compared: they may overlap.
bool entityMatches(const EntityInfo& e, const RequestSelector& s) {
  if (!s.types.empty()) {
    bool any = std::any_of(e.types.begin(), e.types.end(), [&](const std::string& t) { return contains(s.types, t); });
    if (!any) return false;
  }
  if (e.id) {
    if (!s.ids.empty()) return contains(s.ids, *e.id);
    if (s.idPattern) return idPatternMatches(*s.idPattern, *e.id);
    return true;
  }
  if (e.idPattern && !s.ids.empty()) {
    return std::any_of(s.ids.begin(), s.ids.end(),
                       [&](const std::string& id) { return idPatternMatches(*e.idPattern, id); });
  }
  return true;
}

bool registersAllAttrs(const RegistrationInfo& info) {
  return info.propertyNames.empty() && info.relationshipNames.empty();
}

bool attrsMatch(const RegistrationInfo& info, const RequestSelector& s) {
  if (registersAllAttrs(info) || s.attrs.empty()) return true;
  return std::any_of(s.attrs.begin(), s.attrs.end(), [&](const std::string& a) {
    return contains(info.propertyNames, a) || contains(info.relationshipNames, a);
  });
}

bool infoMatches(const RegistrationInfo& info, const RequestSelector& s) {
  if (!attrsMatch(info, s)) return false;
  if (info.entities.empty()) return true;
  return std::any_of(info.entities.begin(), info.entities.end(),
                     [&](const EntityInfo& e) { return entityMatches(e, s); });
}

// NGSI-LD 5.2.9 location: the area the source's entities are in; a geo-query whose reference
// geometry does not intersect it cannot find anything there.
bool locationMatches(const Registration& r, const RequestSelector& s) {
  if (!r.location || !s.geometry) return true;
  JsonDocument area, reference;
  if (!parseJson(*r.location, area).isOk() || !parseJson(*s.geometry, reference).isOk()) return true;
  auto g = geo::parseGeometry(reference);
  if (!g) return true;
  geo::GeoQuery q;
  q.georel = geo::GeoRel::kIntersects;
  q.geometry = std::move(*g);
  return geo::GeoFilter(std::move(q)).matches(area);
}

// NGSI-LD 4.19: a registration without scope may hold entities of any scope.
bool scopeMatches(const Registration& r, const RequestSelector& s) {
  if (!s.scopeQ || r.scopes.empty()) return true;
  auto q = query::parseScopeQ(*s.scopeQ);
  if (!q) return true;
  JsonDocument scopes(rapidjson::kArrayType);
  for (const auto& sc : r.scopes) scopes.PushBack(jsonString(sc, scopes.GetAllocator()), scopes.GetAllocator());
  return query::evaluate(*q, scopes);
}

bool intervalOverlaps(const TimeInterval& i, std::pair<Micros, Micros> range) {
  if (i.startAt >= range.second) return false;
  return !i.endAt || *i.endAt > range.first;
}

}  // namespace

std::string_view operationName(Operation op) { return kOperationNames[static_cast<size_t>(op)]; }

std::optional<Operation> operationFromName(std::string_view name) {
  for (size_t i = 0; i < kOperationNames.size(); ++i) {
    if (kOperationNames[i] == name) return static_cast<Operation>(i);
  }
  return std::nullopt;
}

// NGSI-LD 4.20 Table 4.20-2.
std::optional<OperationSet> operationGroup(std::string_view name) {
  if (name == "federationOps") {
    return setOf({kRetrieveEntity, kQueryEntity, kQueryBatch, kRetrieveEntityTypes, kRetrieveEntityTypeDetails,
                  kRetrieveEntityTypeInfo, kRetrieveAttrTypes, kRetrieveAttrTypeDetails, kRetrieveAttrTypeInfo,
                  kCreateSubscription, kUpdateSubscription, kRetrieveSubscription, kQuerySubscription,
                  kDeleteSubscription});
  }
  if (name == "updateOps") return setOf({kUpdateEntity, kUpdateAttrs, kReplaceEntity, kReplaceAttrs});
  if (name == "retrieveOps") return setOf({kRetrieveEntity, kQueryEntity});
  // redirectionOps holds the single-entity writes and reads, not the batch operations: a
  // registration that takes batches names them beside the group (as the ETSI conformance suite's
  // registrations do: ["redirectionOps", "createBatch", "upsertBatch", ...]).
  if (name == "redirectionOps") {
    return setOf({kCreateEntity, kUpdateEntity, kAppendAttrs, kUpdateAttrs, kDeleteAttrs, kDeleteEntity, kMergeEntity,
                  kReplaceEntity, kReplaceAttrs, kRetrieveEntity, kQueryEntity, kRetrieveEntityTypes,
                  kRetrieveEntityTypeDetails, kRetrieveEntityTypeInfo, kRetrieveAttrTypes, kRetrieveAttrTypeDetails,
                  kRetrieveAttrTypeInfo});
  }
  return std::nullopt;
}

Result<OperationSet> expandOperations(const std::vector<std::string>& names) {
  OperationSet out;
  for (const auto& n : names) {
    if (auto group = operationGroup(n)) {
      out |= *group;
    } else if (auto op = operationFromName(n)) {
      out.set(static_cast<size_t>(*op));
    } else {
      return badRequestData("operations: unknown operation or operation group '" + n.substr(0, 80) + "'");
    }
  }
  return out;
}

bool onlyReadOperations(const OperationSet& ops) { return (ops & ~readOperations()).none(); }

std::string_view modeName(Mode mode) {
  switch (mode) {
    case Mode::kInclusive:
      return "inclusive";
    case Mode::kExclusive:
      return "exclusive";
    case Mode::kRedirect:
      return "redirect";
    case Mode::kAuxiliary:
      return "auxiliary";
  }
  return "inclusive";
}

std::optional<Mode> modeFromName(std::string_view name) {
  for (Mode m : {Mode::kInclusive, Mode::kExclusive, Mode::kRedirect, Mode::kAuxiliary}) {
    if (modeName(m) == name) return m;
  }
  return std::nullopt;
}

bool registrationMatches(const Registration& r, Operation op, const RequestSelector& s, Micros now) {
  if (r.expired(now) || !r.supports(op)) return false;
  // NGSI-LD 4.3.6.4: auxiliary sources are never written to.
  if (r.mode == Mode::kAuxiliary && !readOperations().test(static_cast<size_t>(op))) return false;
  return registrationOverlaps(r, s);
}

bool registrationOverlaps(const Registration& r, const RequestSelector& s) {
  if (s.observedRange && r.observationInterval && !intervalOverlaps(*r.observationInterval, *s.observedRange))
    return false;
  if (!locationMatches(r, s) || !scopeMatches(r, s)) return false;
  return std::any_of(r.information.begin(), r.information.end(),
                     [&](const RegistrationInfo& info) { return infoMatches(info, s); });
}

std::vector<std::string> registeredAttrs(const Registration& r, const RequestSelector& s) {
  std::vector<std::string> out;
  for (const auto& info : r.information) {
    if (!infoMatches(info, s)) continue;
    if (registersAllAttrs(info)) return s.attrs;  // one info registers everything asked for
    for (const auto* names : {&info.propertyNames, &info.relationshipNames}) {
      for (const auto& a : *names) {
        if ((s.attrs.empty() || contains(s.attrs, a)) && !contains(out, a)) out.push_back(a);
      }
    }
  }
  return out;
}

Result<std::vector<Registration>> matchingRegistrations(const RegistrationStore& store, const std::string& tenant,
                                                        Operation op, const RequestSelector& selector, Micros now) {
  auto all = store.list(tenant);
  if (!all) return all.status();
  std::vector<Registration> out;
  for (auto& r : *all) {
    if (registrationMatches(r, op, selector, now)) out.push_back(std::move(r));
  }
  return out;
}

}  // namespace allmende::federation
