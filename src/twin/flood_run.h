// One flood run of the API: a scenario definition (scenario_spec.h) and its input files in, the
// result rasters, the web map overlays, per-building and per-gauge results out. Pure apart from
// the files: it knows nothing of tenants, HTTP or NGSI-LD (run_queue.h and api/twin_entities.cc
// do that).
//
// Input files in `inputDir`: dem.tif (required), buildings.geojson, landuse.geojson (optional).
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "twin/overlay.h"
#include "twin/scenario.h"
#include "twin/scenario_spec.h"

namespace allmende::twin {

// The maximum depth next to one building: over the cells that touch its footprint (8-neighbours)
// and are not part of it, since the footprint itself holds no water (blocked) or only roof rain
// (raised).
struct BuildingResult {
  std::string id, name;
  std::string geometryWgs84;  // GeoJSON text, "" when the DEM has no CRS
  double maxDepth = 0;        // m
  int depthClass = 0;         // twin/hazard.h
  long footprintCells = 0;
};

struct GaugeSeries {
  std::string id, name;
  std::string geometryWgs84;
  std::vector<std::pair<double, double>> samples;  // (simulated s, depth m), every interval and at the end
  double maxDepth = 0;                             // over every step, not only the samples
};

struct RunOutcome {
  ScenarioSummary summary;
  bool completed = false;  // false: cancelled
  std::vector<BuildingResult> buildings;
  std::vector<GaugeSeries> gauges;
  bool hasBounds = false;    // the DEM has a CRS: bounds and overlays exist
  Bounds bounds;             // of the PNG overlay (WGS84)
  double floodedAreaM2 = 0;  // cells with a maximum depth >= 0.1 m
  double rainDepthMm = 0;    // total of the rain event
  bool suspended = false;    // stopped by FloodRunOptions::suspend, with a checkpoint written
  double resumedFrom = -1;   // simulated s of the checkpoint the run continued from, -1: none
};

struct FloodRunOptions {
  int solverThreads = 1;  // 0: all cores
  // Called about every 100 steps and at the end, on the run's thread.
  std::function<void(const Progress&)> progress;
  const std::atomic<bool>* cancel = nullptr;
  // Checkpoints (twin/checkpoint.h) in `checkpointPath` ("" = none): one at the first gauge
  // sample at least `checkpointSeconds` of simulated time after the previous one (0: only on
  // suspend), and one when `suspend` is true as the run stops (set `cancel` too; the run returns
  // completed = false, suspended = true). When the file holds a checkpoint of this run, the run
  // continues from it; a checkpoint of another run (other inputs or scenario) fails the run.
  // It is deleted when the run completes.
  std::string checkpointPath;
  double checkpointSeconds = 0;
  const std::atomic<bool>* suspend = nullptr;
  std::function<void(double simulatedSeconds)> checkpointed;  // after each checkpoint written
};

// The input files of a run: the DEM (required), footprints and land-use areas (GeoJSON), Manning's
// n and infiltration rasters (mm/h; param_raster.h); a path that is empty or names no file means
// none.
struct FloodInputs {
  std::string dem, buildings, landuse, manning, infiltration;
};

// Runs the scenario. On completion writes into `outDir` (created): the rasters of
// scenario.h writeResults, hazard_depth.png + hazard_depth.geojson (overlay.h, when the DEM has a
// CRS), buildings.geojson (footprints with maxDepth and depthClass), gauges.csv, outcome.json.
// A cancelled run writes nothing and returns completed = false. Fails on bad inputs.
Result<RunOutcome> runFlood(const ScenarioSpec& spec, const FloodInputs& inputs, const std::string& outDir,
                            const FloodRunOptions& options);
// The same with the inputs in `inputDir`: dem.tif, buildings.geojson, landuse.geojson, manning.tif,
// infiltration.tif.
Result<RunOutcome> runFlood(const ScenarioSpec& spec, const std::string& inputDir, const std::string& outDir,
                            const FloodRunOptions& options);

// outcome.json's text (also what the results index serves).
std::string outcomeJson(const RunOutcome& outcome);

}  // namespace allmende::twin
