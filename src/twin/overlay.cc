#include "twin/overlay.h"

#include <gdal/cpl_conv.h>
#include <gdal/gdal.h>
#include <gdal/gdal_alg.h>
#include <gdal/gdalwarper.h>
#include <gdal/ogr_api.h>
#include <gdal/ogr_srs_api.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

namespace allmende::twin {

namespace {

struct DatasetCloser {
  GDALDatasetH d = nullptr;
  ~DatasetCloser() {
    if (d) GDALClose(d);
  }
};

std::string gdalError() {
  const char* m = CPLGetLastErrorMsg();
  return m && *m ? std::string(": ") + m : std::string();
}

// An in-memory dataset of `bands` Byte bands with the raster's shape and georeference.
void registerDrivers() {
  static std::once_flag once;
  std::call_once(once, [] { GDALAllRegister(); });
}

Result<GDALDatasetH> memDataset(const Raster& r, int bands) {
  registerDrivers();
  GDALDriverH mem = GDALGetDriverByName("MEM");
  if (!mem) return internalError("GDAL has no MEM driver");
  GDALDatasetH ds = GDALCreate(mem, "", r.nx, r.ny, bands, GDT_Byte, nullptr);
  if (!ds) return internalError("cannot create an in-memory raster" + gdalError());
  double gt[6] = {r.originX, r.dx, 0, r.originY, 0, -r.dx};
  GDALSetGeoTransform(ds, gt);
  GDALSetProjection(ds, r.crsWkt.c_str());
  return ds;
}

std::string wgs84Wkt() {
  OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
  OSRImportFromEPSG(srs, 4326);
  OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
  char* wkt = nullptr;
  OSRExportToWkt(srs, &wkt);
  std::string out = wkt ? wkt : "";
  CPLFree(wkt);
  OSRDestroySpatialReference(srs);
  return out;
}

const char* kBands[] = {"", "0.1-0.3 m", "0.3-0.5 m", "0.5-1 m", "> 1 m"};

}  // namespace

void depthClassColour(int cls, unsigned char rgba[4]) {
  // Light to dark blue, as on German heavy-rain hazard maps.
  static const unsigned char colours[5][4] = {
      {0, 0, 0, 0}, {160, 210, 250, 200}, {80, 150, 235, 210}, {30, 80, 200, 220}, {10, 25, 120, 230}};
  int c = cls < 0 ? 0 : cls > 4 ? 4 : cls;
  for (int k = 0; k < 4; ++k) rgba[k] = colours[c][k];
}

Result<Bounds> writeClassPng(const std::string& path, const Raster& classes) {
  if (classes.crsWkt.empty()) return badRequestData("map overlays need a DEM with a coordinate reference system");
  auto src = memDataset(classes, 4);
  if (!src) return src.status();
  DatasetCloser srcCloser{*src};
  std::vector<unsigned char> band(classes.cells());
  for (int b = 0; b < 4; ++b) {
    for (size_t k = 0; k < classes.cells(); ++k) {
      unsigned char rgba[4];
      depthClassColour(int(classes.v[k]), rgba);
      band[k] = rgba[b];
    }
    GDALRasterBandH h = GDALGetRasterBand(*src, b + 1);
    GDALSetRasterColorInterpretation(h, GDALColorInterp(GCI_RedBand + b));
    if (GDALRasterIO(h, GF_Write, 0, 0, classes.nx, classes.ny, band.data(), classes.nx, classes.ny, GDT_Byte, 0, 0) !=
        CE_None) {
      return internalError("cannot fill the overlay raster" + gdalError());
    }
  }
  std::string dstWkt = wgs84Wkt();
  // Nearest neighbour keeps the classes' colours exact; the alpha band makes the margin clear.
  GDALDatasetH warped =
      GDALAutoCreateWarpedVRT(*src, classes.crsWkt.c_str(), dstWkt.c_str(), GRA_NearestNeighbour, 0.0, nullptr);
  if (!warped) return internalError("cannot warp the overlay to WGS84" + gdalError());
  DatasetCloser warpedCloser{warped};
  GDALDriverH png = GDALGetDriverByName("PNG");
  if (!png) return internalError("GDAL has no PNG driver");
  GDALDatasetH out = GDALCreateCopy(png, path.c_str(), warped, FALSE, nullptr, nullptr, nullptr);
  if (!out) return internalError("cannot write " + path + gdalError());
  GDALClose(out);
  std::error_code ec;
  std::filesystem::remove(path + ".aux.xml", ec);  // GDAL's side file: the bounds are served instead
  double gt[6];
  GDALGetGeoTransform(warped, gt);
  Bounds b;
  b.west = gt[0];
  b.north = gt[3];
  b.east = gt[0] + gt[1] * GDALGetRasterXSize(warped);
  b.south = gt[3] + gt[5] * GDALGetRasterYSize(warped);
  return b;
}

Status writeClassPolygons(const std::string& path, const Raster& classes) {
  if (classes.crsWkt.empty()) return badRequestData("map overlays need a DEM with a coordinate reference system");
  auto src = memDataset(classes, 1);
  if (!src) return src.status();
  DatasetCloser srcCloser{*src};
  std::vector<unsigned char> band(classes.cells());
  for (size_t k = 0; k < classes.cells(); ++k) band[k] = static_cast<unsigned char>(classes.v[k]);
  GDALRasterBandH h = GDALGetRasterBand(*src, 1);
  if (GDALRasterIO(h, GF_Write, 0, 0, classes.nx, classes.ny, band.data(), classes.nx, classes.ny, GDT_Byte, 0, 0) !=
      CE_None) {
    return internalError("cannot fill the class raster" + gdalError());
  }
  // Traced into a memory layer in the DEM's CRS, then copied with labels to GeoJSON.
  GDALDriverH memory = GDALGetDriverByName("Memory");
  GDALDriverH geojson = GDALGetDriverByName("GeoJSON");
  if (!memory || !geojson) return internalError("GDAL has no Memory or GeoJSON driver");
  DatasetCloser traced{GDALCreate(memory, "", 0, 0, 0, GDT_Unknown, nullptr)};
  OGRSpatialReferenceH srs = OSRNewSpatialReference(classes.crsWkt.c_str());
  OGRLayerH tracedLayer = traced.d ? GDALDatasetCreateLayer(traced.d, "classes", srs, wkbPolygon, nullptr) : nullptr;
  if (!tracedLayer) {
    OSRDestroySpatialReference(srs);
    return internalError("cannot create the polygon layer" + gdalError());
  }
  OGRFieldDefnH field = OGR_Fld_Create("class", OFTInteger);
  OGR_L_CreateField(tracedLayer, field, TRUE);
  // The class band is its own mask: class 0 (below 0.1 m) yields no polygon.
  if (GDALPolygonize(h, h, tracedLayer, 0, nullptr, nullptr, nullptr) != CE_None) {
    OGR_Fld_Destroy(field);
    OSRDestroySpatialReference(srs);
    return internalError("cannot trace the class polygons" + gdalError());
  }
  std::error_code ec;
  std::filesystem::remove(path, ec);
  DatasetCloser out{GDALCreate(geojson, path.c_str(), 0, 0, 0, GDT_Unknown, nullptr)};
  // RFC 7946: the driver reprojects to WGS84 longitude/latitude.
  const char* options[] = {"RFC7946=YES", "COORDINATE_PRECISION=7", nullptr};
  OGRLayerH layer =
      out.d ? GDALDatasetCreateLayer(out.d, "hazard", srs, wkbPolygon, const_cast<char**>(options)) : nullptr;
  OSRDestroySpatialReference(srs);
  if (!layer) {
    OGR_Fld_Destroy(field);
    return internalError("cannot create " + path + gdalError());
  }
  OGR_L_CreateField(layer, field, TRUE);
  OGR_Fld_Destroy(field);
  OGRFieldDefnH label = OGR_Fld_Create("depth", OFTString);
  OGR_L_CreateField(layer, label, TRUE);
  OGR_Fld_Destroy(label);
  OGR_L_ResetReading(tracedLayer);
  OGRFeatureH f;
  while ((f = OGR_L_GetNextFeature(tracedLayer)) != nullptr) {
    int cls = OGR_F_GetFieldAsInteger(f, 0);
    OGRFeatureH copy = OGR_F_Create(OGR_L_GetLayerDefn(layer));
    OGR_F_SetGeometry(copy, OGR_F_GetGeometryRef(f));
    OGR_F_SetFieldInteger(copy, 0, cls);
    OGR_F_SetFieldString(copy, 1, kBands[cls < 0 || cls > 4 ? 0 : cls]);
    OGRErr err = OGR_L_CreateFeature(layer, copy);
    OGR_F_Destroy(copy);
    OGR_F_Destroy(f);
    if (err != OGRERR_NONE) return internalError("cannot write a class polygon" + gdalError());
  }
  return Status::ok();
}

}  // namespace allmende::twin
