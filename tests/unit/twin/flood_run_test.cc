// The API's flood runs (twin/flood_run.h) and their vector inputs: footprints put on the grid,
// GeoJSON in a named CRS or WGS84, scenario definitions, blocked and raised buildings, land use,
// gauges sampled at exact times, overlays in WGS84.
#include "twin/flood_run.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "twin/crs.h"
#include "twin/features.h"
#include "twin/raster_io.h"

namespace allmende::twin {
namespace {

namespace fs = std::filesystem;

Raster grid(int nx, int ny, double dx) {
  Raster r(nx, ny, dx);
  r.originX = 650000;
  r.originY = 5420000;
  r.crsWkt = crsWkt("EPSG:25832").value();
  return r;
}

std::string rect(double w, double s, double e, double n) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "[[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f]]", w, s, e, s, e, n, w,
                n, w, s);
  return buf;
}

std::string utmCollection(const std::string& features) {
  return R"({"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:25832"}},"features":[)" +
         features + "]}";
}

TEST(Features, CellsWhoseCentresLieInsideWithoutHoles) {
  Raster g = grid(10, 10, 1);
  // Cells 2..5 x 2..5 (centres 2.5..5.5), with a hole over cells 3..4 x 3..4.
  double x0 = g.originX, y0 = g.originY;
  std::string poly = R"({"type":"Feature","id":"b","geometry":{"type":"Polygon","coordinates":[)" +
                     rect(x0 + 2, y0 - 6, x0 + 6, y0 - 2) + "," + rect(x0 + 3, y0 - 5, x0 + 5, y0 - 3) + "]}}";
  auto f = parseFeatures(utmCollection(poly), g, false);
  ASSERT_TRUE(f.isOk()) << f.status().detail();
  ASSERT_EQ(f->size(), 1u);
  auto cells = cellsInside((*f)[0], g);
  EXPECT_EQ(cells.size(), 16u - 4u);
  EXPECT_TRUE(std::binary_search(cells.begin(), cells.end(), g.index(2, 2)));
  EXPECT_FALSE(std::binary_search(cells.begin(), cells.end(), g.index(3, 3)));
  EXPECT_FALSE(std::binary_search(cells.begin(), cells.end(), g.index(6, 2)));
  // The geometry for NGSI-LD is WGS84 longitude/latitude.
  EXPECT_NE((*f)[0].geometryWgs84.find("[11.0"), std::string::npos) << (*f)[0].geometryWgs84;
}

TEST(Features, Wgs84InputIsTransformedToTheDemCrs) {
  Raster g = grid(10, 10, 1);
  double lon = g.originX + 4.5, lat = g.originY - 7.5;
  auto back = CrsTransform::make("EPSG:25832", kWgs84);
  ASSERT_TRUE(back.isOk());
  ASSERT_TRUE(back->apply(lon, lat));
  char point[200];
  std::snprintf(point, sizeof point,
                R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"p","name":"P"},)"
                R"("geometry":{"type":"Point","coordinates":[%.9f,%.9f]}}]})",
                lon, lat);
  auto f = parseFeatures(point, g, true);
  ASSERT_TRUE(f.isOk()) << f.status().detail();
  int i, j;
  ASSERT_TRUE(cellAt(g, (*f)[0].point.x, (*f)[0].point.y, i, j));
  EXPECT_EQ(i, 4);
  EXPECT_EQ(j, 7);
  EXPECT_EQ((*f)[0].id, "p");
  EXPECT_FALSE(parseFeatures(point, g, false).isOk());  // a Point where polygons are wanted
  EXPECT_FALSE(parseFeatures(R"({"type":"FeatureCollection","features":[{"type":"Feature"}]})", g, true).isOk());
}

