#include "twin/flood_run.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/json.h"
#include "twin/checkpoint.h"
#include "twin/features.h"
#include "twin/hazard.h"
#include "twin/param_raster.h"
#include "twin/raster_io.h"

namespace allmende::twin {

namespace fs = std::filesystem;

namespace {

Result<std::string> readOptional(const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(p, ec)) return std::string();
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in && !in.eof()) return internalError("cannot read " + p.string());
  return ss.str();
}

struct Footprints {
  std::vector<Feature> features;
  std::vector<std::vector<size_t>> cells;  // per feature, ascending
};

Result<Footprints> footprints(const fs::path& file, const Raster& dem) {
  auto text = readOptional(file);
  if (!text) return text.status();
  Footprints out;
  if (text->empty()) return out;
  auto features = parseFeatures(*text, dem, false);
  if (!features) return badRequestData(file.filename().string() + ": " + features.status().detail());
  out.features = std::move(*features);
  for (const auto& f : out.features) out.cells.push_back(cellsInside(f, dem));
  return out;
}

// A parameter raster put on the DEM's grid (param_raster.h); empty when the file does not exist.
Result<std::vector<double>> paramRaster(const std::string& path, const ParamKind& kind, const Raster& dem) {
  std::error_code ec;
  if (path.empty() || !fs::exists(path, ec)) return std::vector<double>();
  std::string name = fs::path(path).filename().string();
  auto r = readRaster(path);
  if (!r) return badRequestData(name + ": " + r.status().detail());
  if (Status st = checkParamRaster(*r, kind); !st.isOk()) return badRequestData(name + ": " + st.detail());
  auto values = sampleOnGrid(*r, dem);
  if (!values) return badRequestData(name + ": " + values.status().detail());
  return values;
}

// Roughness and losses, in layers: the scenario's values, the rasters where they have data, the
// land-use areas (later polygons win).
Status applyLandUse(const ScenarioSpec& spec, const FloodInputs& inputs, const Footprints& areas, Domain& d) {
  size_t n = d.dem.cells();
  d.manning.assign(n, spec.manning);
  d.infiltration.assign(n, spec.infiltrationMmPerHour / 3.6e6);
  auto manning = paramRaster(inputs.manning, kManningRaster, d.dem);
  if (!manning) return manning.status();
  for (size_t k = 0; k < manning->size(); ++k)
    if (!std::isnan((*manning)[k])) d.manning[k] = (*manning)[k];
  auto infiltration = paramRaster(inputs.infiltration, kInfiltrationRaster, d.dem);
  if (!infiltration) return infiltration.status();
  for (size_t k = 0; k < infiltration->size(); ++k)
    if (!std::isnan((*infiltration)[k])) d.infiltration[k] = (*infiltration)[k] / 3.6e6;
  for (size_t k = 0; k < areas.features.size(); ++k) {
    const auto& f = areas.features[k];
    auto c = spec.landUseClasses.find(f.landUse);
    if (c == spec.landUseClasses.end()) {
      return badRequestData("landuse.geojson: feature '" + f.id.substr(0, 80) + "' has no known landUse class ('" +
                            f.landUse.substr(0, 40) + "')");
    }
    for (size_t cell : areas.cells[k]) {
      d.manning[cell] = c->second.manning;
      d.infiltration[cell] = c->second.infiltrationMmPerHour / 3.6e6;
    }
  }
  return Status::ok();
}

void applyBuildings(const ScenarioSpec& spec, const Footprints& b, Domain& d) {
  if (spec.buildingsBlock) d.blocked.assign(d.dem.cells(), 0);
  for (size_t k = 0; k < b.features.size(); ++k) {
    double height = std::isnan(b.features[k].height) ? spec.buildingHeight : b.features[k].height;
    for (size_t cell : b.cells[k]) {
      if (spec.buildingsBlock)
        d.blocked[cell] = 1;
      else if (!d.dem.isNoData(cell))
        d.dem.v[cell] += height;
    }
  }
}

