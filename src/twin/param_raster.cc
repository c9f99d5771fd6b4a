#include "twin/param_raster.h"

#include <cmath>

#include "twin/crs.h"

namespace allmende::twin {

Status checkParamRaster(const Raster& r, const ParamKind& kind) {
  for (size_t k = 0; k < r.cells(); ++k) {
    double v = r.v[k];
    if (r.isNoData(k) || std::isnan(v)) continue;
    bool ok = (kind.minExclusive ? v > kind.min : v >= kind.min) && v <= kind.max;
    if (!ok) {
      char buf[200];
      std::snprintf(buf, sizeof buf, "%s raster: cell (%zu, %zu) holds %g; values must lie in %s%g, %g] (or no-data)",
                    kind.name, k % size_t(r.nx), k / size_t(r.nx), v, kind.minExclusive ? "(" : "[", kind.min,
                    kind.max);
      return badRequestData(buf);
    }
  }
  return Status::ok();
}

Result<std::vector<double>> sampleOnGrid(const Raster& r, const Raster& grid) {
  CrsTransform toRaster;
  if (!r.crsWkt.empty() && !grid.crsWkt.empty() && r.crsWkt != grid.crsWkt) {
    auto t = CrsTransform::make(grid.crsWkt, r.crsWkt);
    if (!t) return t.status();
    toRaster = std::move(*t);
  }
  std::vector<double> out(grid.cells(), NAN);
  for (int j = 0; j < grid.ny; ++j) {
    for (int i = 0; i < grid.nx; ++i) {
      double x = grid.originX + (i + 0.5) * grid.dx, y = grid.originY - (j + 0.5) * grid.dx;
      if (!toRaster.identity() && !toRaster.apply(x, y)) continue;
      double fi = std::floor((x - r.originX) / r.dx), fj = std::floor((r.originY - y) / r.dx);
      if (!(fi >= 0 && fj >= 0 && fi < r.nx && fj < r.ny)) continue;
      size_t k = r.index(int(fi), int(fj));
      if (!r.isNoData(k) && !std::isnan(r.v[k])) out[grid.index(i, j)] = r.v[k];
    }
  }
  return out;
}

}  // namespace allmende::twin