TEST(ScenarioSpec, RainFormsAndValidation) {
  auto spec = [](const char* text) {
    JsonDocument d;
    EXPECT_TRUE(parseJson(text, d).isOk());
    return parseScenarioSpec(d);
  };
  auto s = spec(R"({"rain":{"type":"euler2","durationMinutes":30,"depths":[[5,10],[10,15],[30,24]]}})");
  ASSERT_TRUE(s.isOk()) << s.status().detail();
  EXPECT_EQ(s->rain, "euler2:30:5=10,10=15,30=24");
  s = spec(R"({"rain":{"type":"blocks","stepMinutes":5,"mmPerHour":[10,40,5]},"buildings":{"mode":"raise"}})");
  ASSERT_TRUE(s.isOk());
  EXPECT_EQ(s->rain, "blocks:5:10,40,5");
  EXPECT_FALSE(s->buildingsBlock);
  EXPECT_EQ(s->landUseClasses.at("street").manning, 0.015);
  EXPECT_FALSE(spec(R"({})").isOk());
  EXPECT_FALSE(spec(R"({"rain":"uniform:50:10","manning":-1})").isOk());
  EXPECT_FALSE(spec(R"({"rain":"uniform:50:10","boundary":"open"})").isOk());
  EXPECT_FALSE(spec(R"({"rain":"uniform:50:10","landUseClasses":{"x":{"manning":"low"}}})").isOk());
  EXPECT_FALSE(spec(R"({"rain":"uniform:50:10","eventStart":"yesterday"})").isOk());
}

class FloodRunFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("flood_run_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "in");
    // A closed bowl of 20 x 20 cells of 2 m, lowest in the middle.
    Raster dem = grid(20, 20, 2);
    for (int j = 0; j < 20; ++j)
      for (int i = 0; i < 20; ++i) dem.at(i, j) = 10 + 0.05 * (std::abs(i - 10) + std::abs(j - 10));
    ASSERT_TRUE(writeGeoTiff((dir_ / "in" / "dem.tif").string(), dem).isOk());
    dem_ = dem;
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const char* name, const std::string& text) { std::ofstream(dir_ / "in" / name) << text; }

  ScenarioSpec spec(const std::string& json) {
    JsonDocument d;
    EXPECT_TRUE(parseJson(json, d).isOk());
    auto s = parseScenarioSpec(d);
    EXPECT_TRUE(s.isOk()) << s.status().detail();
    return *s;
  }

  fs::path dir_;
  Raster dem_;
};

TEST_F(FloodRunFiles, BlockedBuildingsStayDryAndMassIsConserved) {
  // A building over cells 4..6 x 4..6, in the bowl's slope.
  double x0 = dem_.originX, y0 = dem_.originY;
  write("buildings.geojson",
        utmCollection(
            R"({"type":"Feature","id":"h1","properties":{"name":"Haus"},"geometry":{"type":"Polygon","coordinates":[)" +
            rect(x0 + 8, y0 - 14, x0 + 14, y0 - 8) + "]}}"));
  std::string gauge =
      R"({"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:25832"}},"features":[)"
      R"({"type":"Feature","id":"g","geometry":{"type":"Point","coordinates":[)" +
      std::to_string(x0 + 21) + "," + std::to_string(y0 - 21) + "]}}]}";
  ScenarioSpec s =
      spec(R"({"rain":"uniform:100:10","durationSeconds":900,"gaugeIntervalSeconds":200,"gauges":)" + gauge + "}");
  auto o = runFlood(s, (dir_ / "in").string(), (dir_ / "out").string(), {});
  ASSERT_TRUE(o.isOk()) << o.status().detail();
  EXPECT_TRUE(o->completed);
  EXPECT_LT(o->summary.balance.relativeError(), 1e-9);
  auto depth = readRaster((dir_ / "out" / "max_depth.tif").string());
  ASSERT_TRUE(depth.isOk());
  for (int j = 4; j <= 6; ++j)
    for (int i = 4; i <= 6; ++i) EXPECT_EQ(depth->at(i, j), 0) << i << "," << j;
  ASSERT_EQ(o->buildings.size(), 1u);
  EXPECT_EQ(o->buildings[0].footprintCells, 9);
  double around = 0;
  for (int j = 3; j <= 7; ++j)
    for (int i = 3; i <= 7; ++i)
      if (i < 4 || i > 6 || j < 4 || j > 6) around = std::max(around, depth->at(i, j));
  EXPECT_NEAR(o->buildings[0].maxDepth, around, 1e-6);
  // Samples at 0, 200, 400, 600, 800 and the end (900 s).
  ASSERT_EQ(o->gauges.size(), 1u);
  ASSERT_EQ(o->gauges[0].samples.size(), 6u);
  EXPECT_DOUBLE_EQ(o->gauges[0].samples[3].first, 600);
  EXPECT_DOUBLE_EQ(o->gauges[0].samples[5].first, 900);
  EXPECT_NEAR(o->gauges[0].maxDepth, depth->at(10, 10), 1e-6);
  EXPECT_GT(o->gauges[0].maxDepth, 0.1);
  // The rain that fell on the roof is not in the balance: blocked cells receive none.
  EXPECT_NEAR(o->summary.balance.rain, 100.0 / 1000 / 6 * (400 - 9) * 4, 1e-6);
  ASSERT_TRUE(o->hasBounds);
  EXPECT_NEAR(o->bounds.south, 48.9, 0.05);
  EXPECT_TRUE(fs::exists(dir_ / "out" / "hazard_depth.png"));
  EXPECT_TRUE(fs::exists(dir_ / "out" / "hazard_depth.geojson"));
}

