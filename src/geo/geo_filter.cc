#include "geo/geo_filter.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <mutex>
#include <numbers>
#include <vector>

#include "geo/distance.h"
#include "geo/geos_support.h"

namespace allmende::geo {

namespace {
constexpr double kRadToDeg = 180.0 / std::numbers::pi;
// Slack added to the near search box: projected distances of non-point geometries may differ
// from the spherical truth by well under 1 % at the scales where the box matters.
constexpr double kSearchBoxRelativeSlack = 0.01;
constexpr double kSearchBoxAbsoluteSlackMeters = 1.0;
}  // namespace

struct GeoFilter::Impl {
  // One prepared copy of the reference geometry, used by one thread at a time.
  struct Prepared {
    internal::GeomPtr geom;
    internal::PreparedPtr prepared;
  };

  GeoQuery query;
  BoundingBox referenceBox;
  std::optional<LocalFrame> frame;  // near only: metres around the reference
  internal::GeomPtr reference;      // degrees, or metres in `frame` for near

  std::mutex poolMutex;
  std::vector<std::unique_ptr<Prepared>> pool;  // GUARDED_BY(poolMutex)

  explicit Impl(GeoQuery q) : query(std::move(q)), referenceBox(bboxOf(query.geometry)) {
    if (query.georel == GeoRel::kNear) {
      frame.emplace(query.geometry.type == GeometryType::kPoint
                        ? query.geometry.point()
                        : Position{(referenceBox.minX + referenceBox.maxX) / 2, (referenceBox.minY + referenceBox.maxY) / 2});
    }
    reference = internal::toGeos(query.geometry, frame ? &*frame : nullptr);
  }

  ~Impl() {
    // Prepared geometries reference their own clone; destroy them first.
    for (auto& p : pool) p->prepared.reset();
  }

  // Hands out a prepared geometry for the caller's exclusive use and takes it back after.
  class Lease {
   public:
    explicit Lease(Impl& impl) : impl_(impl) {
      {
        std::lock_guard<std::mutex> lock(impl_.poolMutex);
        if (!impl_.pool.empty()) {
          p_ = std::move(impl_.pool.back());
          impl_.pool.pop_back();
          return;
        }
      }
      // Cloned so that no two threads ever touch the same GEOS object.
      p_ = std::make_unique<Prepared>();
      {
        std::lock_guard<std::mutex> lock(impl_.poolMutex);  // `reference` is read by clones only
        if (impl_.reference) p_->geom.reset(GEOSGeom_clone_r(internal::geosContext(), impl_.reference.get()));
      }
      if (p_->geom) p_->prepared = internal::prepare(*p_->geom);
    }
    ~Lease() {
      std::lock_guard<std::mutex> lock(impl_.poolMutex);
      impl_.pool.push_back(std::move(p_));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    bool ok() const { return p_->prepared != nullptr; }
    const GEOSGeometry* geom() const { return p_->geom.get(); }
    const GEOSPreparedGeometry* prepared() const { return p_->prepared.get(); }

   private:
    Impl& impl_;
    std::unique_ptr<Prepared> p_;
  };

  double distance(const Geometry& stored) {
    if (query.geometry.type == GeometryType::kPoint && stored.type == GeometryType::kPoint) {
      return haversineMeters(query.geometry.point(), stored.point());
    }
    if (!frame) return distanceMeters(query.geometry, stored);
    internal::GeomPtr target = internal::toGeos(stored, &*frame);
    Lease lease(*this);
    double d = 0;
    if (!target || !lease.ok() || GEOSPreparedDistance_r(internal::geosContext(), lease.prepared(), target.get(), &d) != 1) {
      return std::nan("");
    }
    return d;
  }

  bool matchNear(const Geometry& stored) {
    double d = distance(stored);
    if (std::isnan(d)) return false;
    if (query.maxDistance) return d <= *query.maxDistance;
    if (query.minDistance) return d > *query.minDistance;  // NGSI-LD 4.10: disjoint with the buffer
    return false;
  }

