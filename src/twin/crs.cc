#include "twin/crs.h"

#include <gdal/cpl_conv.h>
#include <gdal/ogr_srs_api.h>

namespace allmende::twin {

struct CrsTransform::Impl {
  OGRSpatialReferenceH from = nullptr, to = nullptr;
  OGRCoordinateTransformationH transform = nullptr;
  ~Impl() {
    if (transform) OCTDestroyCoordinateTransformation(transform);
    if (from) OSRDestroySpatialReference(from);
    if (to) OSRDestroySpatialReference(to);
  }
};

namespace {

Result<OGRSpatialReferenceH> spatialReference(const std::string& text) {
  OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
  if (OSRSetFromUserInput(srs, text.c_str()) != OGRERR_NONE) {
    OSRDestroySpatialReference(srs);
    return badRequestData("unknown coordinate reference system '" + text.substr(0, 120) + "'");
  }
  // Longitude before latitude, easting before northing, whatever the CRS's official axis order.
  OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
  return srs;
}

}  // namespace

CrsTransform::CrsTransform() = default;
CrsTransform::CrsTransform(CrsTransform&&) noexcept = default;
CrsTransform& CrsTransform::operator=(CrsTransform&&) noexcept = default;
CrsTransform::~CrsTransform() = default;

Result<CrsTransform> CrsTransform::make(const std::string& from, const std::string& to) {
  CrsTransform t;
  if (from.empty() || to.empty()) return t;
  auto impl = std::make_unique<Impl>();
  auto f = spatialReference(from);
  if (!f) return f.status();
  impl->from = *f;
  auto d = spatialReference(to);
  if (!d) return d.status();
  impl->to = *d;
  if (OSRIsSame(impl->from, impl->to)) return t;
  impl->transform = OCTNewCoordinateTransformation(impl->from, impl->to);
  if (!impl->transform) return badRequestData("no transformation from '" + from.substr(0, 80) + "' to the DEM's CRS");
  t.impl_ = std::move(impl);
  return t;
}

Result<std::string> crsWkt(const std::string& crs) {
  auto srs = spatialReference(crs);
  if (!srs) return srs.status();
  char* wkt = nullptr;
  OSRExportToWkt(*srs, &wkt);
  std::string out = wkt ? wkt : "";
  CPLFree(wkt);
  OSRDestroySpatialReference(*srs);
  return out;
}

bool CrsTransform::apply(double& x, double& y) const {
  if (!impl_) return true;
  return OCTTransform(impl_->transform, 1, &x, &y, nullptr) == TRUE;
}

}  // namespace allmende::twin