// `boundary` on every edge, then the edges the scenario names.
void setBoundaries(const ScenarioSpec& spec, Domain& d) {
  std::pair<Boundary*, const EdgeSpec*> edges[] = {
      {&d.west, &spec.west}, {&d.east, &spec.east}, {&d.north, &spec.north}, {&d.south, &spec.south}};
  for (auto [b, e] : edges) {
    const std::string& kind = e->kind.empty() ? spec.boundary : e->kind;
    b->slope = e->slope > 0 ? e->slope : spec.outflowSlope;
    if (kind == "free") {
      b->kind = Boundary::Kind::kFreeOutflow;
    } else if (kind == "depth") {
      b->kind = Boundary::Kind::kDepth;
      b->depth = [series = e->depths](double t) { return valueAt(series, t); };
    } else {
      b->kind = Boundary::Kind::kClosed;
    }
  }
}

// Point inflows: each Point's cell takes its hydrograph (zero before and after it).
Status placeInflows(const ScenarioSpec& spec, Domain& d) {
  if (spec.inflows.empty()) return Status::ok();
  auto features = parseFeatures(spec.inflows, d.dem, true);
  if (!features) return badRequestData("inflows: " + features.status().detail());
  if (features->size() != spec.inflowHydrographs.size())
    return badRequestData("inflows: every feature needs a hydrograph");
  for (size_t k = 0; k < features->size(); ++k) {
    const Feature& f = (*features)[k];
    int i, j;
    if (!cellAt(d.dem, f.point.x, f.point.y, i, j) || d.dem.isNoData(d.dem.index(i, j)) ||
        (!d.blocked.empty() && d.blocked[d.dem.index(i, j)])) {
      return badRequestData("inflow '" + f.id.substr(0, 80) +
                            "' lies outside the DEM, on no-data or in a blocked building");
    }
    d.inflows.push_back(
        PointInflow{i, j, [series = spec.inflowHydrographs[k]](double t) { return valueAt(series, t, 0.0); }});
  }
  return Status::ok();
}

// The cells touching a footprint from outside; for a footprint smaller than a cell, the cell
// under its first vertex and its neighbours.
std::vector<size_t> surroundings(const std::vector<size_t>& cells, const Feature& f, const Raster& g) {
  std::vector<size_t> inner = cells;
  if (inner.empty() && !f.polygons.empty() && !f.polygons[0].empty() && !f.polygons[0][0].empty()) {
    int i, j;
    if (cellAt(g, f.polygons[0][0][0].x, f.polygons[0][0][0].y, i, j)) inner.push_back(g.index(i, j));
  }
  std::vector<size_t> ring;
  for (size_t c : inner) {
    int i = int(c % g.nx), j = int(c / g.nx);
    for (int dj = -1; dj <= 1; ++dj) {
      for (int di = -1; di <= 1; ++di) {
        int a = i + di, b = j + dj;
        if (a < 0 || b < 0 || a >= g.nx || b >= g.ny) continue;
        size_t k = g.index(a, b);
        if (!std::binary_search(cells.begin(), cells.end(), k)) ring.push_back(k);
      }
    }
  }
  std::sort(ring.begin(), ring.end());
  ring.erase(std::unique(ring.begin(), ring.end()), ring.end());
  return ring;
}

struct Gauge {
  Feature feature;
  size_t cell = 0;
};

Result<std::vector<Gauge>> placeGauges(const ScenarioSpec& spec, const Raster& dem) {
  std::vector<Gauge> out;
  if (spec.gauges.empty()) return out;
  auto features = parseFeatures(spec.gauges, dem, true);
  if (!features) return badRequestData("gauges: " + features.status().detail());
  for (auto& f : *features) {
    int i, j;
    if (!cellAt(dem, f.point.x, f.point.y, i, j))
      return badRequestData("gauge '" + f.id.substr(0, 80) + "' lies outside the DEM");
    out.push_back(Gauge{std::move(f), dem.index(i, j)});
  }
  return out;
}

std::string escape(const std::string& s) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  return std::string(buf.GetString(), buf.GetSize());
}

Status writeText(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return internalError("cannot write " + p.string());
  return Status::ok();
}

