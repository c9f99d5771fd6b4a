// One flood run from files to files: read the DEM, build the domain, run the solver under a rain
// model, write the result rasters and a summary. Used by `allmende twin run`; the API (later)
// will run the same on its worker pool, never on the request threads.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "common/status.h"
#include "twin/solver.h"

namespace allmende::twin {

struct ScenarioConfig {
  std::string demPath;
  std::string rain;             // parseRain() syntax
  std::string outDir;           // created if missing
  double durationSeconds = 0;   // 0: the rain duration plus one hour
  double manning = 0.035;       // s m^-1/3, every cell
  std::string boundary = "closed";  // closed | free (all four edges)
  double outflowSlope = 0.001;  // free outflow: slope of the normal-depth relation
  double infiltrationMmPerHour = 0;
  double initialLossMm = 0;
  Precision precision = Precision::kDouble;
  SolverOptions solver;
};

struct ScenarioSummary {
  long cells = 0;
  long steps = 0;
  double simulatedSeconds = 0;
  double wallSeconds = 0;
  MassBalance balance;
  double maxDepth = 0;
  long floodedCells = 0;  // cells with a maximum depth >= 0.1 m
};

// Runs the scenario and writes into outDir: max_depth.tif, max_velocity.tif, time_to_10cm.tif
// (Float32; -1 = never), hazard_depth.tif and hazard_rating.tif (Byte classes, twin/hazard.h),
// summary.json. Fails on unreadable input or an unwritable directory; returns early when
// `cancel` becomes true (with the partial results written).
Result<ScenarioSummary> runScenario(const ScenarioConfig& config, const std::function<void(const Progress&)>& progress = {},
                                    const std::atomic<bool>* cancel = nullptr);

// The peak rasters and the summary into `outDir` (exists); `like` gives shape and georeference.
Status writeResults(const std::string& outDir, const Raster& like, const Peaks& peaks, const ScenarioSummary& summary);

}  // namespace allmende::twin
