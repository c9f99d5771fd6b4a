// Turns the filters of an entity query — from GET /entities parameters (NGSI-LD 6.4.3.2) or a
// Query object (5.2.23, POST /entityOperations/query) — into a store::EntityQuery: parsed,
// expanded with the request's @context, with the index hints the store can use.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "ld/context.h"
#include "store/store.h"

namespace allmende::api {

// One EntitySelector (5.2.33): ids (any of), an id pattern and a type selection, all optional.
struct Selector {
  std::vector<std::string> ids;
  std::string idPattern;
  std::string type;
};

// The raw filter texts of a query, before parsing.
struct QueryFilters {
  std::vector<Selector> selectors;  // any of them (none = all entities)
  std::vector<std::string> attrs;   // terms
  std::string q;
  std::string scopeQ;
  // geoQ as query parameters, or as a GeoQuery object (geoQJson non-null).
  std::string georel, geometry, coordinates, geoproperty;
  const Json* geoQJson = nullptr;
};

// Reads the filters of GET /entities (and DELETE /entities) from the URL parameters.
Result<QueryFilters> filtersFromParams(const class Call& call);
// Reads the filters of a Query object (entities, attrs, q, geoQ, scopeQ). `body` must outlive the
// filters (geoQJson points into it).
Result<QueryFilters> filtersFromQueryObject(const Json& body);

// Parses and expands the filters. Fails with BadRequestData (syntax) or TooComplexQuery.
Result<store::EntityQuery> planEntityQuery(const QueryFilters& filters, const ld::Context& ctx, store::Store& store,
                                           const store::TenantId& tenant);

// Splits a comma separated list, dropping empty items.
std::vector<std::string> splitList(const std::string& s);

// The paging parameters limit, offset and count (NGSI-LD 5.5.9, 6.3.10) into `q`: BadRequestData
// when malformed, TooManyResults beyond ApiOptions::maxLimit.
Status readPaging(const class Call& call, store::EntityQuery& q);

}  // namespace allmende::api