std::string buildingsGeoJson(const std::vector<BuildingResult>& buildings) {
  std::string s = "{\"type\":\"FeatureCollection\",\"features\":[";
  bool first = true;
  for (const auto& b : buildings) {
    if (b.geometryWgs84.empty()) continue;
    if (!first) s += ",";
    first = false;
    char num[64];
    std::snprintf(num, sizeof num, "%.4f", b.maxDepth);
    s += "{\"type\":\"Feature\",\"id\":" + escape(b.id) + ",\"geometry\":" + b.geometryWgs84 +
         ",\"properties\":{\"name\":" + escape(b.name) + ",\"maxDepth\":" + num +
         ",\"depthClass\":" + std::to_string(b.depthClass) + "}}";
  }
  return s + "]}";
}

std::string gaugesCsv(const std::vector<GaugeSeries>& gauges) {
  std::string s = "gauge,seconds,depth_m\n";
  char line[256];
  for (const auto& g : gauges) {
    for (const auto& [t, d] : g.samples) {
      std::snprintf(line, sizeof line, ",%.1f,%.4f\n", t, d);
      s += g.id + line;
    }
  }
  return s;
}

// What a checkpoint must belong to: the grid and its per-cell inputs, the rain, the end, the
// sampling, the precision, inflows and edges (threads do not matter: the results are the same).
uint64_t runFingerprint(const ScenarioSpec& spec, const Domain& d, double end) {
  auto bytes = [](const auto& v) {
    return std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(v[0]));
  };
  uint64_t h = fnv1a(bytes(d.dem.v));
  h = fnv1a(bytes(d.manning), h);
  h = fnv1a(bytes(d.infiltration), h);
  h = fnv1a(bytes(d.blocked), h);
  StateWriter w;
  w.value(d.dem.nx);
  w.value(d.dem.dx);
  w.value(d.initialLoss);
  w.value(end);
  w.value(spec.gaugeIntervalSeconds);
  w.value(int(spec.precision));
  w.value(spec.outflowSlope);
  for (const EdgeSpec* e : {&spec.west, &spec.east, &spec.north, &spec.south}) {
    w.value(e->slope);
    w.vector(e->depths);
  }
  for (const auto& series : spec.inflowHydrographs) w.vector(series);
  h = fnv1a(w.take(), h);
  for (const std::string* text : {&spec.rain, &spec.boundary, &spec.west.kind, &spec.east.kind, &spec.north.kind,
                                  &spec.south.kind, &spec.inflows, &spec.gauges})
    h = fnv1a(*text + '\0', h);
  return h;
}

}  // namespace

