// Evaluation of one geo-query against stored GeoProperty values (ETSI GS CIM 009 clause 4.10).
//
// Semantics, reading "target <rel> reference" with target = the stored geometry:
//   within      target within the reference (Simple Features / DE-9IM, via GEOS)
//   contains    target contains the reference
//   intersects, overlaps, disjoint, equals   as Simple Features (equals is topological: the
//               same point set, whatever the vertex order or ring start)
//   near;maxDistance==d   metric distance(target, reference) <= d   (the target touches the
//               buffer of d metres around the reference; brokers read 4.10's "within the
//               buffer" this way)
//   near;minDistance==d   metric distance(target, reference) > d    (disjoint from that buffer)
// Topological relations work in longitude/latitude as a plane (RFC 7946 3.1.1: lines are straight
// in that plane); nothing wraps across the antimeridian. Metric distances: see distance.h.
#pragma once

#include <memory>
#include <optional>

#include "common/json.h"
#include "geo/geo_query.h"
#include "geo/geometry.h"

namespace allmende::geo {

// Built once per request (or per subscription) from a parsed GeoQuery. Thread-safe: all const
// methods may be called concurrently from any threads. Each thread uses its own GEOS context,
// and prepared geometries (not safe for concurrent use in GEOS) are leased from a small pool
// holding one per concurrently calling thread. Move-only.
class GeoFilter {
 public:
  // Prepares the reference geometry of `query`.
  explicit GeoFilter(GeoQuery query);
  ~GeoFilter();
  GeoFilter(GeoFilter&&) noexcept;
  GeoFilter& operator=(GeoFilter&&) noexcept;

  // Whether a stored GeoJSON geometry satisfies the query. A value that is not a valid geometry
  // never matches (clause 4.10: an entity without the target GeoProperty does not match).
  bool matches(const Json& storedGeometry) const;
  bool matches(const Geometry& stored) const;

  // Metric distance in metres from the reference geometry to `stored`, for ordering results by
  // proximity; nullopt if `stored` is not a valid geometry.
  std::optional<double> distanceTo(const Json& storedGeometry) const;
  double distanceTo(const Geometry& stored) const;

  // A box (degrees) that the bounding box of every matching stored geometry intersects, for an
  // R*Tree prefilter; nullopt when no box bounds the matches (disjoint, near;minDistance).
  // near;maxDistance: the reference bbox grown by the distance (+1 % and 1 m of slack), with the
  // longitude growth taken at the box's highest latitude; the full longitude range when the
  // circle reaches a pole or crosses the antimeridian.
  std::optional<BoundingBox> searchBox() const;

  const GeoQuery& query() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace allmende::geo
