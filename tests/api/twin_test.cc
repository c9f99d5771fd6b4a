// The digital twin's API (issue 9, docs/twin.md) against the real server: a scenario with a DEM,
// buildings and a gauge is created and run; progress is polled to completion; the results
// (GeoTIFF, PNG overlay with bounds, GeoJSON) are fetched; the NGSI-LD entities it wrote carry
// the values of the result rasters, recomputed here from max_depth.tif; cancelling queued and
// running runs; roles and tenants; restarts (definitions and results survive, an interrupted
// run is failed).
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.h"
#include "twin/crs.h"
#include "twin/raster_io.h"

namespace allmende::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The test terrain: 40 x 30 cells of 5 m in ETRS89 / UTM 32N, a valley along the rows (lowest
// at row 15) falling to the east; a building on the valley floor and one on the northern slope.
constexpr int kNx = 40, kNy = 30;
constexpr double kDx = 5;
struct Cells {
  int i0, j0, i1, j1;
};
constexpr Cells kWetHouse{33, 12, 36, 13};  // by the valley floor, where the water gathers (east)
constexpr Cells kDryHouse{10, 2, 12, 4};    // high on the slope
constexpr int kGaugeI = 30, kGaugeJ = 15;
const double kOriginX = 650000, kOriginY = 5420000;

double terrain(int i, int j) { return 50 + 0.02 * std::abs(j - 15) * kDx + 0.004 * (kNx - i) * kDx; }

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string demBytes(const std::string& dir) {
  twin::Raster r(kNx, kNy, kDx);
  r.originX = kOriginX;
  r.originY = kOriginY;
  r.crsWkt = twin::crsWkt("EPSG:25832").value();
  for (int j = 0; j < kNy; ++j)
    for (int i = 0; i < kNx; ++i) r.at(i, j) = terrain(i, j);
  std::string path = dir + "/dem.tif";
  EXPECT_TRUE(twin::writeGeoTiff(path, r).isOk());
  return readFile(path);
}

std::string ring(const Cells& c) {
  double w = kOriginX + c.i0 * kDx, e = kOriginX + (c.i1 + 1) * kDx;
  double n = kOriginY - c.j0 * kDx, s = kOriginY - (c.j1 + 1) * kDx;
  char buf[256];
  std::snprintf(buf, sizeof buf, "[[[%.1f,%.1f],[%.1f,%.1f],[%.1f,%.1f],[%.1f,%.1f],[%.1f,%.1f]]]", w, s, e, s, e, n, w,
                n, w, s);
  return buf;
}

const char* kCrs = R"("crs":{"type":"name","properties":{"name":"EPSG:25832"}})";

std::string buildings() {
  return std::string(R"({"type":"FeatureCollection",)") + kCrs + R"(,"features":[
    {"type":"Feature","id":"wet","properties":{"name":"Talstraße 1"},"geometry":{"type":"Polygon","coordinates":)" +
         ring(kWetHouse) + R"(}},
    {"type":"Feature","id":"dry","properties":{"name":"Hangweg 2"},"geometry":{"type":"Polygon","coordinates":)" +
         ring(kDryHouse) + "}}]}";
}

std::string scenario(const std::string& id, double duration) {
  char gauge[128];
  std::snprintf(gauge, sizeof gauge, "[%.1f,%.1f]", kOriginX + (kGaugeI + 0.5) * kDx, kOriginY - (kGaugeJ + 0.5) * kDx);
  return R"({"id":")" + id + R"(","name":"Test storm","rain":{"type":"uniform","mmPerHour":120,"durationMinutes":10},
    "durationSeconds":)" +
         std::to_string(duration) + R"(,"boundary":"closed","manning":0.03,"gaugeIntervalSeconds":300,
    "municipalityKey":"09999002","eventStart":"2026-07-01T12:00:00Z",
    "gauges":{"type":"FeatureCollection",)" +
         kCrs + R"(,"features":[
      {"type":"Feature","id":"g1","properties":{"name":"Talmitte"},"geometry":{"type":"Point","coordinates":)" +
         gauge + "}}]}}";
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  return d;
}

class Twin : public ::testing::Test {
 protected:
  void start(std::vector<std::string> args = {}) {
    server_ = std::make_unique<ServerProcess>(ALLMENDE_BINARY, dir_.path() + "/data", args);
    ASSERT_TRUE(server_->ok());
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  Headers json(const Headers& auth = {}) {
    Headers h = auth;
    h.emplace_back("Content-Type", "application/json");
    return h;
  }

  // Scenario with DEM and buildings, as `auth`.
  void defineScenario(const std::string& id, double duration, const Headers& auth = {}) {
    HttpResult r = client_->request("POST", "/twin/v1/scenarios", json(auth), scenario(id, duration));
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.header("location"), "/twin/v1/scenarios/" + id);
    Headers tiff = auth;
    tiff.emplace_back("Content-Type", "image/tiff");
    r = client_->request("PUT", "/twin/v1/scenarios/" + id + "/inputs/dem", tiff, demBytes(dir_.path()));
    ASSERT_EQ(r.status, 204) << r.body;
    Headers geo = auth;
    geo.emplace_back("Content-Type", "application/geo+json");
    r = client_->request("PUT", "/twin/v1/scenarios/" + id + "/inputs/buildings", geo, buildings());
    ASSERT_EQ(r.status, 204) << r.body;
  }

  std::string startRun(const std::string& scenarioId, const Headers& auth = {}) {
    HttpResult r = client_->request("POST", "/twin/v1/runs", json(auth), R"({"scenario":")" + scenarioId + "\"}");
    EXPECT_EQ(r.status, 201) << r.body;
    auto d = parse(r.body);
    return d.IsObject() && d.HasMember("id") ? d["id"].GetString() : "";
  }

  // Polls the run's progress until its state is `until` or it has ended; the last state.
  std::string poll(const std::string& run, const std::string& until = "", const Headers& auth = {}) {
    for (int k = 0; k < 20000; ++k) {  // a bound against hanging forever, not a timing assertion
      HttpResult r = client_->request("GET", "/twin/v1/runs/" + run + "/progress", auth);
      if (r.status != 200) return "http " + std::to_string(r.status);
      auto d = parse(r.body);
      std::string state = d["state"].GetString();
      double fraction = d["progress"]["fraction"].GetDouble();
      EXPECT_GE(fraction, 0);
      EXPECT_LE(fraction, 1.0 + 1e-9);
      if (state == until || state == "succeeded" || state == "failed" || state == "cancelled") return state;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "still running";
  }

  rapidjson::Document entity(const std::string& id, const Headers& auth = {}) {
    HttpResult r = client_->request("GET", "/ngsi-ld/v1/entities/" + id, auth);
    EXPECT_EQ(r.status, 200) << id << ": " << r.body;
    return parse(r.body);
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

// The maximum of max_depth.tif over the cells around a footprint (8-neighbours outside it).
double depthAround(const twin::Raster& depth, const Cells& c) {
  double m = 0;
  for (int j = c.j0 - 1; j <= c.j1 + 1; ++j) {
    for (int i = c.i0 - 1; i <= c.i1 + 1; ++i) {
      bool inside = i >= c.i0 && i <= c.i1 && j >= c.j0 && j <= c.j1;
      if (!inside && i >= 0 && j >= 0 && i < kNx && j < kNy) m = std::max(m, depth.at(i, j));
    }
  }
  return m;
}

TEST_F(Twin, RunToCompletionWritesResultsAndEntities) {
  start();
  defineScenario("test-storm", 1800);
  std::string run = startRun("test-storm");
  ASSERT_FALSE(run.empty());
  ASSERT_EQ(poll(run), "succeeded");

  HttpResult r = client_->request("GET", "/twin/v1/runs/" + run);
  ASSERT_EQ(r.status, 200);
  auto runDoc = parse(r.body);
  EXPECT_TRUE(runDoc["entities"]["published"].GetBool()) << r.body;
  EXPECT_LT(runDoc["summary"]["massError"].GetDouble(), 1e-3);
  EXPECT_NEAR(runDoc["summary"]["rainDepthMm"].GetDouble(), 20, 1e-9);

  // Results: index, overlay bounds around the terrain, the files.
  r = client_->request("GET", "/twin/v1/runs/" + run + "/results");
  ASSERT_EQ(r.status, 200) << r.body;
  auto index = parse(r.body);
  const auto& bounds = index["overlay"]["bounds"];
  double south = bounds[0][0].GetDouble(), west = bounds[0][1].GetDouble();
  double north = bounds[1][0].GetDouble(), east = bounds[1][1].GetDouble();
  EXPECT_LT(south, north);
  EXPECT_LT(west, east);
  EXPECT_NEAR(0.5 * (south + north), 48.9, 0.05);  // 650 km E / 5420 km N in zone 32 is near 11.0 E 48.9 N
  EXPECT_NEAR(0.5 * (west + east), 11.05, 0.1);
  r = client_->request("GET", "/twin/v1/runs/" + run + "/results/hazard_depth.png");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "image/png");
  EXPECT_EQ(r.body.substr(1, 3), "PNG");
  r = client_->request("GET", "/twin/v1/runs/" + run + "/results/hazard_depth.geojson");
  ASSERT_EQ(r.status, 200);
  auto polygons = parse(r.body);
  ASSERT_TRUE(polygons.IsObject()) << r.body.substr(0, 200);
  EXPECT_STREQ(polygons["type"].GetString(), "FeatureCollection");
  ASSERT_GT(polygons["features"].Size(), 0u);
  for (const auto& f : polygons["features"].GetArray()) {
    int cls = f["properties"]["class"].GetInt();
    EXPECT_TRUE(cls >= 1 && cls <= 4);
    double lat = f["geometry"]["coordinates"][0][0][1].GetDouble();
    EXPECT_NEAR(lat, 48.9, 0.05);  // RFC 7946: WGS84
  }
  r = client_->request("GET", "/twin/v1/runs/" + run + "/results/max_depth.tif");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "image/tiff");
  std::ofstream(dir_.path() + "/max_depth.tif", std::ios::binary) << r.body;
  auto depth = twin::readRaster(dir_.path() + "/max_depth.tif");
  ASSERT_TRUE(depth.isOk());
  double maxDepth = *std::max_element(depth->v.begin(), depth->v.end());
  EXPECT_GT(maxDepth, 0.1);  // the valley collects the rain of its slopes

  // Entities: the run summary, the buildings (values from max_depth.tif), the gauge's series.
  std::string sim = "urn:ngsi-ld:FloodSimulation:09999002:" + run;
  auto s = entity(sim);
  EXPECT_STREQ(s["type"].GetString(), "FloodSimulation");
  EXPECT_NEAR(s["maxFloodDepth"]["value"].GetDouble(), maxDepth, 1e-5 * maxDepth + 1e-6);
  EXPECT_NEAR(s["rainfall"]["value"].GetDouble(), 20, 1e-9);
  EXPECT_EQ(s["affectedBuildings"]["value"].GetInt(), depthAround(*depth, kWetHouse) >= 0.1 ? 1 : 0);

  std::string scenarioUrn = "urn:ngsi-ld:FloodScenario:09999002:test-storm";
  for (auto [id, cells] : {std::pair{"wet", kWetHouse}, std::pair{"dry", kDryHouse}}) {
    auto b = entity(std::string("urn:ngsi-ld:Building:09999002:") + id);
    EXPECT_STREQ(b["type"].GetString(), "Building");
    const auto& attr = b["maxFloodDepth"];
    EXPECT_STREQ(attr["datasetId"].GetString(), scenarioUrn.c_str());
    double expected = depthAround(*depth, cells);
    EXPECT_NEAR(attr["value"].GetDouble(), expected, 1e-5 * expected + 1e-6) << id;
    EXPECT_STREQ(attr["refFloodSimulation"]["object"].GetString(), sim.c_str());
    EXPECT_STREQ(b["location"]["value"]["type"].GetString(), "Polygon");
  }
  EXPECT_GE(depthAround(*depth, kWetHouse), 0.1);  // so affectedBuildings above was 1
  EXPECT_LT(depthAround(*depth, kDryHouse), 0.1);
  std::printf("max depth %.4f m, around the wet house %.4f m, the dry one %.4f m\n", maxDepth,
              depthAround(*depth, kWetHouse), depthAround(*depth, kDryHouse));

  std::string gauge = "urn:ngsi-ld:FloodMonitoring:09999002:twin-test-storm-g1";
  auto g = entity(gauge);
  EXPECT_NEAR(g["maxLevel"]["value"].GetDouble(), depth->at(kGaugeI, kGaugeJ), 1e-5);
  r = client_->request("GET", "/ngsi-ld/v1/temporal/entities/" + gauge + "?attrs=currentLevel&options=temporalValues");
  ASSERT_EQ(r.status, 200) << r.body;
  auto series = parse(r.body);
  const auto& values = series["currentLevel"]["values"];
  ASSERT_EQ(values.Size(), 7u);  // t = 0, 300, ..., 1800 s
  EXPECT_STREQ(values[0][1].GetString(), "2026-07-01T12:00:00.000Z");
  EXPECT_STREQ(values[6][1].GetString(), "2026-07-01T12:30:00.000Z");
  EXPECT_EQ(values[0][0].GetDouble(), 0);
  for (const auto& v : values.GetArray()) EXPECT_LE(v[0].GetDouble(), depth->at(kGaugeI, kGaugeJ) + 1e-5);
}

TEST_F(Twin, CancelQueuedAndRunningRuns) {
  start({"--twin-workers", "1"});
  defineScenario("long", 7 * 86400);
  std::string running = startRun("long");
  std::string queued = startRun("long");
  HttpResult r = client_->request("POST", "/twin/v1/runs/" + queued + "/cancel");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(std::string(parse(r.body)["state"].GetString()), "cancelled");
  ASSERT_EQ(poll(running, "running"), "running");
  r = client_->request("POST", "/twin/v1/runs/" + running + "/cancel");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(poll(running), "cancelled");
  // Ended runs cannot be cancelled again, and have no results nor entities.
  r = client_->request("POST", "/twin/v1/runs/" + running + "/cancel");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_NE(r.body.find("\"type\""), std::string::npos);
  r = client_->request("GET", "/twin/v1/runs/" + running + "/results");
  EXPECT_EQ(r.status, 409);
  r = client_->request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:FloodSimulation:09999002:" + running);
  EXPECT_EQ(r.status, 404);
  // The scenario cannot be deleted while a run is queued or running; now it can.
  r = client_->request("DELETE", "/twin/v1/scenarios/long");
  EXPECT_EQ(r.status, 204) << r.body;
}

TEST_F(Twin, BadInputsAreProblemDetails) {
  start();
  HttpResult r = client_->request("POST", "/twin/v1/scenarios", json(), R"({"id":"x","manning":0.03})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("BadRequestData"), std::string::npos) << r.body;
  r = client_->request("POST", "/twin/v1/scenarios", json(), R"({"id":"x","rain":"uniform:50"})");
  EXPECT_EQ(r.status, 400) << r.body;
  r = client_->request("POST", "/twin/v1/scenarios", json(), R"({"id":"../x","rain":"uniform:50:10"})");
  EXPECT_EQ(r.status, 400) << r.body;
  r = client_->request("POST", "/twin/v1/scenarios", {{"Content-Type", "text/plain"}}, "{}");
  EXPECT_EQ(r.status, 415);
  r = client_->request("POST", "/twin/v1/scenarios", json(), R"({"id":"ok","rain":"uniform:50:10"})");
  ASSERT_EQ(r.status, 201) << r.body;
  r = client_->request("POST", "/twin/v1/scenarios", json(), R"({"id":"ok","rain":"uniform:50:10"})");
  EXPECT_EQ(r.status, 409);
  r = client_->request("POST", "/twin/v1/runs", json(), R"({"scenario":"ok"})");
  EXPECT_EQ(r.status, 409) << r.body;  // no DEM yet
  r = client_->request("PUT", "/twin/v1/scenarios/ok/inputs/dem", {{"Content-Type", "image/tiff"}}, "not a tiff");
  EXPECT_EQ(r.status, 400) << r.body;
  r = client_->request("PUT", "/twin/v1/scenarios/ok/inputs/buildings", {{"Content-Type", "application/geo+json"}},
                       buildings());
  EXPECT_EQ(r.status, 409) << r.body;  // the DEM comes first
  r = client_->request("PUT", "/twin/v1/scenarios/ok/inputs/sewers", {{"Content-Type", "application/geo+json"}}, "{}");
  EXPECT_EQ(r.status, 404);
  // A tenant named ".." stays inside DATA/twin.
  r = client_->request("POST", "/twin/v1/scenarios", {{"Content-Type", "application/json"}, {"NGSILD-Tenant", ".."}},
                       R"({"id":"dots","rain":"uniform:50:10"})");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/data/twin/@../scenarios/dots/scenario.json"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/data/scenarios"));
  r = client_->request("GET", "/twin/v1/runs/r-nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("ResourceNotFound"), std::string::npos);
}

// Point inflows and single edges in a scenario (docs/twin.md, "Point inflows and edges"): the
// run books the inflow, and summary.json shows the water that came in through them.
TEST_F(Twin, PointInflowsAndEdgesInScenarios) {
  start();
  const std::string def =
      R"({"id":"culvert","rain":"uniform:0:10","durationSeconds":600,"boundary":"free",)"
      R"("boundaries":{"west":{"type":"depth","depths":[[0,0.05],[600,0.2]]},"north":"closed"},)"
      R"("inflows":{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:25832"}},)"
      R"("features":[{"type":"Feature","id":"durchlass","properties":{"hydrograph":[[0,0],[100,1],[400,0]]},)"
      R"("geometry":{"type":"Point","coordinates":[650102.5,5419922.5]}}]}})";
  HttpResult r = client_->request("POST", "/twin/v1/scenarios", json(), def);
  ASSERT_EQ(r.status, 201) << r.body;
  r = client_->request("PUT", "/twin/v1/scenarios/culvert/inputs/dem", {{"Content-Type", "image/tiff"}},
                       demBytes(dir_.path()));
  ASSERT_EQ(r.status, 204) << r.body;
  std::string run = startRun("culvert");
  ASSERT_EQ(poll(run), "succeeded");
  r = client_->request("GET", "/twin/v1/runs/" + run + "/results/summary.json");
  ASSERT_EQ(r.status, 200) << r.body;
  auto summary = parse(r.body);
  const auto& balance = summary["massBalance"];
  // 200 m3 from the culvert plus what the western edge let in.
  EXPECT_GT(balance["inflowM3"].GetDouble(), 200 * 0.99) << r.body;
  EXPECT_EQ(balance["rainM3"].GetDouble(), 0);
  EXPECT_LT(balance["relativeError"].GetDouble(), 1e-9);

  // A hydrograph is required, edges are named, depths ascend in time.
  for (
      const char* bad : {
          R"({"rain":"uniform:50:10","inflows":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[11,48.9]}}]}})",
          R"({"rain":"uniform:50:10","boundaries":{"left":"free"}})",
          R"({"rain":"uniform:50:10","boundaries":{"west":{"type":"depth","depths":[[60,1],[0,1]]}}})",
      }) {
    r = client_->request("POST", "/twin/v1/scenarios", json(), bad);
    EXPECT_EQ(r.status, 400) << bad << " " << r.body;
    EXPECT_NE(r.body.find("BadRequestData"), std::string::npos) << r.body;
  }
}

