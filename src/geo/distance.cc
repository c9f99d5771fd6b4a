#include "geo/distance.h"

#include <cmath>
#include <numbers>

#include "geo/geos_support.h"

namespace allmende::geo {

namespace {
constexpr double kDegToRad = std::numbers::pi / 180.0;

// Longitude difference b - a in radians, wrapped to [-pi, pi] so that the antimeridian is not a seam.
double deltaLonRad(double aLon, double bLon) {
  double d = (bLon - aLon) * kDegToRad;
  if (d > std::numbers::pi) d -= 2 * std::numbers::pi;
  if (d < -std::numbers::pi) d += 2 * std::numbers::pi;
  return d;
}
}  // namespace

double haversineMeters(const Position& a, const Position& b) {
  double lat1 = a.lat * kDegToRad, lat2 = b.lat * kDegToRad;
  double sDLat = std::sin((lat2 - lat1) / 2);
  double sDLon = std::sin(deltaLonRad(a.lon, b.lon) / 2);
  double h = sDLat * sDLat + std::cos(lat1) * std::cos(lat2) * sDLon * sDLon;
  return 2 * kEarthRadiusMeters * std::asin(std::min(1.0, std::sqrt(h)));
}

LocalFrame::LocalFrame(const Position& center)
    : center_(center), sinLat0_(std::sin(center.lat * kDegToRad)), cosLat0_(std::cos(center.lat * kDegToRad)) {}

void LocalFrame::project(const Position& p, double& x, double& y) const {
  // Spherical azimuthal equidistant projection (Snyder, Map Projections, 1987, eq. 25-2..25-4),
  // with the angular distance c from the haversine form for accuracy near the centre.
  double lat = p.lat * kDegToRad;
  double dLon = deltaLonRad(center_.lon, p.lon);
  double sinLat = std::sin(lat), cosLat = std::cos(lat);
  double c = haversineMeters(center_, p) / kEarthRadiusMeters;
  double k = c < 1e-12 ? 1.0 : c / std::sin(std::min(c, std::numbers::pi - 1e-12));
  x = kEarthRadiusMeters * k * cosLat * std::sin(dLon);
  y = kEarthRadiusMeters * k * (cosLat0_ * sinLat - sinLat0_ * cosLat * std::cos(dLon));
}

double distanceMeters(const Geometry& a, const Geometry& b) {
  if (a.type == GeometryType::kPoint && b.type == GeometryType::kPoint) return haversineMeters(a.point(), b.point());
  BoundingBox box = bboxOf(a);
  LocalFrame frame(a.type == GeometryType::kPoint ? a.point()
                                                   : Position{(box.minX + box.maxX) / 2, (box.minY + box.maxY) / 2});
  internal::GeomPtr ga = internal::toGeos(a, &frame);
  internal::GeomPtr gb = internal::toGeos(b, &frame);
  double d = 0;
  if (!ga || !gb || GEOSDistance_r(internal::geosContext(), ga.get(), gb.get(), &d) != 1) return std::nan("");
  return d;
}

std::optional<double> distanceMeters(const Json& a, const Json& b) {
  GeometryCheck loose{.topology = false};
  Result<Geometry> ga = parseGeometry(a, loose);
  Result<Geometry> gb = parseGeometry(b, loose);
  if (!ga.isOk() || !gb.isOk()) return std::nullopt;
  double d = distanceMeters(*ga, *gb);
  if (std::isnan(d)) return std::nullopt;
  return d;
}

}  // namespace allmende::geo
