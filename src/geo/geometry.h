// GeoJSON geometries as NGSI-LD uses them (ETSI GS CIM 009 clause 4.7.1, IETF RFC 7946 section 3.1).
//
// A GeoProperty value is a GeoJSON Geometry of one of the six simple types; GeometryCollection is
// excluded by clause 4.7.1. Positions are [longitude, latitude] or [longitude, latitude, altitude]
// in WGS84 degrees. Altitude is validated but ignored by every predicate and distance (2D only).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace allmende::geo {

// The most positions a geometry may hold (all rings and parts together). Bounds the memory and
// the time of one validation or predicate; a request above it fails with BadRequestData.
inline constexpr size_t kMaxPositions = 100'000;

enum class GeometryType { kPoint, kMultiPoint, kLineString, kMultiLineString, kPolygon, kMultiPolygon };

// The GeoJSON name ("Point", ...) of a type.
const char* geometryTypeName(GeometryType type);
// The type named `name` (exact GeoJSON spelling); nullopt for anything else, GeometryCollection
// included.
std::optional<GeometryType> geometryTypeFromName(std::string_view name);

struct Position {
  double lon;
  double lat;
  bool operator==(const Position&) const = default;
};

// A validated geometry, coordinates only, in one uniform nesting:
//   Point            parts = {{{p}}}
//   MultiPoint       parts = {{{p1, p2, ...}}}
//   LineString       parts = {{line}}
//   MultiLineString  parts = {{line1, line2, ...}}
//   Polygon          parts = {{exterior, hole1, ...}}
//   MultiPolygon     parts = {{exterior, holes...}, {exterior, holes...}, ...}
// Copyable; built only by parseGeometry, so the nesting always matches the type.
struct Geometry {
  using Path = std::vector<Position>;  // a ring, a line, or a MultiPoint's points
  GeometryType type = GeometryType::kPoint;
  std::vector<std::vector<Path>> parts;

  size_t positionCount() const;
  // The single position of a Point. Precondition: type == kPoint.
  const Position& point() const { return parts[0][0][0]; }
};

// How strictly parseGeometry checks its input.
struct GeometryCheck {
  // Also reject polygons that are not valid Simple Features (self-intersecting rings, holes
  // outside the shell, overlapping MultiPolygon members), using GEOS. Structural checks (types,
  // nesting, ranges, closed rings of >= 4 positions) are always done.
  bool topology = true;
  size_t maxPositions = kMaxPositions;
};

// Parses a GeoJSON geometry object {"type": ..., "coordinates": [...]} (a "bbox" member and
// foreign members are allowed and ignored, RFC 7946 sections 5 and 6.1). Fails with
// BadRequestData naming the first problem found, e.g. "coordinates of a Polygon ring must be
// closed (first and last position equal)". Empty coordinate arrays are rejected: a GeoProperty
// must locate something.
Result<Geometry> parseGeometry(const Json& geometry, const GeometryCheck& check = {});

// As parseGeometry, when only the verdict is needed.
Status validateGeometry(const Json& geometry);

// Parses bare `coordinates` for a known type (the geo-query form, clause 4.10).
Result<Geometry> parseCoordinates(GeometryType type, const Json& coordinates,
                                  const GeometryCheck& check = {});

// The GeoJSON object of `g`, allocated in `a`.
Json toGeoJson(const Geometry& g, JsonAllocator& a);

// An axis-aligned box in degrees: minX/maxX longitude, minY/maxY latitude. minX <= maxX always
// (boxes never wrap across the antimeridian; a box that would is widened to [-180, 180]).
struct BoundingBox {
  double minX, minY, maxX, maxY;
  bool intersects(const BoundingBox& o) const {
    return minX <= o.maxX && o.minX <= maxX && minY <= o.maxY && o.minY <= maxY;
  }
  bool contains(double x, double y) const { return minX <= x && x <= maxX && minY <= y && y <= maxY; }
  bool operator==(const BoundingBox&) const = default;
};

BoundingBox bboxOf(const Geometry& g);
// The bounding box of a GeoJSON geometry; nullopt if it is not a valid geometry (structural
// check only, no topology).
std::optional<BoundingBox> bboxOf(const Json& geometry);

}  // namespace allmende::geo