TEST_F(Twin, RolesAndTenants) {
  const std::string admin = "alm_twin-test-platform-admin-key-0123456";
  std::ofstream(dir_.path() + "/admin.key") << admin << "\n";
  start({"--production", "--admin-key-file", dir_.path() + "/admin.key"});
  Headers platform = {{"X-API-Key", admin}};
  std::map<std::string, std::string> keys;
  for (auto [tenant, ags] : {std::pair{"alpha", "09999002"}, std::pair{"beta", "09999003"}}) {
    HttpResult r = client_->request("POST", "/admin/v1/tenants", json(platform),
                                    std::string(R"({"name":")") + tenant + R"(","ags":")" + ags + "\"}");
    ASSERT_EQ(r.status, 201) << r.body;
    for (const char* role : {"editor", "reader", "tenant-admin"}) {
      r = client_->request("POST", std::string("/admin/v1/tenants/") + tenant + "/keys", json(platform),
                           std::string(R"({"role":")") + role + "\"}");
      ASSERT_EQ(r.status, 201) << r.body;
      keys[std::string(tenant) + "/" + role] = parse(r.body)["key"].GetString();
    }
  }
  auto as = [&](const std::string& tenant, const std::string& role) {
    return Headers{{"X-API-Key", keys[tenant + "/" + role]}, {"NGSILD-Tenant", tenant}};
  };
  // No credentials: 401; a reader may not define or run; an editor may.
  HttpResult r = client_->request("GET", "/twin/v1/scenarios", {{"NGSILD-Tenant", "alpha"}});
  EXPECT_EQ(r.status, 401);
  r = client_->request("POST", "/twin/v1/scenarios", json(as("alpha", "reader")), scenario("s1", 600));
  EXPECT_EQ(r.status, 403) << r.body;
  defineScenario("s1", 600, as("alpha", "editor"));
  r = client_->request("POST", "/twin/v1/runs", json(as("alpha", "reader")), R"({"scenario":"s1"})");
  EXPECT_EQ(r.status, 403);
  std::string run = startRun("s1", as("alpha", "tenant-admin"));
  ASSERT_EQ(poll(run, "", as("alpha", "reader")), "succeeded");
  r = client_->request("POST", "/twin/v1/runs/" + run + "/cancel", as("alpha", "reader"));
  EXPECT_EQ(r.status, 403);
  // The reader sees the results and the entities (the entity ids carry alpha's AGS).
  r = client_->request("GET", "/twin/v1/runs/" + run + "/results/buildings.geojson", as("alpha", "reader"));
  EXPECT_EQ(r.status, 200);
  entity("urn:ngsi-ld:FloodSimulation:09999002:" + run, as("alpha", "reader"));
  // beta's keys do not open alpha, and beta's tenant has none of alpha's scenarios, runs, entities.
  Headers betaOnAlpha = {{"X-API-Key", keys["beta/tenant-admin"]}, {"NGSILD-Tenant", "alpha"}};
  r = client_->request("GET", "/twin/v1/runs/" + run, betaOnAlpha);
  EXPECT_EQ(r.status, 403);
  r = client_->request("GET", "/twin/v1/runs/" + run, as("beta", "reader"));
  EXPECT_EQ(r.status, 404);
  r = client_->request("GET", "/twin/v1/scenarios/s1", as("beta", "reader"));
  EXPECT_EQ(r.status, 404);
  r = client_->request("GET", "/twin/v1/scenarios", as("beta", "reader"));
  EXPECT_EQ(r.body, "[]");
  r = client_->request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:FloodSimulation:09999002:" + run, as("beta", "reader"));
  EXPECT_EQ(r.status, 404);
  // Deleting alpha deletes its scenarios and runs.
  EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/data/twin/alpha/scenarios/s1"));
  r = client_->request("DELETE", "/admin/v1/tenants/alpha?confirm=alpha", platform);
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/data/twin/alpha"));
}

