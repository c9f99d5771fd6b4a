// Metric distances on the Earth for geo-queries (ETSI GS CIM 009 clause 4.10: near distances
// are in metres).
//
// Model: a sphere with the WGS84 mean radius. Against the WGS84 ellipsoid (Vincenty) a spherical
// distance is off by at most about 0.5 % and typically by 0.1-0.3 % at mid latitudes.
//
// Point to point uses the haversine formula (exact on the sphere, numerically stable for short
// distances). Any other pair is measured in a local azimuthal-equidistant frame centred on a
// reference position: distances *from that centre* are exact on the sphere, others are slightly
// distorted, about (d/R)^2 relative, i.e. < 0.01 % within 50 km and < 0.5 % within ~500 km of
// the centre. That is the regime of municipal and regional queries; continental-scale near
// queries on non-point geometries are approximate.
#pragma once

#include <optional>

#include "common/json.h"
#include "geo/geometry.h"

namespace allmende::geo {

// Mean radius of the WGS84 ellipsoid, (2a + b) / 3, in metres.
inline constexpr double kEarthRadiusMeters = 6'371'008.8;

// Great-circle distance between two positions, in metres.
double haversineMeters(const Position& a, const Position& b);

// Minimum distance between two geometries, in metres (0 when they intersect), measured as
// described above with the frame centred on the centre of `a`'s bounding box.
double distanceMeters(const Geometry& a, const Geometry& b);
// As above on GeoJSON values; nullopt if either is not a valid geometry.
std::optional<double> distanceMeters(const Json& a, const Json& b);

// The azimuthal-equidistant projection on the sphere centred on `center`: x east, y north, in
// metres. Defined everywhere except the antipode of the centre (mapped to a finite point at
// distance pi*R).
class LocalFrame {
 public:
  explicit LocalFrame(const Position& center);
  void project(const Position& p, double& x, double& y) const;
  const Position& center() const { return center_; }

 private:
  Position center_;
  double sinLat0_, cosLat0_;
};

}  // namespace allmende::geo
