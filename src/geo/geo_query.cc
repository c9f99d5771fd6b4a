#include "geo/geo_query.h"

#include <cctype>
#include <charconv>
#include <cmath>

namespace allmende::geo {

namespace {

constexpr const char* kRelNames[] = {"near", "within", "contains", "intersects", "overlaps", "disjoint", "equals"};

Status badGeoQuery(const std::string& detail) { return badRequestData("invalid geo-query: " + detail); }

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// NGSI-LD 4.10: PositiveNumber is an RFC 8259 section 6 number without the minus sign and not 0.
std::optional<double> parsePositiveNumber(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && isDigit(s[i])) ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (i < s.size() && s[i] >= '1' && s[i] <= '9') {
    digits();
  } else {
    return std::nullopt;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return std::nullopt;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v <= 0) return std::nullopt;
  return v;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// The geometry type; the GeoJSON spelling, case-insensitively ("point" is common in clients
// coming from NGSIv2).
Result<GeometryType> parseGeometryName(std::string_view name) {
  if (name.empty()) return badGeoQuery("geometry is missing");
  for (int i = 0; i < 6; ++i) {
    auto t = static_cast<GeometryType>(i);
    if (equalsIgnoreCase(name, geometryTypeName(t))) return t;
  }
  // NGSI-LD 4.10: any GeoJSON geometry type except GeometryCollection.
  return badGeoQuery("unsupported geometry \"" + std::string(name) +
                     "\" (expected Point, MultiPoint, LineString, MultiLineString, Polygon or MultiPolygon)");
}

Status parseReferenceGeometry(GeometryType type, const Json& coordinates, GeoQuery& out) {
  Result<Geometry> g = parseCoordinates(type, coordinates);
  if (!g.isOk()) return badGeoQuery(g.status().detail());
  out.geometry = std::move(g).value();
  return Status::ok();
}

Status parseCoordinatesText(GeometryType type, std::string_view text, GeoQuery& out) {
  if (text.empty()) return badGeoQuery("coordinates are missing");
  JsonDocument doc;
  Status st = parseJson(text, doc);
  if (!st.isOk()) return badGeoQuery("coordinates are not a JSON array: " + st.detail());
  if (!doc.IsArray()) return badGeoQuery(std::string("coordinates must be a JSON array, not ") + jsonTypeName(doc));
  return parseReferenceGeometry(type, doc, out);
}

}  // namespace

const char* geoRelName(GeoRel rel) { return kRelNames[static_cast<int>(rel)]; }

std::string GeoQuery::georelText() const {
  std::string s = geoRelName(georel);
  auto number = [](double v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, ec == std::errc() ? end : buf);
  };
  if (maxDistance) s += ";maxDistance==" + number(*maxDistance);
  if (minDistance) s += ";minDistance==" + number(*minDistance);
  return s;
}

Status parseGeoRel(std::string_view text, GeoQuery& out) {
  if (text.empty()) return badGeoQuery("georel is missing");
  out.maxDistance.reset();
  out.minDistance.reset();
  size_t semi = text.find(';');
  std::string_view rel = text.substr(0, semi);
  for (int i = 0; i < 7; ++i) {
    if (rel != kRelNames[i]) continue;
    out.georel = static_cast<GeoRel>(i);
    if (out.georel != GeoRel::kNear) {
      if (semi != std::string_view::npos) {
        return badGeoQuery("georel \"" + std::string(rel) + "\" takes no modifier, got \"" + std::string(text) + "\"");
      }
      return Status::ok();
    }
    // NGSI-LD 4.10: nearRel = "near" ";" ("maxDistance" / "minDistance") "==" PositiveNumber,
    // exactly one modifier.
    if (semi == std::string_view::npos) {
      return badGeoQuery("georel near needs a distance: near;maxDistance==<metres> or near;minDistance==<metres>");
    }
    std::string_view mod = text.substr(semi + 1);
    size_t eq = mod.find("==");
    std::string_view name = mod.substr(0, eq);
    if (eq == std::string_view::npos || (name != "maxDistance" && name != "minDistance")) {
      return badGeoQuery("invalid near modifier \"" + std::string(mod) +
                         "\" (expected maxDistance==<metres> or minDistance==<metres>)");
    }
    std::string_view num = mod.substr(eq + 2);
    std::optional<double> d = parsePositiveNumber(num);
    if (!d) {
      return badGeoQuery("the distance of near must be a positive non-zero number of metres, got \"" +
                         std::string(num) + "\"");
    }
    (name == "maxDistance" ? out.maxDistance : out.minDistance) = *d;
    return Status::ok();
  }
  return badGeoQuery("unknown georel \"" + std::string(rel) +
                     "\" (expected near, within, contains, intersects, overlaps, disjoint or equals)");
}

Result<GeoQuery> parseGeoQuery(std::string_view georel, std::string_view geometry, std::string_view coordinatesJsonText,
                               std::string geopropertyExpanded) {
  GeoQuery q;
  ALLMENDE_RETURN_IF_ERROR(parseGeoRel(georel, q));
  Result<GeometryType> type = parseGeometryName(geometry);
  if (!type.isOk()) return type.status();
  ALLMENDE_RETURN_IF_ERROR(parseCoordinatesText(*type, coordinatesJsonText, q));
  if (!geopropertyExpanded.empty()) q.geoproperty = std::move(geopropertyExpanded);
  return q;
}

Result<GeoQuery> parseGeoQuery(const Json& obj, const std::function<std::string(std::string_view)>& expand) {
  if (!obj.IsObject()) return badGeoQuery(std::string("a GeoQuery must be a JSON object, not ") + jsonTypeName(obj));
  auto stringMember = [&](std::string_view name, bool required, std::string_view& out) -> Status {
    const Json* v = findMember(obj, name);
    if (!v) return required ? badGeoQuery("member \"" + std::string(name) + "\" is missing") : Status::ok();
    if (!v->IsString()) {
      return badGeoQuery("member \"" + std::string(name) + "\" must be a string, not " + jsonTypeName(*v));
    }
    out = asView(*v);
    return Status::ok();
  };
  std::string_view georel, geometry, geoproperty;
  ALLMENDE_RETURN_IF_ERROR(stringMember("georel", true, georel));
  ALLMENDE_RETURN_IF_ERROR(stringMember("geometry", true, geometry));
  ALLMENDE_RETURN_IF_ERROR(stringMember("geoproperty", false, geoproperty));

  GeoQuery q;
  ALLMENDE_RETURN_IF_ERROR(parseGeoRel(georel, q));
  Result<GeometryType> type = parseGeometryName(geometry);
  if (!type.isOk()) return type.status();
  const Json* coords = findMember(obj, "coordinates");
  if (!coords) return badGeoQuery("member \"coordinates\" is missing");
  // NGSI-LD 5.2.13: coordinates is a JSON array, or a string holding it (JSON-LD compatibility).
  if (coords->IsString()) {
    ALLMENDE_RETURN_IF_ERROR(parseCoordinatesText(*type, asView(*coords), q));
  } else if (coords->IsArray()) {
    ALLMENDE_RETURN_IF_ERROR(parseReferenceGeometry(*type, *coords, q));
  } else {
    return badGeoQuery(std::string("member \"coordinates\" must be an array or a string, not ") + jsonTypeName(*coords));
  }
  if (!geoproperty.empty()) q.geoproperty = expand(geoproperty);
  return q;
}

}  // namespace allmende::geo