  bool matchTopology(const Geometry& stored) {
    internal::GeomPtr target = internal::toGeos(stored);
    Lease lease(*this);
    if (!target || !lease.ok()) return false;
    GEOSContextHandle_t ctx = internal::geosContext();
    const GEOSPreparedGeometry* ref = lease.prepared();
    char r = 0;
    switch (query.georel) {
      // The prepared geometry is the reference, so target-within-reference is reference-contains-target.
      case GeoRel::kWithin: r = GEOSPreparedContains_r(ctx, ref, target.get()); break;
      case GeoRel::kContains: r = GEOSPreparedWithin_r(ctx, ref, target.get()); break;
      case GeoRel::kIntersects: r = GEOSPreparedIntersects_r(ctx, ref, target.get()); break;
      case GeoRel::kOverlaps: r = GEOSPreparedOverlaps_r(ctx, ref, target.get()); break;
      case GeoRel::kDisjoint: r = GEOSPreparedDisjoint_r(ctx, ref, target.get()); break;
      case GeoRel::kEquals: r = GEOSEquals_r(ctx, lease.geom(), target.get()); break;
      case GeoRel::kNear: assert(false); break;
    }
    return r == 1;  // 2 = GEOS exception (e.g. a topology error): no match
  }
};

GeoFilter::GeoFilter(GeoQuery query) : impl_(std::make_unique<Impl>(std::move(query))) {}
GeoFilter::~GeoFilter() = default;
GeoFilter::GeoFilter(GeoFilter&&) noexcept = default;
GeoFilter& GeoFilter::operator=(GeoFilter&&) noexcept = default;

const GeoQuery& GeoFilter::query() const { return impl_->query; }

bool GeoFilter::matches(const Geometry& stored) const {
  return impl_->query.georel == GeoRel::kNear ? impl_->matchNear(stored) : impl_->matchTopology(stored);
}

bool GeoFilter::matches(const Json& storedGeometry) const {
  // Stored values were validated on write; a structural parse suffices here.
  Result<Geometry> g = parseGeometry(storedGeometry, GeometryCheck{.topology = false});
  return g.isOk() && matches(*g);
}

double GeoFilter::distanceTo(const Geometry& stored) const { return impl_->distance(stored); }

std::optional<double> GeoFilter::distanceTo(const Json& storedGeometry) const {
  Result<Geometry> g = parseGeometry(storedGeometry, GeometryCheck{.topology = false});
  if (!g.isOk()) return std::nullopt;
  double d = distanceTo(*g);
  if (std::isnan(d)) return std::nullopt;
  return d;
}

std::optional<BoundingBox> GeoFilter::searchBox() const {
  const GeoQuery& q = impl_->query;
  if (q.georel == GeoRel::kDisjoint || q.minDistance) return std::nullopt;
  BoundingBox box = impl_->referenceBox;
  if (q.georel != GeoRel::kNear) return box;

  double meters = *q.maxDistance * (1 + kSearchBoxRelativeSlack) + kSearchBoxAbsoluteSlackMeters;
  double delta = meters / kEarthRadiusMeters;  // angular radius of the circle
  double dLat = delta * kRadToDeg;
  box.minY -= dLat;
  box.maxY += dLat;
  if (delta >= std::numbers::pi / 2 || box.minY <= -90 || box.maxY >= 90) {
    // The circle reaches a pole: every longitude is within reach.
    return BoundingBox{-180, std::max(box.minY, -90.0), 180, std::min(box.maxY, 90.0)};
  }
  // Widest longitude extent of a spherical cap of radius delta centred at latitude phi is
  // asin(sin(delta) / cos(phi)); it grows with |phi|, so take the reference's highest latitude.
  double phi = std::max(std::abs(impl_->referenceBox.minY), std::abs(impl_->referenceBox.maxY)) / kRadToDeg;
  double s = std::sin(delta) / std::cos(phi);
  if (s >= 1) return BoundingBox{-180, box.minY, 180, box.maxY};
  double dLon = std::asin(s) * kRadToDeg;
  box.minX -= dLon;
  box.maxX += dLon;
  if (box.minX < -180 || box.maxX > 180) {
    // Crosses the antimeridian; one box cannot wrap, so take the whole latitude band.
    box.minX = -180;
    box.maxX = 180;
  }
  return box;
}

}  // namespace allmende::geo
