// Vector inputs of the digital twin: building footprints and land-use areas (polygons) and
// virtual gauges (points), read from GeoJSON and put on the DEM's grid.
//
// Coordinates are WGS84 longitude/latitude (RFC 7946) unless the FeatureCollection names its CRS
// in the 2008 GeoJSON way ("crs": {"type": "name", "properties": {"name": "EPSG:25832"}}), as
// German cadastre exports (ALKIS, ETRS89/UTM) often do; for a DEM without a CRS (synthetic
// terrains) they are the DEM's own coordinates.
#pragma once

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "twin/raster.h"

namespace allmende::twin {

struct Vec2 {
  double x = 0, y = 0;
};
using Ring = std::vector<Vec2>;
using Polygon = std::vector<Ring>;  // outer ring, then holes

struct Feature {
  std::string id;                 // the feature's "id", else properties.id, else its position (1, 2, ...)
  std::string name;               // properties.name, or ""
  std::vector<Polygon> polygons;  // Polygon / MultiPolygon, in the DEM's CRS
  Vec2 point;                     // Point, in the DEM's CRS
  bool isPoint = false;
  std::string geometryWgs84;  // the geometry as GeoJSON text in WGS84, "" when unknown
  double height = NAN;        // properties.height (m), buildings
  std::string landUse;        // properties.landUse or properties.class, land-use areas
};

// The features of a GeoJSON FeatureCollection (or a single Feature). `points` selects Point
// geometries (gauges), else Polygon/MultiPolygon (footprints, areas); other geometries and
// features without geometry fail with BadRequestData naming the feature.
Result<std::vector<Feature>> parseFeatures(std::string_view geojson, const Raster& dem, bool points);

// The cells whose centres lie inside the feature's polygons (even-odd rule, holes excluded),
// ascending. Empty for a polygon smaller than a cell between centres.
std::vector<size_t> cellsInside(const Feature& f, const Raster& grid);

// The cell holding (x, y) in the grid's CRS, or false when outside.
bool cellAt(const Raster& grid, double x, double y, int& i, int& j);

}  // namespace allmende::twin
