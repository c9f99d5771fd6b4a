// Internal to geo/: GEOS (C API, reentrant _r functions) behind RAII.
//
// Every thread gets its own GEOS context handle, created on first use and finished when the
// thread exits. GEOS objects are plain heap objects not tied to the context that made them, so
// an object made on one thread may be read or destroyed on another; prepared geometries
// however are NOT safe for concurrent use (they build indexes lazily), see GeoFilter.
#pragma once

#define GEOS_USE_ONLY_R_API
#include <geos_c.h>

#include <memory>
#include <string>

#include "geo/geometry.h"

namespace allmende::geo {
class LocalFrame;  // distance.h
}

namespace allmende::geo::internal {

// The calling thread's GEOS context.
GEOSContextHandle_t geosContext();
// The last error GEOS reported on the calling thread (empty if none).
const std::string& lastGeosError();

struct GeomDeleter {
  void operator()(GEOSGeometry* g) const;
};
struct PreparedDeleter {
  void operator()(const GEOSPreparedGeometry* p) const;
};
using GeomPtr = std::unique_ptr<GEOSGeometry, GeomDeleter>;
using PreparedPtr = std::unique_ptr<const GEOSPreparedGeometry, PreparedDeleter>;

// Builds the GEOS geometry of `g` in degrees, or projected to metres through `frame` if given. nullptr only if GEOS
// itself fails (out of memory).
GeomPtr toGeos(const Geometry& g, const geo::LocalFrame* frame = nullptr);

// Prepares `g` (which must outlive the result).
PreparedPtr prepare(const GEOSGeometry& g);

}  // namespace allmende::geo::internal