TEST_F(Twin, DefinitionsAndResultsSurviveRestartsAndInterruptedRunsFail) {
  start({"--twin-checkpoint-minutes", "0"});  // no checkpoint to continue from

  defineScenario("short", 600);
  std::string done = startRun("short");
  ASSERT_EQ(poll(done), "succeeded");
  defineScenario("long", 7 * 86400);
  std::string interrupted = startRun("long");
  ASSERT_EQ(poll(interrupted, "running"), "running");
  server_->kill9();
  start({"--twin-checkpoint-minutes", "0"});
  HttpResult r = client_->request("GET", "/twin/v1/scenarios/short");
  ASSERT_EQ(r.status, 200) << r.body;
  auto s = parse(r.body);
  EXPECT_TRUE(s["inputs"].HasMember("dem"));
  EXPECT_TRUE(s["inputs"].HasMember("buildings"));
  EXPECT_EQ(poll(done), "succeeded");
  r = client_->request("GET", "/twin/v1/runs/" + done + "/results/max_depth.tif");
  EXPECT_EQ(r.status, 200);
  r = client_->request("GET", "/twin/v1/runs/" + interrupted);
  auto run = parse(r.body);
  EXPECT_STREQ(run["state"].GetString(), "failed");
  EXPECT_NE(std::string(run["error"].GetString()).find("interrupted"), std::string::npos);
  // Runs can be created but not started, then started.
  r = client_->request("POST", "/twin/v1/runs", json(), R"({"scenario":"short","start":false})");
  ASSERT_EQ(r.status, 201);
  std::string later = parse(r.body)["id"].GetString();
  EXPECT_STREQ(parse(r.body)["state"].GetString(), "created");
  r = client_->request("POST", "/twin/v1/runs/" + later + "/start");
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(poll(later), "succeeded");
  r = client_->request("GET", "/twin/v1/runs?scenario=short");
  EXPECT_EQ(parse(r.body).Size(), 2u);
}

