// NGSI-LD geo-queries (ETSI GS CIM 009 clause 4.10 Geoquery language; clause 5.2.13 GeoQuery
// data type; the georel, geometry, coordinates and geoproperty query parameters of Query
// Entities, clause 6.4.3.2).
//
// Every invalid geo-query fails with BadRequestData and a detail naming the problem.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/json.h"
#include "common/status.h"
#include "geo/geometry.h"

namespace allmende::geo {

// The expanded IRI of the default target GeoProperty 'location' (clause 4.7.1).
inline constexpr std::string_view kDefaultGeoProperty = "https://uri.etsi.org/ngsi-ld/location";

// The seven relationships of clause 4.10. Each reads "target (stored) <rel> reference (query)".
enum class GeoRel { kNear, kWithin, kContains, kIntersects, kOverlaps, kDisjoint, kEquals };

// The georel keyword ("near", "within", ...).
const char* geoRelName(GeoRel rel);

struct GeoQuery {
  GeoRel georel = GeoRel::kIntersects;
  // For kNear exactly one of the two is set, in metres, > 0 (clause 4.10 nearRel); unset otherwise.
  std::optional<double> maxDistance;
  std::optional<double> minDistance;
  // The reference geometry (any GeoJSON type except GeometryCollection).
  Geometry geometry;
  // Expanded IRI of the target GeoProperty.
  std::string geoproperty = std::string(kDefaultGeoProperty);

  // The georel text, e.g. "near;maxDistance==2000" (for rendering a stored geoQ).
  std::string georelText() const;
};

// Parses the query-parameter form. `georel`, `geometry` and `coordinatesJsonText` must all be
// given (the caller decides whether a geo-query is present at all); `coordinatesJsonText` is the
// JSON text of the coordinates array (already URL-decoded). An empty `geopropertyExpanded` means
// the default 'location'.
Result<GeoQuery> parseGeoQuery(std::string_view georel, std::string_view geometry,
                               std::string_view coordinatesJsonText, std::string geopropertyExpanded);

// Parses the JSON form (clause 5.2.13): an object with "georel", "geometry", "coordinates"
// (an array, or a string holding the JSON array text) and optional "geoproperty" (a term or IRI,
// turned into an expanded IRI by `expand`). Members not defined by 5.2.13 are ignored.
Result<GeoQuery> parseGeoQuery(const Json& geoQueryObject, const std::function<std::string(std::string_view)>& expand);

// The georel alone: the relationship and, for near, the distance modifier.
Status parseGeoRel(std::string_view text, GeoQuery& out);

}  // namespace allmende::geo
