// `allmende twin run` (docs/twin.md, "Running it"): the real binary with the API's inputs as
// files -- a scenario definition, buildings, land use, gauges, point inflows, edges -- its
// progress bar, its outputs, and its answers to bad input.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "harness.h"
#include "twin/crs.h"
#include "twin/raster_io.h"

namespace allmende::testing {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int code = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TwinCli : public ::testing::Test {
 protected:
  void SetUp() override {
    // A valley of 30 x 20 cells of 2 m in ETRS89 / UTM 32N, falling to the east, with a hollow.
    twin::Raster dem(30, 20, 2.0);
    dem.originX = 650000;
    dem.originY = 5420000;
    dem.crsWkt = twin::crsWkt("EPSG:25832").value();
    for (int j = 0; j < 20; ++j) {
      for (int i = 0; i < 30; ++i) {
        double z = 20 - 0.02 * i + 0.05 * std::abs(j - 10);
        if (std::abs(i - 15) < 3 && std::abs(j - 10) < 3) z -= 0.5;
        dem.at(i, j) = z;
      }
    }
    ASSERT_TRUE(twin::writeGeoTiff(file("dem.tif"), dem).isOk());
    const std::string crs = R"("crs":{"type":"name","properties":{"name":"EPSG:25832"}})";
    auto rect = [](double w, double s, double e, double n) {
      char buf[256];
      std::snprintf(buf, sizeof buf, "[[[%.1f,%.1f],[%.1f,%.1f],[%.1f,%.1f],[%.1f,%.1f],[%.1f,%.1f]]]", w, s, e, s, e,
                    n, w, n, w, s);
      return std::string(buf);
    };
    // A house over cells 5..7 x 5..7 (x 650010..650016, y 5419984..5419990).
    write("buildings.geojson", R"({"type":"FeatureCollection",)" + crs +
                                   R"(,"features":[{"type":"Feature","id":"haus-1","properties":{"name":"Haus"},)"
                                   R"("geometry":{"type":"Polygon","coordinates":)" +
                                   rect(650010, 5419984, 650016, 5419990) + "}}]}");
    // The northern half is a street.
    write("landuse.geojson", R"({"type":"FeatureCollection",)" + crs +
                                 R"(,"features":[{"type":"Feature","properties":{"landUse":"street"},)"
                                 R"("geometry":{"type":"Polygon","coordinates":)" +
                                 rect(650000, 5419980, 650060, 5420000) + "}}]}");
    write("gauges.geojson", R"({"type":"FeatureCollection",)" + crs +
                                R"(,"features":[{"type":"Feature","id":"hollow","geometry":{"type":"Point",)"
                                R"("coordinates":[650031,5419979]}}]})");
    write("inflows.geojson",
          R"({"type":"FeatureCollection",)" + crs +
              R"(,"features":[{"type":"Feature","id":"culvert","properties":{"hydrograph":)"
              R"([[0,0],[120,0.2],[300,0]]},"geometry":{"type":"Point","coordinates":[650041,5419981]}}]})");
    write("scenario.json",
          R"({"name":"Test","rain":{"type":"uniform","mmPerHour":60,"durationMinutes":5},"durationSeconds":300,)"
          R"("manning":0.05,"gaugeIntervalSeconds":60,"landUseClasses":{"street":{"manning":0.016}}})");
  }

  std::string file(const std::string& name) const { return (fs::path(dir_.path()) / name).string(); }
  void write(const std::string& name, const std::string& text) { std::ofstream(file(name)) << text; }

  // Runs `allmende twin run <args>`; stdout and stderr captured (stderr is a file, not a terminal).
  CliRun run(const std::string& args) {
    CliRun r;
    std::string cmd = std::string(ALLMENDE_BINARY) + " twin run " + args + " </dev/null 2>" + file("stderr.txt");
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
    int status = ::pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = slurp(file("stderr.txt"));
    return r;
  }

