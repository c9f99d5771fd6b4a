#include "app/twin_setup.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/twin_entities.h"
#include "twin/crs.h"
#include "twin/raster_io.h"

namespace allmende::app {

namespace fs = std::filesystem;

void addTwinFlags(CLI::App& s, TwinOptions& o) {
  s.add_option("--twin-workers", o.workers, "flood runs executed at a time")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  s.add_option("--twin-solver-threads", o.solverThreads, "OpenMP threads per flood run (0 = all cores but one)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  s.add_option("--twin-nice", o.niceness, "CPU priority lowered by this for flood runs (0-19)")
      ->check(CLI::Range(0, 19))
      ->capture_default_str();
  s.add_option("--twin-max-upload", o.maxUploadBytes, "largest DEM or GeoJSON upload in bytes")->capture_default_str();
  s.add_option("--twin-checkpoint-minutes", o.checkpointMinutes,
               "simulated minutes between checkpoints of a flood run (0: only at shutdown)")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  s.add_flag("!--no-twin", o.enabled, "disable the digital twin's API (/twin/v1 answers 501)");
}

size_t twinUploadLimit(const TwinOptions& o, std::string_view method, std::string_view target) {
  constexpr std::string_view kPrefix = "/twin/v1/scenarios/";
  if (!o.enabled || method != "PUT" || target.substr(0, kPrefix.size()) != kPrefix) return 0;
  return target.find("/inputs/") != std::string_view::npos ? o.maxUploadBytes : 0;
}

Result<std::unique_ptr<twin::RunQueue>> setupTwin(const TwinOptions& o, const std::string& dataDir,
                                                  api::Services& services) {
  if (!o.enabled) return std::unique_ptr<twin::RunQueue>();
  twin::RunQueueOptions ro;
  ro.dir = (fs::path(dataDir) / "twin").string();
  ro.workers = o.workers;
  ro.solverThreads = o.solverThreads;
  ro.niceness = o.niceness;
  ro.checkpointMinutes = o.checkpointMinutes;
  auto q = twin::RunQueue::open(ro, services.clock);
  if (!q) return q.status();
  (*q)->setPublisher(api::makeRunPublisher(services.store, services.contexts, services.tenants, services.clock));
  (*q)->setBuildingSource(api::makeBuildingSource(services.store, services.contexts));
  (*q)->start();
  services.twin = q->get();
  spdlog::info("digital twin: {} worker(s), {} solver thread(s) per run", o.workers, (*q)->solverThreads());
  return q;
}

namespace {

// Musterhausen's centre (app/demo.cc) and the synthetic valley around it, in ETRS89 / UTM 32N.
constexpr double kLon = 11.2500, kLat = 48.9000;
constexpr int kNx = 100, kNy = 80;
constexpr double kDx = 3;
constexpr int kValleyRow = 40;
constexpr const char* kId = "starkregen-100";

struct Block {
  int i0, j0, i1, j1;  // cells, inclusive
};

bool inBlock(const Block& b, int i, int j) { return i >= b.i0 && i <= b.i1 && j >= b.j0 && j <= b.j1; }

// Main street along the valley (north of the brook), a cross street, an underpass under the
// railway embankment where the cross street meets the valley floor.
const Block kMainStreet{0, kValleyRow - 8, kNx - 1, kValleyRow - 6};
const Block kCrossStreet{48, 0, 50, kNy - 1};
const Block kUnderpass{48, kValleyRow + 12, 50, kValleyRow + 16};
const Block kBrook{0, kValleyRow - 1, kNx - 1, kValleyRow + 1};

std::vector<Block> buildings() {
  std::vector<Block> out;
  for (int i = 6; i + 5 < kNx; i += 9) {
    if (i + 5 >= kCrossStreet.i0 - 1 && i <= kCrossStreet.i1 + 1) continue;
    out.push_back({i, kValleyRow - 14, i + 4, kValleyRow - 10});  // north of the main street
    out.push_back({i, kValleyRow + 4, i + 4, kValleyRow + 7});    // south of the brook
  }
  return out;
}

twin::Raster demTerrain(double originX, double originY, const std::string& wkt) {
  twin::Raster r(kNx, kNy, kDx);
  r.originX = originX;
  r.originY = originY;
  r.crsWkt = wkt;
  for (int j = 0; j < kNy; ++j) {
    for (int i = 0; i < kNx; ++i) {
      double z = 100 + 0.01 * (kNx - i) * kDx + 0.05 * std::abs(j - kValleyRow) * kDx;
      if (inBlock(kBrook, i, j)) z -= 0.6;
      if (inBlock(kMainStreet, i, j) || inBlock(kCrossStreet, i, j)) z -= 0.15;
      if (inBlock(kUnderpass, i, j)) z -= 1.2;
      // A filled-in pond south of the brook, now houses: the slope's runoff gathers around them.
      double pond = std::max(std::abs(i - 71) / 14.0, std::abs(j - (kValleyRow + 6)) / 5.0);
      if (pond < 1) z -= 1.5 * (1 - pond);
      r.at(i, j) = z;
    }
  }
  return r;
}

std::string ringOf(const Block& b, double ox, double oy) {
  double w = ox + b.i0 * kDx, e = ox + (b.i1 + 1) * kDx, n = oy - b.j0 * kDx, s = oy - (b.j1 + 1) * kDx;
  char buf[256];
  std::snprintf(buf, sizeof buf, "[[[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f]]]", w, s, e, s, e, n, w,
                n, w, s);
  return buf;
}

std::string collection(const std::vector<std::string>& features) {
  std::string s =
      R"({"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:25832"}},"features":[)";
  for (size_t k = 0; k < features.size(); ++k) s += (k ? "," : "") + features[k];
  return s + "]}";
}

std::string polygonFeature(const std::string& id, const std::string& props, const Block& b, double ox, double oy) {
  return R"({"type":"Feature","id":")" + id + R"(","properties":{)" + props +
         R"(},"geometry":{"type":"Polygon","coordinates":)" + ringOf(b, ox, oy) + "}}";
}

std::string pointFeature(const std::string& id, const std::string& name, int i, int j, double ox, double oy) {
  char buf[320];
  std::snprintf(
      buf, sizeof buf,
      R"({"type":"Feature","id":"%s","properties":{"name":"%s"},"geometry":{"type":"Point","coordinates":[%.2f,%.2f]}})",
      id.c_str(), name.c_str(), ox + (i + 0.5) * kDx, oy - (j + 0.5) * kDx);
  return buf;
}

// "public": true -- the citizen app shows the scenario's newest run as its hazard map
// (api/web_hazard.h).
std::string definition(double ox, double oy) {
  std::vector<std::string> gauges = {
      pointFeature("unterfuehrung", "Unterführung Bahnhofstraße", 49, kValleyRow + 14, ox, oy),
      pointFeature("hauptstrasse", "Hauptstraße Mitte", 30, kValleyRow - 7, ox, oy),
      pointFeature("muehlbach", "Mühlbach Ortsausgang", kNx - 2, kValleyRow, ox, oy)};
  std::string g = collection(gauges);
  return R"({"id":")" + std::string(kId) +
         R"J(","name":"Starkregen T=100 a, 60 min (Demo Musterhausen)",
    "description":"Euler type II design storm from an invented KOSTRA-like depth table on a synthetic valley",
    "rain":{"type":"euler2","durationMinutes":60,
            "depths":[[5,12],[10,19],[15,24],[20,28],[30,33],[45,38],[60,42]]},
    "durationSeconds":5400,"boundary":"free","manning":0.04,"infiltrationMmPerHour":5,"initialLossMm":1,
    "buildings":{"mode":"block"},"gaugeIntervalSeconds":300,
    "municipalityKey":"09999001","eventStart":"2026-07-01T14:00:00Z","public":true,"gauges":)J" +
         g + "}";
}

std::string readAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Status provisionDemoScenario(twin::RunQueue& queue, const std::string& dataDir) {
  if (queue.scenario("", kId)) {
    if (!queue.runs("", std::string(kId)).empty()) return Status::ok();
    auto run = queue.createRun("", kId, "demo", true);
    return run ? Status::ok() : run.status();
  }
  auto toUtm = twin::CrsTransform::make(twin::kWgs84, "EPSG:25832");
  if (!toUtm) return toUtm.status();
  double cx = kLon, cy = kLat;
  if (!toUtm->apply(cx, cy)) return internalError("cannot place the demo terrain");
  // Whole metres, so the footprints fall on cell edges.
  double ox = std::round(cx - kNx * kDx / 2), oy = std::round(cy + kNy * kDx / 2);
  JsonDocument def;
  ALLMENDE_RETURN_IF_ERROR(parseJson(definition(ox, oy), def));
  def.RemoveMember("id");
  auto s = queue.putScenario("", kId, toJsonString(def), "demo", true);
  if (!s) return s.status();

  fs::path tmp = fs::path(dataDir) / "twin" / "demo-dem.tif";
  auto wkt = twin::crsWkt("EPSG:25832");
  if (!wkt) return wkt.status();
  twin::Raster dem = demTerrain(ox, oy, *wkt);
  ALLMENDE_RETURN_IF_ERROR(twin::writeGeoTiff(tmp.string(), dem));
  Status st = queue.putInput("", kId, "dem", readAll(tmp));
  std::error_code ec;
  fs::remove(tmp, ec);
  ALLMENDE_RETURN_IF_ERROR(st);

  std::vector<std::string> houses;
  int n = 1;
  for (const auto& b : buildings()) {
    std::string street = b.j0 < kValleyRow ? "Hauptstraße" : "Am Mühlbach";
    houses.push_back(polygonFeature("haus-" + std::to_string(n),
                                    R"("name":")" + street + " " + std::to_string(n) + "\"", b, ox, oy));
    ++n;
  }
  ALLMENDE_RETURN_IF_ERROR(queue.putInput("", kId, "buildings", collection(houses)));
  std::vector<std::string> areas = {polygonFeature("hauptstrasse", R"("landUse":"street")", kMainStreet, ox, oy),
                                    polygonFeature("bahnhofstrasse", R"("landUse":"street")", kCrossStreet, ox, oy),
                                    polygonFeature("muehlbach", R"("landUse":"water")", kBrook, ox, oy)};
  ALLMENDE_RETURN_IF_ERROR(queue.putInput("", kId, "landuse", collection(areas)));
  auto run = queue.createRun("", kId, "demo", true);
  return run ? Status::ok() : run.status();
}

}  // namespace allmende::app
