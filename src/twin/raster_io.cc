#include "twin/raster_io.h"

#include <gdal/cpl_conv.h>
#include <gdal/cpl_string.h>
#include <gdal/gdal.h>
#include <gdal/ogr_srs_api.h>

#include <cmath>
#include <mutex>

namespace allmende::twin {

namespace {
void registerDrivers() {
  static std::once_flag once;
  std::call_once(once, [] {
    GDALAllRegister();
    CPLSetErrorHandler(CPLQuietErrorHandler);  // errors come back as Status, not on stderr
  });
}

std::string lastError() {
  const char* m = CPLGetLastErrorMsg();
  return m && *m ? std::string(": ") + m : std::string();
}

// A projected CRS, or none (a synthetic raster): a geographic one has degrees as cell size.
bool metricCrs(const char* wkt) {
  if (!wkt || !*wkt) return true;
  OGRSpatialReferenceH srs = OSRNewSpatialReference(wkt);
  bool ok = srs && OSRIsProjected(srs);
  if (srs) OSRDestroySpatialReference(srs);
  return ok;
}
}  // namespace

Result<Raster> readRaster(const std::string& path) {
  registerDrivers();
  GDALDatasetH ds = GDALOpen(path.c_str(), GA_ReadOnly);
  if (!ds) return badRequestData("cannot open raster '" + path + "'" + lastError());
  struct Closer {
    GDALDatasetH d;
    ~Closer() { GDALClose(d); }
  } closer{ds};
  double gt[6];
  if (GDALGetGeoTransform(ds, gt) != CE_None) return badRequestData("'" + path + "' has no geotransform");
  if (gt[2] != 0 || gt[4] != 0 || gt[5] >= 0 || std::abs(gt[1] + gt[5]) > 1e-9 * gt[1]) {
    return badRequestData("'" + path + "' must be north-up with square cells");
  }
  if (!metricCrs(GDALGetProjectionRef(ds))) return badRequestData("'" + path + "' must be in a projected (metric) CRS");
  Raster r(GDALGetRasterXSize(ds), GDALGetRasterYSize(ds), gt[1]);
  r.originX = gt[0];
  r.originY = gt[3];
  r.crsWkt = GDALGetProjectionRef(ds);
  GDALRasterBandH band = GDALGetRasterBand(ds, 1);
  if (!band) return badRequestData("'" + path + "' has no band");
  int hasNoData = 0;
  double noData = GDALGetRasterNoDataValue(band, &hasNoData);
  r.hasNoData = hasNoData != 0;
  if (r.hasNoData) r.noData = noData;
  if (GDALRasterIO(band, GF_Read, 0, 0, r.nx, r.ny, r.v.data(), r.nx, r.ny, GDT_Float64, 0, 0) != CE_None) {
    return badRequestData("cannot read '" + path + "'" + lastError());
  }
  return r;
}

Status writeGeoTiff(const std::string& path, const Raster& r, CellType type) {
  registerDrivers();
  GDALDriverH driver = GDALGetDriverByName("GTiff");
  if (!driver) return internalError("GDAL has no GTiff driver");
  char** options = CSLSetNameValue(nullptr, "COMPRESS", "DEFLATE");
  GDALDataType cell = type == CellType::kByte ? GDT_Byte : GDT_Float32;
  GDALDatasetH ds = GDALCreate(driver, path.c_str(), r.nx, r.ny, 1, cell, options);
  CSLDestroy(options);
  if (!ds) return internalError("cannot create '" + path + "'" + lastError());
  double gt[6] = {r.originX, r.dx, 0, r.originY, 0, -r.dx};
  GDALSetGeoTransform(ds, gt);
  if (!r.crsWkt.empty()) GDALSetProjection(ds, r.crsWkt.c_str());
  GDALRasterBandH band = GDALGetRasterBand(ds, 1);
  if (r.hasNoData) GDALSetRasterNoDataValue(band, r.noData);
  CPLErr err = GDALRasterIO(band, GF_Write, 0, 0, r.nx, r.ny, const_cast<double*>(r.v.data()), r.nx, r.ny,
                            GDT_Float64, 0, 0);
  GDALClose(ds);
  if (err != CE_None) return internalError("cannot write '" + path + "'" + lastError());
  return Status::ok();
}

}  // namespace allmende::twin
