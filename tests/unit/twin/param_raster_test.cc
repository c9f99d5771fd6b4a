// Roughness and loss rasters (twin/param_raster.h): sampled onto the DEM's grid by nearest
// neighbour (coarser, offset, other CRS), checked on their values, and in a run the same as
// land-use areas with the same values.
#include "twin/param_raster.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "twin/crs.h"
#include "twin/flood_run.h"
#include "twin/raster_io.h"

namespace allmende::twin {
namespace {

namespace fs = std::filesystem;

Raster utm(int nx, int ny, double dx, double x0 = 650000, double y0 = 5420000, double fill = 0) {
  Raster r(nx, ny, dx, fill);
  r.originX = x0;
  r.originY = y0;
  r.crsWkt = crsWkt("EPSG:25832").value();
  return r;
}

TEST(ParamRaster, NearestNeighbourAtTheDemCellCentres) {
  Raster dem = utm(20, 10, 2);
  // Cells of 4 m starting 4 m east of the DEM: the DEM's first two columns lie outside it.
  Raster r = utm(6, 5, 4, 650004);
  for (int j = 0; j < r.ny; ++j)
    for (int i = 0; i < r.nx; ++i) r.at(i, j) = 100 * j + i;
  r.hasNoData = true;
  r.noData = -5;
  r.at(1, 1) = -5;
  auto v = sampleOnGrid(r, dem);
  ASSERT_TRUE(v.isOk()) << v.status().detail();
  for (int j = 0; j < dem.ny; ++j) {
    for (int i = 0; i < dem.nx; ++i) {
      double x = 2 * i + 1 - 4, y = 2 * j + 1;  // the centre in the raster's frame (m from its corner)
      int ri = int(std::floor(x / 4)), rj = int(std::floor(y / 4));
      double got = (*v)[dem.index(i, j)];
      if (x < 0 || ri >= r.nx || rj >= r.ny || (ri == 1 && rj == 1))
        EXPECT_TRUE(std::isnan(got)) << i << "," << j;
      else
        EXPECT_EQ(got, 100 * rj + ri) << i << "," << j;
    }
  }
}

TEST(ParamRaster, OtherCrsIsTransformed) {
  Raster dem = utm(10, 10, 10);
  // The same area in ETRS89 / UTM zone 33N (EPSG:25833): a raster of 1 m cells around it whose
  // value is its own easting (zone 33) rounded down to the metre.
  auto to33 = CrsTransform::make(dem.crsWkt, crsWkt("EPSG:25833").value());
  ASSERT_TRUE(to33.isOk());
  double x = dem.originX, y = dem.originY;
  ASSERT_TRUE(to33->apply(x, y));
  Raster r(200, 200, 1);
  r.originX = std::floor(x) - 50;
  r.originY = std::floor(y) + 50;
  r.crsWkt = crsWkt("EPSG:25833").value();
  for (int j = 0; j < r.ny; ++j)
    for (int i = 0; i < r.nx; ++i) r.at(i, j) = r.originX + i;
  auto v = sampleOnGrid(r, dem);
  ASSERT_TRUE(v.isOk());
  for (int j = 0; j < dem.ny; ++j) {
    for (int i = 0; i < dem.nx; ++i) {
      double cx = dem.originX + (i + 0.5) * 10, cy = dem.originY - (j + 0.5) * 10;
      ASSERT_TRUE(to33->apply(cx, cy));
      EXPECT_EQ((*v)[dem.index(i, j)], std::floor(cx)) << i << "," << j;
    }
  }
}

TEST(ParamRaster, ValuesAreChecked) {
  Raster r = utm(3, 3, 1, 650000, 5420000, 0.03);
  EXPECT_TRUE(checkParamRaster(r, kManningRaster).isOk());
  r.at(2, 1) = 0;
  Status st = checkParamRaster(r, kManningRaster);
  EXPECT_EQ(st.type(), ErrorType::kBadRequestData);
  EXPECT_NE(st.detail().find("(2, 1)"), std::string::npos) << st.detail();
  r.hasNoData = true;
  r.noData = 0;  // now it is no-data
  EXPECT_TRUE(checkParamRaster(r, kManningRaster).isOk());
  Raster inf = utm(2, 2, 1, 650000, 5420000, 0);
  EXPECT_TRUE(checkParamRaster(inf, kInfiltrationRaster).isOk());  // 0 mm/h is allowed
  inf.at(0, 0) = -1;
  EXPECT_FALSE(checkParamRaster(inf, kInfiltrationRaster).isOk());
  inf.at(0, 0) = NAN;  // NaN counts as no-data
  EXPECT_TRUE(checkParamRaster(inf, kInfiltrationRaster).isOk());
}

class ParamRasterRuns : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("param_raster_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "in");
    // A closed bowl of 20 x 20 cells of 2 m, lowest in the middle.
    Raster dem = utm(20, 20, 2);
    for (int j = 0; j < 20; ++j)
      for (int i = 0; i < 20; ++i) dem.at(i, j) = 10 + 0.05 * (std::abs(i - 10) + std::abs(j - 10));
    ASSERT_TRUE(writeGeoTiff((dir_ / "in" / "dem.tif").string(), dem).isOk());
  }
  void TearDown() override { fs::remove_all(dir_); }

