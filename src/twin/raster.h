// Raster: a north-up grid of square cells in a metric CRS, the one grid type of the digital twin.
//
// Cell (i, j) is column i (west to east) and row j (north to south), as in GeoTIFF. Values are
// stored row by row. The DEM, roughness, results (maximum depth, ...) are all Rasters of the same
// shape; the solver works on plain vectors of the same layout.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace allmende::twin {

struct Raster {
  int nx = 0;              // columns
  int ny = 0;              // rows
  double dx = 1;           // cell size in metres (square cells)
  double originX = 0;      // x of the north-west corner (CRS units)
  double originY = 0;      // y of the north-west corner
  std::string crsWkt;      // CRS as WKT; empty for synthetic rasters
  std::vector<double> v;   // nx * ny values, row-major from the north-west corner
  bool hasNoData = false;
  double noData = -9999;

  Raster() = default;
  Raster(int nx_, int ny_, double dx_, double fill = 0) : nx(nx_), ny(ny_), dx(dx_), v(size_t(nx_) * ny_, fill) {}

  size_t index(int i, int j) const { return size_t(j) * nx + i; }
  double& at(int i, int j) { return v[index(i, j)]; }
  double at(int i, int j) const { return v[index(i, j)]; }
  size_t cells() const { return v.size(); }
  bool isNoData(size_t k) const { return hasNoData && v[k] == noData; }
  // A raster of the same shape and georeference, every value `fill`.
  Raster like(double fill) const {
    Raster r = *this;
    r.v.assign(v.size(), fill);
    return r;
  }
};

}  // namespace allmende::twin
