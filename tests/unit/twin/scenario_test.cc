// GeoTIFF round trip, hazard classes and a whole scenario from a DEM file to result rasters.
#include "twin/scenario.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "twin/hazard.h"
#include "twin/raster_io.h"

namespace allmende::twin {
namespace {

namespace fs = std::filesystem;

// ETRS89 / UTM zone 32N, the CRS of German DGM1 tiles (EPSG:25832), as WKT.
const char* kUtm32 =
    "PROJCS[\"ETRS89 / UTM zone 32N\",GEOGCS[\"ETRS89\",DATUM[\"European_Terrestrial_Reference_System_1989\","
    "SPHEROID[\"GRS 1980\",6378137,298.257222101]],PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433]],"
    "PROJECTION[\"Transverse_Mercator\"],PARAMETER[\"latitude_of_origin\",0],PARAMETER[\"central_meridian\",9],"
    "PARAMETER[\"scale_factor\",0.9996],PARAMETER[\"false_easting\",500000],PARAMETER[\"false_northing\",0],"
    "UNIT[\"metre\",1]]";

class TwinFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("twin_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// A small valley: a V across x, falling gently to the south.
Raster valley() {
  Raster r(30, 40, 2.0);
  r.originX = 500000;
  r.originY = 5700000;
  r.crsWkt = kUtm32;
  for (int j = 0; j < r.ny; ++j) {
    for (int i = 0; i < r.nx; ++i) r.at(i, j) = 100 + 0.1 * std::abs(i - 15) - 0.02 * j;
  }
  return r;
}

TEST_F(TwinFiles, GeoTiffRoundTripKeepsValuesAndGeoreference) {
  Raster r = valley();
  r.hasNoData = true;
  r.noData = -9999;
  r.at(0, 0) = -9999;
  auto path = (dir_ / "dem.tif").string();
  ASSERT_TRUE(writeGeoTiff(path, r).isOk());
  auto back = readRaster(path);
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_EQ(back->nx, 30);
  EXPECT_EQ(back->ny, 40);
  EXPECT_DOUBLE_EQ(back->dx, 2.0);
  EXPECT_DOUBLE_EQ(back->originX, 500000);
  EXPECT_DOUBLE_EQ(back->originY, 5700000);
  EXPECT_TRUE(back->isNoData(0));
  EXPECT_NEAR(back->at(7, 9), r.at(7, 9), 1e-4);  // Float32 cells
  EXPECT_NE(back->crsWkt.find("UTM zone 32N"), std::string::npos);
}

TEST_F(TwinFiles, ReadRejectsMissingFilesAndGeographicCrs) {
  EXPECT_FALSE(readRaster((dir_ / "nope.tif").string()).isOk());
  Raster r = valley();
  r.crsWkt = "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563]],PRIMEM[\"Greenwich\",0],"
             "UNIT[\"degree\",0.0174532925199433]]";
  auto path = (dir_ / "geo.tif").string();
  ASSERT_TRUE(writeGeoTiff(path, r).isOk());
  auto back = readRaster(path);
  ASSERT_FALSE(back.isOk());
  EXPECT_NE(back.status().detail().find("projected"), std::string::npos);
  std::ofstream((dir_ / "junk.tif").string()) << "not a tiff";
  EXPECT_FALSE(readRaster((dir_ / "junk.tif").string()).isOk());
}

TEST(TwinHazard, DepthBandsAndHazardRating) {
  EXPECT_EQ(depthClass(0.05), 0);
  EXPECT_EQ(depthClass(0.1), 1);
  EXPECT_EQ(depthClass(0.29), 1);
  EXPECT_EQ(depthClass(0.3), 2);
  EXPECT_EQ(depthClass(0.7), 3);
  EXPECT_EQ(depthClass(1.0), 4);
  EXPECT_DOUBLE_EQ(hazardRating(0.2, 1.0), 0.3);        // no debris factor at <= 0.25 m
  EXPECT_DOUBLE_EQ(hazardRating(0.5, 1.5), 1.0 + 0.5);  // 0.5 (1.5 + 0.5) + 0.5
  EXPECT_EQ(hazardRatingClass(0.2, 1.0), 0);
  EXPECT_EQ(hazardRatingClass(0.5, 0.5), 1);  // 1.0
  EXPECT_EQ(hazardRatingClass(0.5, 1.5), 2);  // 1.5
  EXPECT_EQ(hazardRatingClass(1.0, 1.5), 3);  // 2.5
}

// A whole run: 30 min of 60 mm/h on the closed valley. The water gathers in the valley line and
// at its southern (lowest) end; the rasters are written with the DEM's georeference; the mass
// balance closes.
TEST_F(TwinFiles, ScenarioWritesResultRasters) {
  auto demPath = (dir_ / "dem.tif").string();
  ASSERT_TRUE(writeGeoTiff(demPath, valley()).isOk());
  ScenarioConfig c;
  c.demPath = demPath;
  c.rain = "uniform:60:30";
  c.outDir = (dir_ / "out").string();
  c.durationSeconds = 3600;
  auto s = runScenario(c);
  ASSERT_TRUE(s.isOk()) << s.status().toString();
  EXPECT_EQ(s->cells, 1200);
  EXPECT_GT(s->steps, 100);
  EXPECT_LT(s->balance.relativeError(), 1e-3);
  EXPECT_NEAR(s->balance.rain, 0.030 * 1200 * 4, 1e-6);
  for (const char* f : {"max_depth.tif", "max_velocity.tif", "time_to_10cm.tif", "hazard_depth.tif", "hazard_rating.tif",
                        "summary.json"}) {
    EXPECT_TRUE(fs::exists(dir_ / "out" / f)) << f;
  }
  auto depth = readRaster((dir_ / "out" / "max_depth.tif").string());
  ASSERT_TRUE(depth.isOk());
  EXPECT_DOUBLE_EQ(depth->originX, 500000);
  EXPECT_GT(depth->at(15, 39), depth->at(15, 0));  // deeper downstream
  EXPECT_GT(depth->at(15, 39), depth->at(2, 39));  // deeper in the valley line
  EXPECT_GT(depth->at(15, 39), 0.1);
  auto classes = readRaster((dir_ / "out" / "hazard_depth.tif").string());
  ASSERT_TRUE(classes.isOk());
  EXPECT_EQ(classes->at(15, 39), depthClass(depth->at(15, 39)));
  std::stringstream summary;
  summary << std::ifstream((dir_ / "out" / "summary.json").string()).rdbuf();
  EXPECT_NE(summary.str().find("\"relativeError\""), std::string::npos);
}

TEST_F(TwinFiles, ScenarioRejectsBadInput) {
  auto demPath = (dir_ / "dem.tif").string();
  ASSERT_TRUE(writeGeoTiff(demPath, valley()).isOk());
  ScenarioConfig c;
  c.demPath = demPath;
  c.rain = "drizzle";
  c.outDir = (dir_ / "out").string();
  EXPECT_FALSE(runScenario(c).isOk());
  c.rain = "uniform:10:1";
  c.boundary = "sideways";
  EXPECT_FALSE(runScenario(c).isOk());
  c.boundary = "closed";
  c.demPath = (dir_ / "missing.tif").string();
  EXPECT_FALSE(runScenario(c).isOk());
  EXPECT_FALSE(fs::exists(dir_ / "out" / "max_depth.tif"));
}

}  // namespace
}  // namespace allmende::twin