TEST_F(Twin, DemoScenarioIsProvisioned) {
  start({"--demo"});
  HttpResult r = client_->request("GET", "/twin/v1/scenarios/starkregen-100");
  ASSERT_EQ(r.status, 200) << r.body;
  auto s = parse(r.body);
  EXPECT_TRUE(s["inputs"].HasMember("dem"));
  EXPECT_TRUE(s["inputs"].HasMember("buildings"));
  EXPECT_TRUE(s["inputs"].HasMember("landuse"));
  r = client_->request("GET", "/twin/v1/runs?scenario=starkregen-100");
  ASSERT_EQ(parse(r.body).Size(), 1u);
}

}  // namespace
}  // namespace allmende::testing

namespace allmende::testing {
namespace {

// A closed bowl of `n` x `n` cells of 1 m (lowest in the middle) in ETRS89 / UTM 32N.
std::string bowlDem(const std::string& dir, int n) {
  twin::Raster r(n, n, 1);
  r.originX = kOriginX;
  r.originY = kOriginY;
  r.crsWkt = twin::crsWkt("EPSG:25832").value();
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) r.at(i, j) = 20 + 0.02 * (std::abs(i - n / 2) + std::abs(j - n / 2));
  std::string path = dir + "/bowl.tif";
  EXPECT_TRUE(twin::writeGeoTiff(path, r).isOk());
  return readFile(path);
}

// A server killed (kill -9) in the middle of a run continues it from its newest checkpoint after
// the restart, and the run ends with the same results, bit for bit, as an uninterrupted run of
// the same scenario; so does one stopped by SIGTERM (it checkpoints as it stops).
TEST_F(Twin, InterruptedRunContinuesFromItsCheckpoint) {
  const std::vector<std::string> args = {"--twin-checkpoint-minutes", "1"};
  start(args);
  char gauge[128];
  std::snprintf(gauge, sizeof gauge, "[%.1f,%.1f]", kOriginX + 30.5, kOriginY - 40.5);
  HttpResult r = client_->request(
      "POST", "/twin/v1/scenarios", json(),
      std::string(R"({"id":"bowl","rain":"uniform:150:30","durationSeconds":1800,"gaugeIntervalSeconds":30,)"
                  R"("infiltrationMmPerHour":2,"initialLossMm":1,"gauges":{"type":"FeatureCollection",)") +
          kCrs + R"(,"features":[{"type":"Feature","id":"g","geometry":{"type":"Point","coordinates":)" + gauge +
          "}}]}}");
  ASSERT_EQ(r.status, 201) << r.body;
  r = client_->request("PUT", "/twin/v1/scenarios/bowl/inputs/dem", {{"Content-Type", "image/tiff"}},
                       bowlDem(dir_.path(), 100));
  ASSERT_EQ(r.status, 204) << r.body;
  std::string interrupted = startRun("bowl");
  double checkpoint = -1;
  for (int k = 0; k < 20000 && checkpoint < 0; ++k) {  // a bound, not a timing assertion
    r = client_->request("GET", "/twin/v1/runs/" + interrupted + "/progress");
    auto d = parse(r.body);
    ASSERT_NE(std::string(d["state"].GetString()), "succeeded") << "the run ended before it could be interrupted";
    if (d["progress"].HasMember("checkpointSeconds")) checkpoint = d["progress"]["checkpointSeconds"].GetDouble();
    if (checkpoint < 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GT(checkpoint, 0);
  server_->kill9();
  start(args);
  ASSERT_EQ(poll(interrupted), "succeeded");
  r = client_->request("GET", "/twin/v1/runs/" + interrupted);
  auto run = parse(r.body);
  ASSERT_TRUE(run.HasMember("resumedFrom")) << r.body;
  double resumedFrom = run["resumedFrom"].GetDouble();
  EXPECT_GE(resumedFrom, checkpoint - 1e-6);  // the newest checkpoint, maybe one written after the poll
  EXPECT_LT(resumedFrom, 1800);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/data/twin/@default/runs/" + interrupted + "/checkpoint.bin"));

  std::string whole = startRun("bowl");
  ASSERT_EQ(poll(whole), "succeeded");
  r = client_->request("GET", "/twin/v1/runs/" + whole);
  EXPECT_FALSE(parse(r.body).HasMember("resumedFrom"));
  auto a = parse(client_->request("GET", "/twin/v1/runs/" + interrupted + "/results/summary.json").body);
  auto b = parse(client_->request("GET", "/twin/v1/runs/" + whole + "/results/summary.json").body);
  EXPECT_EQ(a["steps"].GetInt64(), b["steps"].GetInt64());
  EXPECT_EQ(a["maxDepth"].GetDouble(), b["maxDepth"].GetDouble());
  for (const char* m : {"rainM3", "lossesM3", "storedM3", "relativeError"})
    EXPECT_EQ(a["massBalance"][m].GetDouble(), b["massBalance"][m].GetDouble()) << m;
  EXPECT_GT(a["maxDepth"].GetDouble(), 0.1);
  for (const char* file : {"max_depth.tif", "max_velocity.tif", "time_to_10cm.tif", "gauges.csv"}) {
    HttpResult x = client_->request("GET", "/twin/v1/runs/" + interrupted + "/results/" + file);
    HttpResult y = client_->request("GET", "/twin/v1/runs/" + whole + "/results/" + file);
    ASSERT_EQ(x.status, 200);
    EXPECT_TRUE(x.body == y.body) << file << " differs";
  }
  std::printf("checkpoint seen at %.0f s, resumed from %.0f s, %lld steps\n", checkpoint, resumedFrom,
              static_cast<long long>(a["steps"].GetInt64()));

  // A server stopped (SIGTERM) mid-run checkpoints it where it is; the run continues after the
  // next start, to the same results again.
  std::string stopped = startRun("bowl");
  for (int k = 0; k < 20000; ++k) {  // a bound, not a timing assertion
    auto d = parse(client_->request("GET", "/twin/v1/runs/" + stopped + "/progress").body);
    ASSERT_NE(std::string(d["state"].GetString()), "succeeded") << "the run ended before the server stopped";
    if (std::string(d["state"].GetString()) == "running" && d["progress"]["simulatedSeconds"].GetDouble() > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  server_->stop();
  start(args);
  ASSERT_EQ(poll(stopped), "succeeded");
  run = parse(client_->request("GET", "/twin/v1/runs/" + stopped).body);
  ASSERT_TRUE(run.HasMember("resumedFrom"));
  EXPECT_GT(run["resumedFrom"].GetDouble(), 0);
  for (const char* file : {"max_depth.tif", "gauges.csv"}) {
    HttpResult x = client_->request("GET", "/twin/v1/runs/" + stopped + "/results/" + file);
    HttpResult y = client_->request("GET", "/twin/v1/runs/" + whole + "/results/" + file);
    EXPECT_TRUE(x.body == y.body) << file << " differs";
  }
}

// Manning's n and infiltration as rasters (inputs/manning, inputs/infiltration): checked on
// upload, served back, and used by the run (here: a raster of zero infiltration everywhere but
// a soaking field books losses that the same scenario without it does not have).
TEST_F(Twin, RoughnessAndLossRasters) {
  start();
  defineScenario("rasters", 900);
  twin::Raster soak(kNx / 2, kNy / 2, 2 * kDx, 0);  // coarser than the DEM: resampled
  soak.originX = kOriginX;
  soak.originY = kOriginY;
  soak.crsWkt = twin::crsWkt("EPSG:25832").value();
  soak.hasNoData = true;
  soak.noData = -1;
  for (int j = 0; j < soak.ny; ++j)
    for (int i = 0; i < soak.nx; ++i) soak.at(i, j) = i < 5 ? 50 : -1;  // 50 mm/h in the west, no-data else
  ASSERT_TRUE(twin::writeGeoTiff(dir_.path() + "/soak.tif", soak).isOk());
  twin::Raster rough = soak;
  for (double& v : rough.v) v = v < 0 ? -1 : 0.1;
  ASSERT_TRUE(twin::writeGeoTiff(dir_.path() + "/rough.tif", rough).isOk());
  twin::Raster bad = rough;
  bad.v[3] = 0;  // Manning's n must be positive
  ASSERT_TRUE(twin::writeGeoTiff(dir_.path() + "/bad.tif", bad).isOk());

  std::string plain = startRun("rasters");
  ASSERT_EQ(poll(plain), "succeeded");
  Headers tiff = {{"Content-Type", "image/tiff"}};
  HttpResult r =
      client_->request("PUT", "/twin/v1/scenarios/rasters/inputs/manning", tiff, readFile(dir_.path() + "/bad.tif"));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("manning"), std::string::npos) << r.body;
  r = client_->request("PUT", "/twin/v1/scenarios/rasters/inputs/manning", {{"Content-Type", "application/geo+json"}},
                       "{}");
  EXPECT_EQ(r.status, 415) << r.body;
  r = client_->request("PUT", "/twin/v1/scenarios/rasters/inputs/manning", tiff, readFile(dir_.path() + "/rough.tif"));
  ASSERT_EQ(r.status, 204) << r.body;
  r = client_->request("PUT", "/twin/v1/scenarios/rasters/inputs/infiltration", tiff,
                       readFile(dir_.path() + "/soak.tif"));
  ASSERT_EQ(r.status, 204) << r.body;
  r = client_->request("GET", "/twin/v1/scenarios/rasters/inputs/infiltration");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "image/tiff");
  EXPECT_TRUE(r.body == readFile(dir_.path() + "/soak.tif"));
  r = client_->request("GET", "/twin/v1/scenarios/rasters");
  auto sc = parse(r.body);
  EXPECT_TRUE(sc["inputs"].HasMember("manning"));
  EXPECT_TRUE(sc["inputs"].HasMember("infiltration"));

  std::string soaked = startRun("rasters");
  ASSERT_EQ(poll(soaked), "succeeded");
  auto a = parse(client_->request("GET", "/twin/v1/runs/" + plain + "/results/summary.json").body);
  auto b = parse(client_->request("GET", "/twin/v1/runs/" + soaked + "/results/summary.json").body);
  EXPECT_EQ(a["massBalance"]["lossesM3"].GetDouble(), 0);
  EXPECT_GT(b["massBalance"]["lossesM3"].GetDouble(), 0);
  EXPECT_LT(b["massBalance"]["relativeError"].GetDouble(), 1e-9);
  EXPECT_LT(b["massBalance"]["storedM3"].GetDouble(), a["massBalance"]["storedM3"].GetDouble());
}

// "buildings": {"source": "entities"}: the footprints are the tenant's own Building entities
// (Polygon locations), taken when the run is created; the results are merged into them.
TEST_F(Twin, FootprintsFromTheTenantsBuildingEntities) {
  start();
  Headers tenant = {{"NGSILD-Tenant", "stadt"}};
  HttpResult r = client_->request(
      "POST", "/twin/v1/scenarios", json(tenant),
      R"({"id":"own","rain":{"type":"uniform","mmPerHour":120,"durationMinutes":10},"durationSeconds":900,)"
      R"("municipalityKey":"09999003","buildings":{"source":"entities","mode":"block"}})");
  ASSERT_EQ(r.status, 201) << r.body;
  Headers tiff = tenant;
  tiff.emplace_back("Content-Type", "image/tiff");
  r = client_->request("PUT", "/twin/v1/scenarios/own/inputs/dem", tiff, demBytes(dir_.path()));
  ASSERT_EQ(r.status, 204) << r.body;
  // The footprints in WGS84, as NGSI-LD GeoProperties are.
  auto toWgs84 = twin::CrsTransform::make("EPSG:25832", twin::kWgs84);
  ASSERT_TRUE(toWgs84.isOk());
  auto polygon = [&](const Cells& c) {
    double xs[] = {kOriginX + c.i0 * kDx, kOriginX + (c.i1 + 1) * kDx};
    double ys[] = {kOriginY - (c.j1 + 1) * kDx, kOriginY - c.j0 * kDx};
    std::pair<int, int> corners[] = {{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}};
    std::string s = "[[";
    for (auto [a, b] : corners) {
      double x = xs[a], y = ys[b];
      EXPECT_TRUE(toWgs84->apply(x, y));
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s[%.9f,%.9f]", s.size() > 2 ? "," : "", x, y);
      s += buf;
    }
    return s + "]]";
  };
  Headers ld = json(tenant);
  for (auto [id, cells] : {std::pair{"wet", kWetHouse}, std::pair{"dry", kDryHouse}}) {
    r = client_->request("POST", "/ngsi-ld/v1/entities", ld,
                         std::string(R"({"id":"urn:ngsi-ld:Building:stadt:)") + id +
                             R"(","type":"Building","name":{"type":"Property","value":"Haus )" + id +
                             R"("},"location":{"type":"GeoProperty","value":{"type":"Polygon","coordinates":)" +
                             polygon(cells) + "}}}");
    ASSERT_EQ(r.status, 201) << r.body;
  }
  // A Building with a Point location has no footprint: left out.
  r = client_->request("POST", "/ngsi-ld/v1/entities", ld,
                       R"({"id":"urn:ngsi-ld:Building:stadt:point","type":"Building",)"
                       R"("location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[11.05,48.9]}}})");
  ASSERT_EQ(r.status, 201) << r.body;

  std::string run = startRun("own", tenant);
  ASSERT_EQ(poll(run, "", tenant), "succeeded");
  r = client_->request("GET", "/twin/v1/runs/" + run, tenant);
  auto doc = parse(r.body);
  EXPECT_EQ(doc["summary"]["buildings"].GetInt(), 2) << r.body;
  r = client_->request("GET", "/twin/v1/runs/" + run + "/results/max_depth.tif", tenant);
  ASSERT_EQ(r.status, 200);
  std::ofstream(dir_.path() + "/own_depth.tif", std::ios::binary) << r.body;
  auto depth = twin::readRaster(dir_.path() + "/own_depth.tif");
  ASSERT_TRUE(depth.isOk());
  // Blocked: the footprints hold no water; the results are merged into the town's own entities.
  for (int j = kWetHouse.j0; j <= kWetHouse.j1; ++j)
    for (int i = kWetHouse.i0; i <= kWetHouse.i1; ++i) EXPECT_EQ(depth->at(i, j), 0) << i << "," << j;
  for (auto [id, cells] : {std::pair{"wet", kWetHouse}, std::pair{"dry", kDryHouse}}) {
    auto b = entity(std::string("urn:ngsi-ld:Building:stadt:") + id, tenant);
    double expected = depthAround(*depth, cells);
    EXPECT_NEAR(b["maxFloodDepth"]["value"].GetDouble(), expected, 1e-5 * expected + 1e-6) << id;
    EXPECT_EQ(std::string(b["name"]["value"].GetString()), std::string("Haus ") + id);
  }
  EXPECT_GE(depthAround(*depth, kWetHouse), 0.1);
  r = client_->request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Building:09999003:wet", tenant);
  EXPECT_EQ(r.status, 404);  // no copy under the scenario's key
}

}  // namespace
}  // namespace allmende::testing