  ScenarioSpec spec(const std::string& json) {
    JsonDocument d;
    EXPECT_TRUE(parseJson(json, d).isOk());
    auto s = parseScenarioSpec(d);
    EXPECT_TRUE(s.isOk()) << s.status().detail();
    return *s;
  }

  fs::path dir_;
};

// The west half as a land-use area of a class with n = 1/64 (exact in the Float32 raster) and 40 mm/h, or the same
// values as rasters (Manning's n on a coarser grid of 4 m, infiltration on the DEM's own): the same run.
TEST_F(ParamRasterRuns, RastersActLikeLandUseAreasWithTheirValues) {
  const std::string rain = R"("rain":"uniform:120:10","durationSeconds":900,"manning":0.05)";
  std::ofstream(dir_ / "in" / "landuse.geojson")
      << R"({"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:25832"}},"features":[)"
         R"({"type":"Feature","id":"w","properties":{"landUse":"paved"},"geometry":{"type":"Polygon","coordinates":)"
         R"([[[650000,5419960],[650020,5419960],[650020,5420000],[650000,5420000],[650000,5419960]]]}}]})";
  auto byAreas =
      runFlood(spec("{" + rain + R"(,"landUseClasses":{"paved":{"manning":0.015625,"infiltrationMmPerHour":40}}})"),
               (dir_ / "in").string(), (dir_ / "areas").string(), {});
  ASSERT_TRUE(byAreas.isOk()) << byAreas.status().detail();
  fs::remove(dir_ / "in" / "landuse.geojson");

  Raster n = utm(10, 10, 4);
  n.hasNoData = true;
  n.noData = -1;
  for (int j = 0; j < 10; ++j)
    for (int i = 0; i < 10; ++i) n.at(i, j) = i < 5 ? 0.015625 : -1;
  Raster inf = utm(20, 20, 2);
  for (int j = 0; j < 20; ++j)
    for (int i = 0; i < 20; ++i) inf.at(i, j) = i < 10 ? 40 : 0;
  ASSERT_TRUE(writeGeoTiff((dir_ / "manning.tif").string(), n).isOk());
  ASSERT_TRUE(writeGeoTiff((dir_ / "infiltration.tif").string(), inf).isOk());
  FloodInputs in{(dir_ / "in" / "dem.tif").string(), "", "", (dir_ / "manning.tif").string(),
                 (dir_ / "infiltration.tif").string()};
  auto byRasters = runFlood(spec("{" + rain + "}"), in, (dir_ / "rasters").string(), {});
  ASSERT_TRUE(byRasters.isOk()) << byRasters.status().detail();

  EXPECT_EQ(byRasters->summary.steps, byAreas->summary.steps);
  EXPECT_GT(byAreas->summary.balance.losses, 0);
  EXPECT_EQ(byRasters->summary.balance.losses, byAreas->summary.balance.losses);
  EXPECT_EQ(byRasters->summary.balance.stored, byAreas->summary.balance.stored);
  auto a = readRaster((dir_ / "areas" / "max_depth.tif").string());
  auto b = readRaster((dir_ / "rasters" / "max_depth.tif").string());
  ASSERT_TRUE(a.isOk() && b.isOk());
  EXPECT_EQ(a->v, b->v);

  // Without the rasters (n = 0.05 and no losses everywhere) the run differs.
  auto none = runFlood(spec("{" + rain + "}"), FloodInputs{in.dem, "", "", "", ""}, (dir_ / "none").string(), {});
  ASSERT_TRUE(none.isOk());
  EXPECT_EQ(none->summary.balance.losses, 0);

  // A raster with a bad value fails the run, naming the file.
  n.at(0, 0) = 2;
  ASSERT_TRUE(writeGeoTiff((dir_ / "manning.tif").string(), n).isOk());
  auto bad = runFlood(spec("{" + rain + "}"), in, (dir_ / "bad").string(), {});
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().type(), ErrorType::kBadRequestData);
  EXPECT_NE(bad.status().detail().find("manning.tif"), std::string::npos) << bad.status().detail();
}

}  // namespace
}  // namespace allmende::twin