std::string outcomeJson(const RunOutcome& o) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("completed");
  w.Bool(o.completed);
  w.Key("cells");
  w.Int64(o.summary.cells);
  w.Key("steps");
  w.Int64(o.summary.steps);
  w.Key("simulatedSeconds");
  w.Double(o.summary.simulatedSeconds);
  w.Key("wallSeconds");
  w.Double(o.summary.wallSeconds);
  w.Key("rainDepthMm");
  w.Double(o.rainDepthMm);
  w.Key("maxDepth");
  w.Double(o.summary.maxDepth);
  w.Key("floodedCells");
  w.Int64(o.summary.floodedCells);
  w.Key("floodedAreaM2");
  w.Double(o.floodedAreaM2);
  w.Key("massError");
  w.Double(o.summary.balance.relativeError());
  long affected = 0;
  for (const auto& b : o.buildings) affected += b.depthClass > 0;
  w.Key("buildings");
  w.Int64(long(o.buildings.size()));
  w.Key("affectedBuildings");
  w.Int64(affected);
  if (o.hasBounds) {
    w.Key("bounds");
    w.StartObject();
    w.Key("west");
    w.Double(o.bounds.west);
    w.Key("south");
    w.Double(o.bounds.south);
    w.Key("east");
    w.Double(o.bounds.east);
    w.Key("north");
    w.Double(o.bounds.north);
    w.EndObject();
  }
  w.Key("gauges");
  w.StartArray();
  for (const auto& g : o.gauges) {
    w.StartObject();
    w.Key("id");
    w.String(g.id.c_str());
    w.Key("name");
    w.String(g.name.c_str());
    w.Key("maxDepth");
    w.Double(g.maxDepth);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<RunOutcome> runFlood(const ScenarioSpec& spec, const std::string& inputDir, const std::string& outDir,
                            const FloodRunOptions& options) {
  FloodInputs in;
  in.dem = (fs::path(inputDir) / "dem.tif").string();
  in.buildings = (fs::path(inputDir) / "buildings.geojson").string();
  in.landuse = (fs::path(inputDir) / "landuse.geojson").string();
  in.manning = (fs::path(inputDir) / "manning.tif").string();
  in.infiltration = (fs::path(inputDir) / "infiltration.tif").string();
  return runFlood(spec, in, outDir, options);
}

Result<RunOutcome> runFlood(const ScenarioSpec& spec, const FloodInputs& inputs, const std::string& outDir,
                            const FloodRunOptions& options) {
  auto rain = parseRain(spec.rain);
  if (!rain) return rain.status();
  auto dem = readRaster(inputs.dem);
  if (!dem) return badRequestData(fs::path(inputs.dem).filename().string() + ": " + dem.status().detail());
  Domain d;
  d.dem = *dem;
  auto areas = footprints(inputs.landuse, *dem);
  if (!areas) return areas.status();
  ALLMENDE_RETURN_IF_ERROR(applyLandUse(spec, inputs, *areas, d));
  auto buildings = footprints(inputs.buildings, *dem);
  if (!buildings) return buildings.status();
  applyBuildings(spec, *buildings, d);
  d.initialLoss = spec.initialLossMm / 1000.0;
  setBoundaries(spec, d);
  ALLMENDE_RETURN_IF_ERROR(placeInflows(spec, d));
  auto gauges = placeGauges(spec, *dem);
  if (!gauges) return gauges.status();
  const double end = spec.durationSeconds > 0 ? spec.durationSeconds : rain->end() + 3600;
  const uint64_t fingerprint = runFingerprint(spec, d, end);
  SolverOptions so;
  so.threads = std::max(0, options.solverThreads);
  auto solver = makeSolver(std::move(d), so, spec.precision);
  if (!solver) return solver.status();

  RunOutcome o;
  o.rainDepthMm = rain->depthBetween(0, rain->end()) * 1000;
  for (const auto& g : *gauges)
    o.gauges.push_back(GaugeSeries{g.feature.id, g.feature.name, g.feature.geometryWgs84, {}, 0});
  auto sample = [&] {
    for (size_t k = 0; k < gauges->size(); ++k) {
      size_t c = (*gauges)[k].cell;
      o.gauges[k].samples.emplace_back((*solver)->time(), (*solver)->depth(int(c % dem->nx), int(c / dem->nx)));
    }
  };
  auto progress = [&](const Progress& p) {
    if (!options.progress) return;
    Progress whole = p;
    whole.endTime = end;
    options.progress(whole);
  };
  auto start = std::chrono::steady_clock::now();
  auto wall = [&start] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  // The sampling loop runs in segments of the gauge interval, so the series are sampled at exact
  // simulated times; checkpoints are taken at the end of a segment (or where a suspended run
  // stopped) and remember where the sampling stood, so a resumed run takes the same steps.
  double sampledUntil = 0, wallBefore = 0;
  auto cp = options.checkpointPath.empty() ? Result<std::optional<RunCheckpoint>>(std::optional<RunCheckpoint>())
                                           : readCheckpoint(options.checkpointPath);
  if (!cp) return cp.status();
  if (*cp) {
    if ((*cp)->fingerprint != fingerprint || (*cp)->gaugeSamples.size() != gauges->size())
      return badRequestData("the checkpoint " + options.checkpointPath + " belongs to another run; delete it");
    ALLMENDE_RETURN_IF_ERROR((*solver)->restoreState((*cp)->solverState));
    sampledUntil = (*cp)->sampledUntil;
    wallBefore = (*cp)->wallSeconds;
    for (size_t k = 0; k < gauges->size(); ++k) o.gauges[k].samples = std::move((*cp)->gaugeSamples[k]);
    o.resumedFrom = (*solver)->time();
  } else {
    sample();
  }
  auto checkpoint = [&](double at) -> Status {
    RunCheckpoint c;
    c.fingerprint = fingerprint;
    c.sampledUntil = sampledUntil;
    c.wallSeconds = wallBefore + wall();
    for (const auto& g : o.gauges) c.gaugeSamples.push_back(g.samples);
    c.solverState = (*solver)->saveState();
    ALLMENDE_RETURN_IF_ERROR(writeCheckpoint(options.checkpointPath, c));
    if (options.checkpointed) options.checkpointed(at);
    return Status::ok();
  };
  double lastCheckpoint = (*solver)->time();
  while (sampledUntil < end - 1e-9) {
    double target = std::min(end, sampledUntil + spec.gaugeIntervalSeconds);
    if (!(*solver)->run(target, *rain, progress, options.cancel)) {  // cancelled or suspended
      if (options.suspend && options.suspend->load() && !options.checkpointPath.empty()) {
        ALLMENDE_RETURN_IF_ERROR(checkpoint((*solver)->time()));
        o.suspended = true;
      }
      return o;
    }
    sampledUntil = target;
    sample();
    bool due = options.checkpointSeconds > 0 && (*solver)->time() >= lastCheckpoint + options.checkpointSeconds - 1e-9;
    if (due && !options.checkpointPath.empty() && sampledUntil < end - 1e-9) {
      ALLMENDE_RETURN_IF_ERROR(checkpoint(sampledUntil));
      lastCheckpoint = (*solver)->time();
    }
  }
  o.completed = true;
  const Peaks& peaks = (*solver)->peaks();
  o.summary.cells = long(dem->cells());
  o.summary.steps = (*solver)->steps();
  o.summary.simulatedSeconds = (*solver)->time();
  o.summary.wallSeconds = wallBefore + wall();
  o.summary.balance = (*solver)->balance();
  for (double v : peaks.maxDepth) {
    o.summary.maxDepth = std::max(o.summary.maxDepth, v);
    if (v >= 0.1) ++o.summary.floodedCells;
  }
  o.floodedAreaM2 = double(o.summary.floodedCells) * dem->dx * dem->dx;
  for (size_t k = 0; k < gauges->size(); ++k) o.gauges[k].maxDepth = peaks.maxDepth[(*gauges)[k].cell];
  for (size_t k = 0; k < buildings->features.size(); ++k) {
    const Feature& f = buildings->features[k];
    BuildingResult b{f.id, f.name, f.geometryWgs84, 0, 0, long(buildings->cells[k].size())};
    for (size_t c : surroundings(buildings->cells[k], f, *dem)) b.maxDepth = std::max(b.maxDepth, peaks.maxDepth[c]);
    b.depthClass = depthClass(b.maxDepth);
    o.buildings.push_back(std::move(b));
  }

  std::error_code ec;
  fs::create_directories(outDir, ec);
  if (ec) return internalError("cannot create " + outDir + ": " + ec.message());
  ALLMENDE_RETURN_IF_ERROR(writeResults(outDir, *dem, peaks, o.summary));
  if (!dem->crsWkt.empty()) {
    Raster classes = dem->like(0);
    classes.hasNoData = false;
    for (size_t k = 0; k < classes.cells(); ++k) classes.v[k] = depthClass(peaks.maxDepth[k]);
    auto bounds = writeClassPng((fs::path(outDir) / "hazard_depth.png").string(), classes);
    if (!bounds) return bounds.status();
    o.bounds = *bounds;
    o.hasBounds = true;
    ALLMENDE_RETURN_IF_ERROR(writeClassPolygons((fs::path(outDir) / "hazard_depth.geojson").string(), classes));
  }
  ALLMENDE_RETURN_IF_ERROR(writeText(fs::path(outDir) / "buildings.geojson", buildingsGeoJson(o.buildings)));
  ALLMENDE_RETURN_IF_ERROR(writeText(fs::path(outDir) / "gauges.csv", gaugesCsv(o.gauges)));
  ALLMENDE_RETURN_IF_ERROR(writeText(fs::path(outDir) / "outcome.json", outcomeJson(o)));
  if (!options.checkpointPath.empty()) fs::remove(options.checkpointPath, ec);
  return o;
}

}  // namespace allmende::twin
