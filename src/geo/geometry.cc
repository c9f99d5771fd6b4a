#include "geo/geometry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "geo/geos_support.h"

namespace allmende::geo {

namespace {

constexpr const char* kTypeNames[] = {"Point",      "MultiPoint", "LineString",
                                      "MultiLineString", "Polygon", "MultiPolygon"};

std::string formatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// Walks the coordinates of one geometry, keeping the index path for error messages.
class CoordinateParser {
 public:
  CoordinateParser(GeometryType type, const GeometryCheck& check) : type_(type), check_(check) {}

  Result<Geometry> parse(const Json& coords) {
    Geometry g;
    g.type = type_;
    Status st = parseByType(coords, g);
    if (!st.isOk()) return st;
    return g;
  }

 private:
  Status parseByType(const Json& coords, Geometry& g) {
    switch (type_) {
      case GeometryType::kPoint: {
        Position p{};
        ALLMENDE_RETURN_IF_ERROR(position(coords, p));
        g.parts = {{{p}}};
        return Status::ok();
      }
      case GeometryType::kMultiPoint:
        g.parts.resize(1);
        g.parts[0].resize(1);
        return path(coords, 1, g.parts[0][0]);
      case GeometryType::kLineString:
        g.parts.resize(1);
        g.parts[0].resize(1);
        return path(coords, 2, g.parts[0][0]);
      case GeometryType::kMultiLineString:
        g.parts.resize(1);
        return lines(coords, g.parts[0]);
      case GeometryType::kPolygon:
        g.parts.resize(1);
        return polygon(coords, g.parts[0]);
      case GeometryType::kMultiPolygon:
        return multiPolygon(coords, g.parts);
    }
    return fail("unknown geometry type");
  }

  Status fail(const std::string& what) const {
    std::string where = "coordinates";
    for (size_t i : at_) where += "[" + std::to_string(i) + "]";
    return badRequestData(std::string("invalid ") + kTypeNames[static_cast<int>(type_)] + ": " + where +
                          ": " + what);
  }

  Status nonEmptyArray(const Json& v, const char* ofWhat) const {
    if (!v.IsArray()) return fail(std::string("must be an array of ") + ofWhat + ", not " + jsonTypeName(v));
    if (v.Empty()) return fail(std::string("must not be an empty array of ") + ofWhat);
    // Every caller expects arrays inside; say so plainly when a nesting level is missing.
    if (!v[0].IsArray()) {
      return fail(std::string("must be an array of ") + ofWhat + ", not an array of " + jsonTypeName(v[0]) +
                  "s (is a nesting level missing?)");
    }
    return Status::ok();
  }

  // RFC 7946 3.1.1: [longitude, latitude(, altitude)].
  Status position(const Json& v, Position& out) {
    if (!v.IsArray()) return fail(std::string("a position must be an array of 2 or 3 numbers, not ") + jsonTypeName(v));
    if (v.Size() < 2 || v.Size() > 3) {
      return fail("a position must have 2 or 3 numbers (longitude, latitude, optional altitude), not " +
                  std::to_string(v.Size()));
    }
    for (const auto& n : v.GetArray()) {
      if (!n.IsNumber()) return fail(std::string("a position must hold numbers, not ") + jsonTypeName(n));
    }
    if (++count_ > check_.maxPositions) {
      return fail("more than " + std::to_string(check_.maxPositions) + " positions");
    }
    out.lon = v[0].GetDouble();
    out.lat = v[1].GetDouble();
    if (!(out.lon >= -180 && out.lon <= 180)) return fail("longitude " + formatNumber(out.lon) + " outside [-180, 180]");
    if (!(out.lat >= -90 && out.lat <= 90)) return fail("latitude " + formatNumber(out.lat) + " outside [-90, 90]");
    return Status::ok();
  }

  Status path(const Json& v, size_t minLen, Geometry::Path& out) {
    ALLMENDE_RETURN_IF_ERROR(nonEmptyArray(v, "positions"));
    if (v.Size() < minLen) {
      return fail("needs at least " + std::to_string(minLen) + " positions, has " + std::to_string(v.Size()));
    }
    if (v.Size() > check_.maxPositions) return fail("more than " + std::to_string(check_.maxPositions) + " positions");
    out.resize(v.Size());
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      at_.push_back(i);
      ALLMENDE_RETURN_IF_ERROR(position(v[i], out[i]));
      at_.pop_back();
    }
    return Status::ok();
  }

