// Coordinate transformations of the digital twin (GDAL's OSR; only this file and raster_io.cc,
// overlay.cc see GDAL). Inputs that are not rasters (building footprints, land-use areas, virtual
// gauges) come as GeoJSON in WGS84 longitude/latitude (RFC 7946) or in a CRS they name; the
// solver works in the DEM's metric CRS; web maps and NGSI-LD want WGS84 again.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

namespace allmende::twin {

class CrsTransform {
 public:
  // A transformation from `from` to `to`, each a WKT text, "EPSG:n", "urn:ogc:def:crs:EPSG::n",
  // "OGC:CRS84" or "" (no CRS: the identity, whatever the other side). Axis order is always
  // x/easting then y/northing (longitude before latitude). Fails on a CRS GDAL does not know.
  static Result<CrsTransform> make(const std::string& from, const std::string& to);
  CrsTransform();  // the identity
  CrsTransform(CrsTransform&&) noexcept;
  CrsTransform& operator=(CrsTransform&&) noexcept;
  ~CrsTransform();

  // Transforms in place; false when the point cannot be transformed.
  bool apply(double& x, double& y) const;
  bool identity() const { return !impl_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The WKT of a CRS given as "EPSG:n" or any other form CrsTransform::make accepts.
Result<std::string> crsWkt(const std::string& crs);

// The WGS84 longitude/latitude CRS name for CrsTransform::make.
inline constexpr const char* kWgs84 = "OGC:CRS84";

}  // namespace allmende::twin
