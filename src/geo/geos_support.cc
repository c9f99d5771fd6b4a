#include "geo/geos_support.h"

#include <cstdio>
#include <vector>

#include "geo/distance.h"

namespace allmende::geo::internal {

namespace {

// One GEOS context per thread, finished when the thread ends.
struct ThreadContext {
  GEOSContextHandle_t handle;
  std::string lastError;

  ThreadContext() : handle(GEOS_init_r()) {
    GEOSContext_setErrorMessageHandler_r(handle, &ThreadContext::onError, this);
  }
  ~ThreadContext() { GEOS_finish_r(handle); }
  ThreadContext(const ThreadContext&) = delete;
  ThreadContext& operator=(const ThreadContext&) = delete;

  static void onError(const char* message, void* self) {
    static_cast<ThreadContext*>(self)->lastError = message ? message : "";
  }
};

ThreadContext& threadContext() {
  thread_local ThreadContext ctx;
  return ctx;
}

// A coordinate sequence of `path`, in degrees or projected.
GEOSCoordSequence* sequenceOf(GEOSContextHandle_t ctx, const Geometry::Path& path, const LocalFrame* frame) {
  static_assert(sizeof(Position) == 2 * sizeof(double), "Position must be two packed doubles");
  if (!frame) {
    return GEOSCoordSeq_copyFromBuffer_r(ctx, reinterpret_cast<const double*>(path.data()),
                                         static_cast<unsigned>(path.size()), 0, 0);
  }
  std::vector<double> xy(path.size() * 2);
  for (size_t i = 0; i < path.size(); ++i) frame->project(path[i], xy[2 * i], xy[2 * i + 1]);
  return GEOSCoordSeq_copyFromBuffer_r(ctx, xy.data(), static_cast<unsigned>(path.size()), 0, 0);
}

GEOSGeometry* polygonOf(GEOSContextHandle_t ctx, const std::vector<Geometry::Path>& rings, const LocalFrame* frame) {
  GEOSCoordSequence* shellSeq = sequenceOf(ctx, rings[0], frame);
  GEOSGeometry* shell = shellSeq ? GEOSGeom_createLinearRing_r(ctx, shellSeq) : nullptr;
  if (!shell) return nullptr;
  std::vector<GEOSGeometry*> holes;
  for (size_t i = 1; i < rings.size(); ++i) {
    GEOSCoordSequence* seq = sequenceOf(ctx, rings[i], frame);
    GEOSGeometry* hole = seq ? GEOSGeom_createLinearRing_r(ctx, seq) : nullptr;
    if (!hole) {
      for (GEOSGeometry* h : holes) GEOSGeom_destroy_r(ctx, h);
      GEOSGeom_destroy_r(ctx, shell);
      return nullptr;
    }
    holes.push_back(hole);
  }
  // Takes ownership of shell and holes.
  return GEOSGeom_createPolygon_r(ctx, shell, holes.data(), static_cast<unsigned>(holes.size()));
}

// A collection of `type` from `members` (owned; destroyed on failure).
GEOSGeometry* collectionOf(GEOSContextHandle_t ctx, int type, std::vector<GEOSGeometry*>& members) {
  for (GEOSGeometry* m : members) {
    if (!m) {
      for (GEOSGeometry* x : members) if (x) GEOSGeom_destroy_r(ctx, x);
      return nullptr;
    }
  }
  return GEOSGeom_createCollection_r(ctx, type, members.data(), static_cast<unsigned>(members.size()));
}

}  // namespace

GEOSContextHandle_t geosContext() { return threadContext().handle; }
const std::string& lastGeosError() { return threadContext().lastError; }

void GeomDeleter::operator()(GEOSGeometry* g) const { GEOSGeom_destroy_r(geosContext(), g); }
void PreparedDeleter::operator()(const GEOSPreparedGeometry* p) const { GEOSPreparedGeom_destroy_r(geosContext(), p); }

GeomPtr toGeos(const Geometry& g, const LocalFrame* frame) {
  GEOSContextHandle_t ctx = geosContext();
  GEOSGeometry* out = nullptr;
  switch (g.type) {
    case GeometryType::kPoint:
    case GeometryType::kLineString: {
      GEOSCoordSequence* seq = sequenceOf(ctx, g.parts[0][0], frame);
      if (!seq) return nullptr;
      out = g.type == GeometryType::kPoint ? GEOSGeom_createPoint_r(ctx, seq) : GEOSGeom_createLineString_r(ctx, seq);
      break;
    }
    case GeometryType::kMultiPoint: {
      std::vector<GEOSGeometry*> points;
      for (const Position& p : g.parts[0][0]) {
        GEOSCoordSequence* seq = sequenceOf(ctx, Geometry::Path{p}, frame);
        points.push_back(seq ? GEOSGeom_createPoint_r(ctx, seq) : nullptr);
      }
      out = collectionOf(ctx, GEOS_MULTIPOINT, points);
      break;
    }
    case GeometryType::kMultiLineString: {
      std::vector<GEOSGeometry*> lines;
      for (const auto& path : g.parts[0]) {
        GEOSCoordSequence* seq = sequenceOf(ctx, path, frame);
        lines.push_back(seq ? GEOSGeom_createLineString_r(ctx, seq) : nullptr);
      }
      out = collectionOf(ctx, GEOS_MULTILINESTRING, lines);
      break;
    }
    case GeometryType::kPolygon: out = polygonOf(ctx, g.parts[0], frame); break;
    case GeometryType::kMultiPolygon: {
      std::vector<GEOSGeometry*> polys;
      for (const auto& rings : g.parts) polys.push_back(polygonOf(ctx, rings, frame));
      out = collectionOf(ctx, GEOS_MULTIPOLYGON, polys);
      break;
    }
  }
  return GeomPtr(out);
}

PreparedPtr prepare(const GEOSGeometry& g) { return PreparedPtr(GEOSPrepare_r(geosContext(), &g)); }

}  // namespace allmende::geo::internal