  Status lines(const Json& v, std::vector<Geometry::Path>& out) {
    ALLMENDE_RETURN_IF_ERROR(nonEmptyArray(v, "LineString coordinates"));
    out.resize(v.Size());
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      at_.push_back(i);
      ALLMENDE_RETURN_IF_ERROR(path(v[i], 2, out[i]));
      at_.pop_back();
    }
    return Status::ok();
  }

  // RFC 7946 3.1.6: a linear ring is closed and has >= 4 positions.
  Status ring(const Json& v, Geometry::Path& out) {
    ALLMENDE_RETURN_IF_ERROR(nonEmptyArray(v, "positions"));
    if (v.Size() < 4) {
      return fail("coordinates of a Polygon ring must have at least 4 positions (a closed ring), has " +
                  std::to_string(v.Size()));
    }
    ALLMENDE_RETURN_IF_ERROR(path(v, 4, out));
    if (!(out.front() == out.back())) {
      return fail("coordinates of a Polygon ring must be closed (first and last position equal)");
    }
    return Status::ok();
  }

  Status polygon(const Json& v, std::vector<Geometry::Path>& out) {
    ALLMENDE_RETURN_IF_ERROR(nonEmptyArray(v, "linear rings"));
    out.resize(v.Size());
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      at_.push_back(i);
      ALLMENDE_RETURN_IF_ERROR(ring(v[i], out[i]));
      at_.pop_back();
    }
    return Status::ok();
  }

  Status multiPolygon(const Json& v, std::vector<std::vector<Geometry::Path>>& out) {
    ALLMENDE_RETURN_IF_ERROR(nonEmptyArray(v, "Polygon coordinates"));
    out.resize(v.Size());
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      at_.push_back(i);
      ALLMENDE_RETURN_IF_ERROR(polygon(v[i], out[i]));
      at_.pop_back();
    }
    return Status::ok();
  }

  GeometryType type_;
  const GeometryCheck& check_;
  size_t count_ = 0;
  std::vector<size_t> at_;  // index path of the value being parsed
};

// Simple Features validity of polygonal geometries (rings not self-intersecting, holes inside
// the shell, MultiPolygon members not overlapping), as GEOS judges it.
Status checkTopology(const Geometry& g) {
  if (g.type != GeometryType::kPolygon && g.type != GeometryType::kMultiPolygon) return Status::ok();
  internal::GeomPtr geos = internal::toGeos(g);
  if (!geos) return internalError("GEOS could not build a geometry: " + internal::lastGeosError());
  GEOSContextHandle_t ctx = internal::geosContext();
  char* reason = nullptr;
  GEOSGeometry* location = nullptr;
  char valid = GEOSisValidDetail_r(ctx, geos.get(), 0, &reason, &location);
  std::string why = reason ? reason : internal::lastGeosError();
  std::string where;
  if (location) {
    double x = 0, y = 0;
    if (GEOSGeomGetX_r(ctx, location, &x) == 1 && GEOSGeomGetY_r(ctx, location, &y) == 1) {
      where = " at [" + formatNumber(x) + ", " + formatNumber(y) + "]";
    }
    GEOSGeom_destroy_r(ctx, location);
  }
  if (reason) GEOSFree_r(ctx, reason);
  if (valid == 1) return Status::ok();
  return badRequestData(std::string("invalid ") + geometryTypeName(g.type) + ": " + why + where);
}

}  // namespace

const char* geometryTypeName(GeometryType type) { return kTypeNames[static_cast<int>(type)]; }

std::optional<GeometryType> geometryTypeFromName(std::string_view name) {
  for (int i = 0; i < 6; ++i) {
    if (name == kTypeNames[i]) return static_cast<GeometryType>(i);
  }
  return std::nullopt;
}

