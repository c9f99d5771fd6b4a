#include "twin/scenario.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include "common/json.h"
#include "twin/hazard.h"
#include "twin/raster_io.h"

namespace allmende::twin {

namespace {

Result<Domain> buildDomain(const ScenarioConfig& c, Raster dem) {
  Domain d;
  d.dem = std::move(dem);
  d.manning = {c.manning};
  if (c.infiltrationMmPerHour > 0) d.infiltration = {c.infiltrationMmPerHour / 1000.0 / 3600.0};
  d.initialLoss = c.initialLossMm / 1000.0;
  if (c.boundary == "free") {
    for (Boundary* b : {&d.west, &d.east, &d.north, &d.south}) {
      b->kind = Boundary::Kind::kFreeOutflow;
      b->slope = c.outflowSlope;
    }
  } else if (c.boundary != "closed") {
    return badRequestData("boundary must be closed or free, not '" + c.boundary + "'");
  }
  return d;
}

std::string summaryJson(const ScenarioSummary& s) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("cells"); w.Int64(s.cells);
  w.Key("steps"); w.Int64(s.steps);
  w.Key("simulatedSeconds"); w.Double(s.simulatedSeconds);
  w.Key("wallSeconds"); w.Double(s.wallSeconds);
  w.Key("maxDepth"); w.Double(s.maxDepth);
  w.Key("floodedCells"); w.Int64(s.floodedCells);
  w.Key("massBalance");
  w.StartObject();
  w.Key("initialM3"); w.Double(s.balance.initial);
  w.Key("rainM3"); w.Double(s.balance.rain);
  w.Key("inflowM3"); w.Double(s.balance.inflow);
  w.Key("outflowM3"); w.Double(s.balance.outflow);
  w.Key("lossesM3"); w.Double(s.balance.losses);
  w.Key("storedM3"); w.Double(s.balance.stored);
  w.Key("relativeError"); w.Double(s.balance.relativeError());
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

Status writeResults(const std::string& outDir, const Raster& like, const Peaks& peaks, const ScenarioSummary& summary) {
  namespace fs = std::filesystem;
  Raster depth = like.like(0), speed = like.like(0), t10 = like.like(-1), dClass = like.like(0), hClass = like.like(0);
  depth.hasNoData = speed.hasNoData = dClass.hasNoData = hClass.hasNoData = false;
  t10.hasNoData = true;
  t10.noData = -1;
  for (size_t k = 0; k < like.cells(); ++k) {
    depth.v[k] = peaks.maxDepth[k];
    speed.v[k] = peaks.maxSpeed[k];
    t10.v[k] = peaks.timeTo10cm[k];
    dClass.v[k] = depthClass(peaks.maxDepth[k]);
    hClass.v[k] = hazardRatingClass(peaks.maxDepth[k], peaks.maxSpeed[k]);
  }
  auto path = [&](const char* name) { return (fs::path(outDir) / name).string(); };
  ALLMENDE_RETURN_IF_ERROR(writeGeoTiff(path("max_depth.tif"), depth));
  ALLMENDE_RETURN_IF_ERROR(writeGeoTiff(path("max_velocity.tif"), speed));
  ALLMENDE_RETURN_IF_ERROR(writeGeoTiff(path("time_to_10cm.tif"), t10));
  ALLMENDE_RETURN_IF_ERROR(writeGeoTiff(path("hazard_depth.tif"), dClass, CellType::kByte));
  ALLMENDE_RETURN_IF_ERROR(writeGeoTiff(path("hazard_rating.tif"), hClass, CellType::kByte));
  std::ofstream out(path("summary.json"));
  out << summaryJson(summary) << "\n";
  if (!out) return internalError("cannot write " + path("summary.json"));
  return Status::ok();
}

Result<ScenarioSummary> runScenario(const ScenarioConfig& c, const std::function<void(const Progress&)>& progress,
                                    const std::atomic<bool>* cancel) {
  auto rain = parseRain(c.rain);
  if (!rain) return rain.status();
  auto dem = readRaster(c.demPath);
  if (!dem) return dem.status();
  Raster like = *dem;
  auto domain = buildDomain(c, std::move(*dem));
  if (!domain) return domain.status();
  std::error_code ec;
  std::filesystem::create_directories(c.outDir, ec);
  if (ec) return badRequestData("cannot create output directory '" + c.outDir + "': " + ec.message());
  auto solver = makeSolver(std::move(*domain), c.solver, c.precision);
  if (!solver) return solver.status();
  double end = c.durationSeconds > 0 ? c.durationSeconds : rain->end() + 3600;
  auto start = std::chrono::steady_clock::now();
  (*solver)->run(end, *rain, progress, cancel);
  ScenarioSummary s;
  s.cells = long(like.cells());
  s.steps = (*solver)->steps();
  s.simulatedSeconds = (*solver)->time();
  s.wallSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  s.balance = (*solver)->balance();
  for (double d : (*solver)->peaks().maxDepth) {
    s.maxDepth = std::max(s.maxDepth, d);
    if (d >= 0.1) ++s.floodedCells;
  }
  ALLMENDE_RETURN_IF_ERROR(writeResults(c.outDir, like, (*solver)->peaks(), s));
  return s;
}

}  // namespace allmende::twin
