// Web map overlays of flood results, for a Leaflet map without a tile server:
// - a PNG of the depth classes, warped to WGS84 longitude/latitude, with its bounds
//   (L.imageOverlay(url, [[south, west], [north, east]]));
// - the depth classes as GeoJSON polygons in WGS84 (RFC 7946), one feature per connected area
//   of one class (L.geoJSON, styled by the "class" property).
// Both need a DEM with a CRS; GDAL does the warping and the polygon tracing.
#pragma once

#include <string>

#include "common/status.h"
#include "twin/raster.h"

namespace allmende::twin {

struct Bounds {
  double west = 0, south = 0, east = 0, north = 0;  // degrees
};

// The RGBA colour of a depth class (twin/hazard.h depthClass); class 0 is transparent.
void depthClassColour(int cls, unsigned char rgba[4]);

// Writes `classes` (values 0..4) as an RGBA PNG in WGS84; returns its bounds. FailedPrecondition
// style BadRequestData when the raster has no CRS.
Result<Bounds> writeClassPng(const std::string& path, const Raster& classes);

// Writes the non-zero classes as GeoJSON polygons in WGS84 with properties "class" (1..4) and
// "depth" (the band as text, e.g. "0.1-0.3 m").
Status writeClassPolygons(const std::string& path, const Raster& classes);

}  // namespace allmende::twin