  TempDir dir_;
};

TEST_F(TwinCli, RunsAScenarioWithEveryKindOfInput) {
  CliRun r = run("--dem " + file("dem.tif") + " --out " + file("out") + " --scenario " + file("scenario.json") +
                 " --buildings " + file("buildings.geojson") + " --landuse " + file("landuse.geojson") + " --gauges " +
                 file("gauges.geojson") + " --inflows " + file("inflows.geojson") +
                 " --boundary free --edge west=depth:0=0.1,300=0.3 --duration 600 --threads 1");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("cells 600 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("buildings 1  gauges 1"), std::string::npos) << r.out;
  // The progress bar: not a terminal, so a line every 10 % and the last at 100 %.
  EXPECT_NE(r.err.find("[########################] 100%  simulated 600 / 600 s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ETA"), std::string::npos);
  EXPECT_NE(r.err.find("mass error"), std::string::npos);
  EXPECT_GE(std::count(r.err.begin(), r.err.end(), '\n'), 5);

  for (const char* name : {"max_depth.tif", "max_velocity.tif", "time_to_10cm.tif", "hazard_depth.tif",
                           "hazard_rating.tif", "hazard_depth.png", "hazard_depth.geojson", "summary.json"}) {
    EXPECT_TRUE(fs::exists(file("out/") + name)) << name;
  }
  // The flag overrode the scenario's duration; the inflow and the depth edge brought water in;
  // mass is conserved.
  rapidjson::Document summary;
  summary.Parse(slurp(file("out/summary.json")).c_str());
  ASSERT_TRUE(summary.IsObject()) << slurp(file("out/summary.json"));
  EXPECT_EQ(summary["simulatedSeconds"].GetDouble(), 600);
  const auto& balance = summary["massBalance"];
  EXPECT_GT(balance["inflowM3"].GetDouble(), 0.2 * 300 / 2 * 0.99);
  EXPECT_LT(balance["relativeError"].GetDouble(), 1e-9);
  // The house is blocked (dry); its surroundings are measured.
  auto depth = twin::readRaster(file("out/max_depth.tif"));
  ASSERT_TRUE(depth.isOk());
  for (int j = 5; j <= 7; ++j)
    for (int i = 5; i <= 7; ++i) EXPECT_EQ(depth->at(i, j), 0) << i << "," << j;
  std::string buildings = slurp(file("out/buildings.geojson"));
  EXPECT_NE(buildings.find("\"haus-1\""), std::string::npos) << buildings;
  EXPECT_NE(buildings.find("maxDepth"), std::string::npos);
  // The gauge: samples every 60 s and at the end, the hollow's depth.
  std::string gauges = slurp(file("out/gauges.csv"));
  EXPECT_NE(gauges.find("hollow"), std::string::npos) << gauges;
  EXPECT_GE(std::count(gauges.begin(), gauges.end(), '\n'), 11) << gauges;
}

TEST_F(TwinCli, FlagsAloneAndQuiet) {
  CliRun r = run("--dem " + file("dem.tif") + " --out " + file("out") +
                 " --rain uniform:50:5 --duration 120 --precision float --quiet --building-mode raise --buildings " +
                 file("buildings.geojson"));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(fs::exists(file("out/max_depth.tif")));
}

TEST_F(TwinCli, BadInputIsRefusedWithAReason) {
  const std::string base = "--dem " + file("dem.tif") + " --out " + file("out") + " --quiet ";
  CliRun r = run(base);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no rain"), std::string::npos) << r.err;
  r = run(base + "--rain uniform:50:5 --edge up=free");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("boundaries"), std::string::npos) << r.err;
  r = run(base + "--rain uniform:50:5 --edge west=depth:0=x");
  EXPECT_EQ(r.code, 2);
  r = run(base + "--rain uniform:50:5 --buildings " + file("missing.geojson"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("missing.geojson"), std::string::npos) << r.err;
  write("far.geojson", R"({"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:25832"}},)"
                       R"("features":[{"type":"Feature","properties":{"hydrograph":[[0,1]]},)"
                       R"("geometry":{"type":"Point","coordinates":[600000,5400000]}}]})");
  r = run(base + "--rain uniform:50:5 --inflows " + file("far.geojson"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("outside the DEM"), std::string::npos) << r.err;
  r = run("--dem " + file("nothing.tif") + " --out " + file("out") + " --rain uniform:50:5");
  EXPECT_EQ(r.code, 1);
  EXPECT_FALSE(fs::exists(file("out/max_depth.tif")));
}

}  // namespace
}  // namespace allmende::testing

namespace allmende::testing {
namespace {

// --manning-raster and --infiltration-raster; --checkpoint-minutes leaves a checkpoint only
// while a run is unfinished; buildings from Building entities are refused (no store).
TEST_F(TwinCli, RastersCheckpointsAndEntitySources) {
  twin::Raster soak(15, 10, 4.0, 30);  // 30 mm/h everywhere, on a coarser grid than the DEM
  soak.originX = 650000;
  soak.originY = 5420000;
  soak.crsWkt = twin::crsWkt("EPSG:25832").value();
  ASSERT_TRUE(twin::writeGeoTiff(file("soak.tif"), soak).isOk());
  twin::Raster rough = soak;
  for (double& v : rough.v) v = 0.02;
  ASSERT_TRUE(twin::writeGeoTiff(file("rough.tif"), rough).isOk());
  const std::string base =
      "--dem " + file("dem.tif") + " --rain uniform:60:5 --duration 300 --quiet --gauge-interval 60 ";
  CliRun r = run(base + "--out " + file("plain"));
  ASSERT_EQ(r.code, 0) << r.err;
  r = run(base + "--out " + file("soaked") + " --manning-raster " + file("rough.tif") + " --infiltration-raster " +
          file("soak.tif") + " --checkpoint-minutes 1");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(fs::exists(file("soaked/checkpoint.bin")));  // removed once the run completed
  rapidjson::Document plain, soaked;
  plain.Parse(slurp(file("plain/summary.json")).c_str());
  soaked.Parse(slurp(file("soaked/summary.json")).c_str());
  ASSERT_TRUE(plain.IsObject() && soaked.IsObject());
  EXPECT_EQ(plain["massBalance"]["lossesM3"].GetDouble(), 0);
  EXPECT_GT(soaked["massBalance"]["lossesM3"].GetDouble(), 0);
  r = run(base + "--out " + file("bad") + " --manning-raster " + file("soak.tif"));  // n = 30
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("manning"), std::string::npos) << r.err;
  write("entities.json", R"({"rain":"uniform:60:5","buildings":{"source":"entities"}})");
  r = run("--dem " + file("dem.tif") + " --out " + file("e") + " --quiet --scenario " + file("entities.json"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--buildings"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace allmende::testing
