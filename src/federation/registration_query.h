// Query Context Source Registrations (NGSI-LD 5.10.2, HTTP binding 6.8.3.2): which stored
// registrations a discovery request selects -- the entity selection (id, idPattern, type with the
// type selection language, attrs) against `information`, `q` and `csf` on the registration's
// own properties, a geo-query against `location`, `scopeQ` against `scope`, and a temporal query
// against `observationInterval` or `managementInterval`.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "federation/registration.h"
#include "geo/geo_filter.h"
#include "query/q.h"
#include "query/scope_query.h"
#include "query/type_selector.h"

namespace allmende::federation {

struct TimeQuery {
  enum class Rel { kBefore, kAfter, kBetween };
  Rel rel = Rel::kAfter;
  Micros at = 0;
  Micros endAt = 0;         // kBetween
  bool management = false;  // timeproperty=managementInterval (else observationInterval)
};

// Move-only (GeoFilter).
struct RegistrationQuery {
  RequestSelector selector;                  // ids, idPattern, attrs (types: see `types`)
  std::optional<query::TypeSelector> types;  // the `type` parameter
  std::optional<query::QueryExpr> q;         // on the registration's properties
  std::optional<query::QueryExpr> csf;       // likewise (contextSourceInfo included)
  std::optional<geo::GeoFilter> geo;         // against `location`
  std::optional<query::ScopeQuery> scopeQ;   // against `scope`
  std::optional<TimeQuery> time;
};

// Whether `r` is selected by `query`. `expand` gives the IRIs of the core members' names as the
// request's @context does (for q/csf terms such as `endpoint` or `mode`).
bool selects(const RegistrationQuery& query, const Registration& r,
             const std::function<std::string(std::string_view)>& expand);

// The registration as an entity in the internal form (id, type, and each scalar member,
// contextSourceInfo pair and extra property as a Property), what q and csf are evaluated on.
JsonDocument registrationAsEntity(const Registration& r, const std::function<std::string(std::string_view)>& expand);

}  // namespace allmende::federation
