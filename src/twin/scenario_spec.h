// A flood scenario as the API defines it (docs/twin.md, "Scenario definition"): the rain, the
// physical parameters, how buildings enter the terrain, roughness and losses per land-use class,
// virtual gauges. The raster and vector inputs are files next to the definition (run_store.h).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "common/time.h"
#include "twin/solver.h"

namespace allmende::twin {

struct LandUseClass {
  double manning = 0.035;            // s m^-1/3
  double infiltrationMmPerHour = 0;  // constant loss rate
};

// A time series of (simulated s, value) pairs, times ascending, interpolated linearly.
using TimeSeries = std::vector<std::pair<double, double>>;

// One edge of the DEM: "" (as `boundary`), closed, free (normal-depth outflow with `slope`), or
// depth (a water depth over time outside the edge: a river stage, a sea level).
struct EdgeSpec {
  std::string kind;
  double slope = 0;   // free: 0 = the scenario's outflowSlope
  TimeSeries depths;  // depth: (s, m), held before the first and after the last time
};

struct ScenarioSpec {
  std::string name;
  std::string rain;                  // parseRain() syntax (an object form is converted to it)
  double durationSeconds = 0;        // 0: the rain plus one hour
  double manning = 0.035;            // cells outside every land-use area
  double infiltrationMmPerHour = 0;  // cells outside every land-use area
  double initialLossMm = 0;
  std::string boundary = "closed";  // closed | free
  double outflowSlope = 0.001;
  Precision precision = Precision::kDouble;
  bool buildingsBlock = true;                          // true: footprint cells take no water; false: raised
  double buildingHeight = 10;                          // m added to the footprint when raised and no height is given
  bool buildingsFromEntities = false;                  // buildings.source "entities": the tenant's Building entities
  std::map<std::string, LandUseClass> landUseClasses;  // defaults merged with the definition's
  std::string gauges;                                  // GeoJSON FeatureCollection of Points (text), "" = none
  double gaugeIntervalSeconds = 300;                   // sampling of the gauges' depth series
  std::string inflows;                                 // GeoJSON FeatureCollection of Points (text), "" = none
  std::vector<TimeSeries> inflowHydrographs;           // per inflow feature, in order: (s, m3/s), 0 outside
  EdgeSpec west, east, north, south;                   // per edge, overriding `boundary`
  std::string municipalityKey;                         // entity ids urn:ngsi-ld:<Type>:<key>:...; "" = the tenant's
  std::optional<Micros> eventStart;                    // observedAt of t = 0; default: when the run starts
};

// The built-in land-use classes (docs/twin.md lists them and their sources).
const std::map<std::string, LandUseClass>& defaultLandUseClasses();

// Validates a scenario definition (a JSON object); BadRequestData naming the first bad member.
Result<ScenarioSpec> parseScenarioSpec(const Json& definition);

// The series at time t: linear between its points; before the first and after the last point
// `outside` when given, else the nearest end value.
double valueAt(const TimeSeries& series, double t, std::optional<double> outside = std::nullopt);

}  // namespace allmende::twin