size_t Geometry::positionCount() const {
  size_t n = 0;
  for (const auto& part : parts) {
    for (const auto& p : part) n += p.size();
  }
  return n;
}

Result<Geometry> parseCoordinates(GeometryType type, const Json& coordinates, const GeometryCheck& check) {
  Result<Geometry> g = CoordinateParser(type, check).parse(coordinates);
  if (!g.isOk() || !check.topology) return g;
  Status st = checkTopology(*g);
  if (!st.isOk()) return st;
  return g;
}

Result<Geometry> parseGeometry(const Json& geometry, const GeometryCheck& check) {
  if (!geometry.IsObject()) {
    return badRequestData(std::string("a GeoJSON geometry must be an object, not ") + jsonTypeName(geometry));
  }
  const Json* type = findMember(geometry, "type");
  if (!type || !type->IsString()) return badRequestData("a GeoJSON geometry needs a string member \"type\"");
  std::optional<GeometryType> t = geometryTypeFromName(asView(*type));
  if (!t) {
    // NGSI-LD 4.7.1: every GeoJSON geometry except GeometryCollection.
    return badRequestData("unsupported GeoJSON geometry type \"" + std::string(asView(*type)) +
                          "\" (expected Point, MultiPoint, LineString, MultiLineString, Polygon or "
                          "MultiPolygon; GeometryCollection is not allowed in NGSI-LD)");
  }
  const Json* coords = findMember(geometry, "coordinates");
  if (!coords) return badRequestData(std::string("a GeoJSON ") + geometryTypeName(*t) + " needs a member \"coordinates\"");
  return parseCoordinates(*t, *coords, check);
}

Status validateGeometry(const Json& geometry) {
  Result<Geometry> g = parseGeometry(geometry);
  return g.isOk() ? Status::ok() : g.status();
}

namespace {
Json positionJson(const Position& p, JsonAllocator& a) {
  Json arr(rapidjson::kArrayType);
  arr.PushBack(p.lon, a).PushBack(p.lat, a);
  return arr;
}
Json pathJson(const Geometry::Path& path, JsonAllocator& a) {
  Json arr(rapidjson::kArrayType);
  arr.Reserve(static_cast<rapidjson::SizeType>(path.size()), a);
  for (const auto& p : path) arr.PushBack(positionJson(p, a), a);
  return arr;
}
Json pathsJson(const std::vector<Geometry::Path>& paths, JsonAllocator& a) {
  Json arr(rapidjson::kArrayType);
  for (const auto& p : paths) arr.PushBack(pathJson(p, a), a);
  return arr;
}
}  // namespace

Json toGeoJson(const Geometry& g, JsonAllocator& a) {
  Json coords;
  switch (g.type) {
    case GeometryType::kPoint: coords = positionJson(g.point(), a); break;
    case GeometryType::kMultiPoint:
    case GeometryType::kLineString: coords = pathJson(g.parts[0][0], a); break;
    case GeometryType::kMultiLineString:
    case GeometryType::kPolygon: coords = pathsJson(g.parts[0], a); break;
    case GeometryType::kMultiPolygon:
      coords.SetArray();
      for (const auto& poly : g.parts) coords.PushBack(pathsJson(poly, a), a);
      break;
  }
  Json obj(rapidjson::kObjectType);
  obj.AddMember("type", rapidjson::StringRef(geometryTypeName(g.type)), a);
  obj.AddMember("coordinates", coords, a);
  return obj;
}

BoundingBox bboxOf(const Geometry& g) {
  BoundingBox b{180, 90, -180, -90};
  for (const auto& part : g.parts) {
    for (const auto& path : part) {
      for (const auto& p : path) {
        b.minX = std::min(b.minX, p.lon);
        b.maxX = std::max(b.maxX, p.lon);
        b.minY = std::min(b.minY, p.lat);
        b.maxY = std::max(b.maxY, p.lat);
      }
    }
  }
  return b;
}

std::optional<BoundingBox> bboxOf(const Json& geometry) {
  Result<Geometry> g = parseGeometry(geometry, GeometryCheck{.topology = false});
  if (!g.isOk()) return std::nullopt;
  return bboxOf(*g);
}

}  // namespace allmende::geo