TEST_F(FloodRunFiles, RaisedBuildingsAndLandUse) {
  double x0 = dem_.originX, y0 = dem_.originY;
  write("buildings.geojson",
        utmCollection(
            R"({"type":"Feature","id":"h1","properties":{"height":3},"geometry":{"type":"Polygon","coordinates":[)" +
            rect(x0 + 8, y0 - 14, x0 + 14, y0 - 8) + "]}}"));
  write(
      "landuse.geojson",
      utmCollection(
          R"({"type":"Feature","id":"a","properties":{"landUse":"forest"},"geometry":{"type":"Polygon","coordinates":[)" +
          rect(x0, y0 - 40, x0 + 40, y0) + "]}}"));
  ScenarioSpec s = spec(R"({"rain":"uniform:100:10","durationSeconds":900,"buildings":{"mode":"raise"}})");
  auto o = runFlood(s, (dir_ / "in").string(), (dir_ / "out").string(), {});
  ASSERT_TRUE(o.isOk()) << o.status().detail();
  // Raised: the roof takes rain (all 400 cells); the forest soaks 20 mm/h everywhere.
  EXPECT_NEAR(o->summary.balance.rain, 100.0 / 1000 / 6 * 400 * 4, 1e-6);
  EXPECT_GT(o->summary.balance.losses, 0);
  EXPECT_LT(o->summary.balance.relativeError(), 1e-9);
  write(
      "landuse.geojson",
      utmCollection(
          R"({"type":"Feature","id":"a","properties":{"landUse":"moon"},"geometry":{"type":"Polygon","coordinates":[)" +
          rect(x0, y0 - 40, x0 + 40, y0) + "]}}"));
  EXPECT_FALSE(runFlood(s, (dir_ / "in").string(), (dir_ / "out2").string(), {}).isOk());
}

// A point inflow's hydrograph (linear between its points, zero after it) goes into its cell:
// in a closed bowl without rain, the stored volume is the hydrograph's integral.
TEST_F(FloodRunFiles, PointInflowsFollowTheirHydrograph) {
  double x0 = dem_.originX, y0 = dem_.originY;
  std::string inflows =
      R"({"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:25832"}},"features":[)"
      R"({"type":"Feature","id":"culvert","properties":{"hydrograph":[[0,0],[100,0.5],[300,0.5],[400,0]]},)"
      R"("geometry":{"type":"Point","coordinates":[)" +
      std::to_string(x0 + 5) + "," + std::to_string(y0 - 5) + "]}}]}";
  ScenarioSpec s = spec(R"({"rain":"uniform:0:10","durationSeconds":600,"inflows":)" + inflows + "}");
  ASSERT_EQ(s.inflowHydrographs.size(), 1u);
  auto o = runFlood(s, (dir_ / "in").string(), (dir_ / "out").string(), {});
  ASSERT_TRUE(o.isOk()) << o.status().detail();
  const double volume = 0.5 * 100 / 2 + 0.5 * 200 + 0.5 * 100 / 2;  // 150 m3
  EXPECT_NEAR(o->summary.balance.inflow, volume, volume * 0.01);    // midpoint rule over the steps
  EXPECT_NEAR(o->summary.balance.stored, o->summary.balance.inflow, 1e-9 * volume);
  EXPECT_EQ(o->summary.balance.outflow, 0);
  auto depth = readRaster((dir_ / "out" / "max_depth.tif").string());
  ASSERT_TRUE(depth.isOk());
  EXPECT_GT(depth->at(10, 10), 0.1);  // it ran down into the bowl's bottom

  // Outside the DEM, or on a blocked building, it is refused.
  std::string outside = inflows;
  outside.replace(outside.find(std::to_string(x0 + 5)), std::to_string(x0 + 5).size(), std::to_string(x0 - 50));
  EXPECT_FALSE(runFlood(spec(R"({"rain":"uniform:0:10","inflows":)" + outside + "}"), (dir_ / "in").string(),
                        (dir_ / "out2").string(), {})
                   .isOk());
}

