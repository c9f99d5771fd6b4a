// Roughness and loss rasters of the digital twin (docs/twin.md, "Roughness and loss rasters"):
// Manning's n and an infiltration rate given per cell as a raster GDAL reads, on the DEM's grid
// or any other north-up grid in a metric CRS. They are put on the DEM's grid by nearest
// neighbour at the DEM's cell centres (transformed into the raster's CRS when it names another
// one); DEM cells outside the raster or on its no-data keep the scenario's value.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "twin/raster.h"

namespace allmende::twin {

// What a parameter raster holds and the values it may take.
struct ParamKind {
  const char* name;  // "manning", "infiltration" (in messages)
  double min, max;   // allowed values; `min` excluded when `minExclusive`
  bool minExclusive;
};
inline constexpr ParamKind kManningRaster{"manning", 0, 1, true};                // s m^-1/3
inline constexpr ParamKind kInfiltrationRaster{"infiltration", 0, 1000, false};  // mm/h

// Checks every value that is not no-data against `kind` (BadRequestData naming the first bad cell).
Status checkParamRaster(const Raster& r, const ParamKind& kind);

// The raster's value at the centre of every cell of `grid` (nearest neighbour), NaN where the
// centre lies outside the raster or on its no-data. A raster without CRS is taken to be in the
// grid's CRS. Fails when the CRS cannot be transformed.
Result<std::vector<double>> sampleOnGrid(const Raster& r, const Raster& grid);

}  // namespace allmende::twin
