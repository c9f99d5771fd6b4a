// GeoTIFF input and output of the digital twin, through GDAL. The solver never sees GDAL: it
// works on Rasters, which tests build in memory.
#pragma once

#include <string>

#include "common/status.h"
#include "twin/raster.h"

namespace allmende::twin {

// Reads band 1 of a raster file GDAL can open (GeoTIFF, ...). Fails unless the raster is north-up
// with square cells and, when it has a CRS, the CRS is projected (metric cell sizes).
Result<Raster> readRaster(const std::string& path);

enum class CellType { kFloat32, kByte };
// Writes `r` as a GeoTIFF (deflate-compressed) with its georeference and no-data value.
Status writeGeoTiff(const std::string& path, const Raster& r, CellType type = CellType::kFloat32);

}  // namespace allmende::twin