// A depth edge fills the grid from outside; the other edges stay closed. A free edge lets
// water out.
TEST_F(FloodRunFiles, DepthAndFreeEdges) {
  ScenarioSpec s = spec(
      R"({"rain":"uniform:0:10","durationSeconds":600,"boundaries":{"west":{"type":"depth","depths":[[0,0.5],[600,0.5]]}}})");
  ASSERT_EQ(s.west.kind, "depth");
  auto o = runFlood(s, (dir_ / "in").string(), (dir_ / "out").string(), {});
  ASSERT_TRUE(o.isOk()) << o.status().detail();
  EXPECT_GT(o->summary.balance.inflow, 10);
  EXPECT_NEAR(o->summary.balance.stored, o->summary.balance.inflow - o->summary.balance.outflow,
              1e-9 * o->summary.balance.inflow);
  EXPECT_LT(o->summary.balance.relativeError(), 1e-9);

  s = spec(R"({"rain":"uniform:200:10","durationSeconds":900,"boundary":"closed","boundaries":{"south":"free"}})");
  o = runFlood(s, (dir_ / "in").string(), (dir_ / "out3").string(), {});
  ASSERT_TRUE(o.isOk()) << o.status().detail();
  EXPECT_GT(o->summary.balance.outflow, 0);
  EXPECT_LT(o->summary.balance.relativeError(), 1e-9);
}

TEST(ScenarioSpec, InflowsAndEdgesAreValidated) {
  auto parse = [](const std::string& text) {
    JsonDocument d;
    EXPECT_TRUE(parseJson(text, d).isOk());
    return parseScenarioSpec(d);
  };
  auto ok = parse(
      R"({"rain":"uniform:50:10","boundaries":{"east":{"type":"free","outflowSlope":0.01},"north":"closed"},)"
      R"("inflows":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"hydrograph":[[0,1]]},)"
      R"("geometry":{"type":"Point","coordinates":[11.2,48.9]}}]}})");
  ASSERT_TRUE(ok.isOk()) << ok.status().detail();
  EXPECT_EQ(ok->east.slope, 0.01);
  EXPECT_EQ(ok->north.kind, "closed");
  EXPECT_EQ(valueAt({{0, 0}, {10, 1}}, 2.5), 0.25);
  EXPECT_EQ(valueAt({{0, 0}, {10, 1}}, 20), 1);
  EXPECT_EQ(valueAt({{0, 0}, {10, 1}}, 20, 0.0), 0);
  for (
      const char* bad : {
          R"({"rain":"uniform:50:10","boundaries":{"up":"free"}})",
          R"({"rain":"uniform:50:10","boundaries":{"west":"open"}})",
          R"({"rain":"uniform:50:10","boundaries":{"west":"depth"}})",
          R"({"rain":"uniform:50:10","boundaries":{"west":{"type":"depth","depths":[[10,1],[5,1]]}}})",
          R"({"rain":"uniform:50:10","boundaries":{"west":{"type":"depth","depths":[[0,-1]]}}})",
          R"({"rain":"uniform:50:10","inflows":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[0,0]}}]}})",
          R"({"rain":"uniform:50:10","inflows":[]})",
      }) {
    auto s = parse(bad);
    EXPECT_FALSE(s.isOk()) << bad;
    if (!s.isOk()) {
      EXPECT_EQ(s.status().type(), ErrorType::kBadRequestData) << bad;
    }
  }
}

TEST_F(FloodRunFiles, CancelledRunsWriteNothing) {
  std::atomic<bool> cancel{true};
  FloodRunOptions fo;
  fo.cancel = &cancel;
  auto o = runFlood(spec(R"({"rain":"uniform:100:10"})"), (dir_ / "in").string(), (dir_ / "out").string(), fo);
  ASSERT_TRUE(o.isOk());
  EXPECT_FALSE(o->completed);
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

}  // namespace
}  // namespace allmende::twin
