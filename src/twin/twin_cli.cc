#include "twin/twin_cli.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "common/json.h"
#include "twin/flood_run.h"

namespace allmende::twin {

namespace {

// The progress bar on stderr: simulated time, wall time, ETA, step and mass error. On a terminal
// one line redrawn at most twice a second; otherwise (a log) a line every 10 % of the run.
class ProgressBar {
 public:
  void operator()(const Progress& p) {
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    double fraction = p.endTime > 0 ? std::min(1.0, p.time / p.endTime) : 1;
    bool done = p.time >= p.endTime - 1e-9;
    if (tty_ ? !done && wall - lastPrint_ < 0.5 : !done && fraction < nextFraction_) return;
    lastPrint_ = wall;
    nextFraction_ = std::floor(fraction * 10 + 1) / 10;
    double eta = p.time > 0 ? wall * (p.endTime - p.time) / p.time : 0;
    const int width = 24;
    int filled = int(fraction * width);
    std::string bar = std::string(size_t(filled), '#') + std::string(size_t(width - filled), '.');
    std::fprintf(
        stderr,
        "%s[%s] %3.0f%%  simulated %.0f / %.0f s  wall %.1f s  ETA %.1f s  steps %ld  dt %.3f s  mass error %.1e%s",
        tty_ ? "\r" : "", bar.c_str(), fraction * 100, p.time, p.endTime, wall, eta, p.steps, p.lastStep,
        p.balance.relativeError(), tty_ && !done ? "" : "\n");
    std::fflush(stderr);
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  bool tty_ = ::isatty(::fileno(stderr)) == 1;
  double lastPrint_ = -1;
  double nextFraction_ = 0;
};

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return badRequestData("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "0=0.2,3600=1.5" -> [[0, 0.2], [3600, 1.5]]
Status addSeries(Json& target, const std::string& text, JsonAllocator& a) {
  target.SetArray();
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    size_t eq = item.find('=');
    double t = 0, v = 0;
    try {
      if (eq == std::string::npos) throw std::invalid_argument(item);
      t = std::stod(item.substr(0, eq));
      v = std::stod(item.substr(eq + 1));
    } catch (const std::exception&) {
      return badRequestData("'" + item + "' is not SECONDS=VALUE");
    }
    Json pair(rapidjson::kArrayType);
    pair.PushBack(t, a).PushBack(v, a);
    target.PushBack(pair, a);
  }
  return Status::ok();
}

// --edge EDGE=closed | EDGE=free[:SLOPE] | EDGE=depth:SECONDS=M,... into "boundaries".
Status addEdge(JsonDocument& def, const std::string& spec) {
  auto& a = def.GetAllocator();
  size_t eq = spec.find('=');
  if (eq == std::string::npos)
    return badRequestData("--edge " + spec + ": expected EDGE=closed|free[:SLOPE]|depth:S=M,...");
  std::string edge = spec.substr(0, eq), rest = spec.substr(eq + 1);
  std::string kind = rest.substr(0, rest.find(':'));
  std::string arg = rest.find(':') == std::string::npos ? "" : rest.substr(rest.find(':') + 1);
  Json e(rapidjson::kObjectType);
  e.AddMember("type", Json(kind.c_str(), a), a);
  if (kind == "free" && !arg.empty()) {
    try {
      e.AddMember("outflowSlope", std::stod(arg), a);
    } catch (const std::exception&) {
      return badRequestData("--edge " + spec + ": bad slope");
    }
  } else if (kind == "depth") {
    Json series;
    ALLMENDE_RETURN_IF_ERROR(addSeries(series, arg, a));
    e.AddMember("depths", series, a);
  }
  if (!def.HasMember("boundaries")) def.AddMember("boundaries", Json(rapidjson::kObjectType), a);
  Json& b = def["boundaries"];
  if (b.HasMember(edge.c_str())) b.RemoveMember(edge.c_str());
  b.AddMember(Json(edge.c_str(), a), e, a);
  return Status::ok();
}

// What `allmende twin run` was given, before it becomes a scenario definition.
struct CliInputs {
  std::string scenario, dem, out, buildings, landuse, gauges, inflows, manningRaster, infiltrationRaster;
  std::string rain, boundary, precision, buildingMode;
  double duration = -1, manning = -1, outflowSlope = -1, infiltration = -1, initialLoss = -1;
  double buildingHeight = -1, gaugeInterval = -1;
  std::vector<std::string> edges;
  int threads = 0;
  double checkpointMinutes = 0;
  bool quiet = false;
};

// The scenario definition: the --scenario file (the API's JSON, docs/twin.md) with the flags
// laid over it, validated by the API's own parser.
Result<ScenarioSpec> scenarioOf(const CliInputs& in) {
  JsonDocument def;
  def.SetObject();
  if (!in.scenario.empty()) {
    auto text = readFile(in.scenario);
    if (!text) return text.status();
    if (parseJsonText(text->c_str(), def).IsError() || !def.IsObject())
      return badRequestData(in.scenario + ": not a JSON object");
  }
  auto& a = def.GetAllocator();
  auto set = [&](const char* name, Json v) {
    if (def.HasMember(name)) def.RemoveMember(name);
    def.AddMember(Json(name, a), v, a);
  };
  auto setString = [&](const char* name, const std::string& v) {
    if (!v.empty()) set(name, Json(v.c_str(), a));
  };
  auto setNumber = [&](const char* name, double v) {
    if (v >= 0) set(name, Json(v));
  };
  setString("rain", in.rain);
  setString("boundary", in.boundary);
  setString("precision", in.precision);
  setNumber("durationSeconds", in.duration);
  setNumber("manning", in.manning);
  setNumber("outflowSlope", in.outflowSlope);
  setNumber("infiltrationMmPerHour", in.infiltration);
  setNumber("initialLossMm", in.initialLoss);
  setNumber("gaugeIntervalSeconds", in.gaugeInterval);
  if (!in.buildingMode.empty() || in.buildingHeight >= 0) {
    if (!def.HasMember("buildings") || !def["buildings"].IsObject()) set("buildings", Json(rapidjson::kObjectType));
    Json& b = def["buildings"];
    if (!in.buildingMode.empty()) {
      if (b.HasMember("mode")) b.RemoveMember("mode");
      b.AddMember("mode", Json(in.buildingMode.c_str(), a), a);
    }
    if (in.buildingHeight >= 0) {
      if (b.HasMember("height")) b.RemoveMember("height");
      b.AddMember("height", in.buildingHeight, a);
    }
  }
  for (auto [name, path] : {std::pair{"gauges", &in.gauges}, std::pair{"inflows", &in.inflows}}) {
    if (path->empty()) continue;
    auto text = readFile(*path);
    if (!text) return text.status();
    JsonDocument parsed;
    if (parseJsonText(text->c_str(), parsed).IsError()) return badRequestData(*path + ": not JSON");
    Json g;
    g.CopyFrom(parsed, a);
    set(name, std::move(g));
  }
  for (const auto& e : in.edges) ALLMENDE_RETURN_IF_ERROR(addEdge(def, e));
  if (!def.HasMember("rain")) return badRequestData("no rain: give --rain or a scenario with rain");
  return parseScenarioSpec(def);
}

int runCommand(const CliInputs& in) {
  auto spec = scenarioOf(in);
  if (!spec) {
    std::fprintf(stderr, "twin run: %s\n", spec.status().detail().c_str());
    return 2;
  }
  if (spec->buildingsFromEntities) {
    std::fprintf(stderr,
                 "twin run: buildings.source \"entities\" needs the server's Building entities; "
                 "give --buildings FILE\n");
    return 2;
  }
  for (const std::string* p : {&in.buildings, &in.landuse, &in.manningRaster, &in.infiltrationRaster}) {
    std::error_code ec;
    if (!p->empty() && !std::filesystem::is_regular_file(*p, ec)) {
      std::fprintf(stderr, "twin run: cannot read %s\n", p->c_str());
      return 2;
    }
  }
  ProgressBar bar;
  FloodRunOptions options;
  options.solverThreads = in.threads;
  if (in.checkpointMinutes > 0) {
    // OUT/checkpoint.bin: the same command again continues from it (twin/checkpoint.h).
    std::error_code ec;
    std::filesystem::create_directories(in.out, ec);
    options.checkpointPath = (std::filesystem::path(in.out) / "checkpoint.bin").string();
    options.checkpointSeconds = in.checkpointMinutes * 60;
  }
  if (!in.quiet) options.progress = [&bar](const Progress& p) { bar(p); };
  auto outcome = runFlood(*spec, FloodInputs{in.dem, in.buildings, in.landuse, in.manningRaster, in.infiltrationRaster},
                          in.out, options);
  if (!outcome) {
    std::fprintf(stderr, "twin run: %s\n", outcome.status().detail().c_str());
    return 1;
  }
  if (outcome->resumedFrom >= 0) std::fprintf(stderr, "resumed from the checkpoint at %.0f s\n", outcome->resumedFrom);
  const ScenarioSummary& s = outcome->summary;
  std::printf("%s\n", fmt::format("cells {}  steps {}  wall {:.2f} s  {:.3g} cell updates/s  max depth {:.3f} m  "
                                  "cells >= 10 cm {}  mass error {:.2e}  buildings {}  gauges {}",
                                  s.cells, s.steps, s.wallSeconds,
                                  double(s.cells) * s.steps / std::max(s.wallSeconds, 1e-9), s.maxDepth, s.floodedCells,
                                  s.balance.relativeError(), outcome->buildings.size(), outcome->gauges.size())
                          .c_str());
  return 0;
}

}  // namespace

std::function<int()> addTwinCommands(CLI::App& app) {
  auto in = std::make_shared<CliInputs>();
  CLI::App* twin = app.add_subcommand("twin", "digital twin: heavy-rain flood simulation");
  twin->require_subcommand(1);
  CLI::App* run = twin->add_subcommand("run", "simulate one rain event on a DEM and write hazard rasters");
  run->add_option("--dem", in->dem, "DEM raster (GeoTIFF, ...) in a metric CRS")->required();
  run->add_option("--out", in->out, "output directory")->required();
  run->add_option("--scenario", in->scenario,
                  "scenario definition (JSON, as POST /twin/v1/scenarios); flags override it");
  run->add_option("--rain", in->rain,
                  "uniform:MM_PER_H:MINUTES | blocks:STEP_MIN:MM_PER_H,... | euler2:MINUTES:DUR_MIN=DEPTH_MM,...");
  run->add_option("--duration", in->duration, "simulated seconds (default: rain + 1 h)")->check(CLI::PositiveNumber);
  run->add_option("--buildings", in->buildings, "building footprints (GeoJSON polygons)");
  run->add_option("--building-mode", in->buildingMode, "block (no water, no rain) or raise")
      ->check(CLI::IsMember({"block", "raise"}));
  run->add_option("--building-height", in->buildingHeight, "m added to raised footprints without a height")
      ->check(CLI::NonNegativeNumber);
  run->add_option("--landuse", in->landuse, "land-use areas (GeoJSON polygons with properties.landUse)");
  run->add_option("--gauges", in->gauges, "virtual gauges (GeoJSON points)");
  run->add_option("--gauge-interval", in->gaugeInterval, "seconds between gauge samples")->check(CLI::PositiveNumber);
  run->add_option("--inflows", in->inflows,
                  "point inflows (GeoJSON points with properties.hydrograph [[s, m3/s], ...])");
  run->add_option("--manning", in->manning, "Manning's n outside land-use areas")->check(CLI::PositiveNumber);
  run->add_option("--manning-raster", in->manningRaster,
                  "Manning's n per cell (raster; nearest neighbour onto the DEM; no-data keeps --manning)");
  run->add_option("--infiltration-raster", in->infiltrationRaster,
                  "infiltration in mm/h per cell (raster; nearest neighbour; no-data keeps --infiltration)");
  run->add_option("--boundary", in->boundary, "every edge: closed or free (outflow)")
      ->check(CLI::IsMember({"closed", "free"}));
  run->add_option("--edge", in->edges, "one edge: west|east|north|south=closed|free[:SLOPE]|depth:S=M,...");
  run->add_option("--outflow-slope", in->outflowSlope, "slope of the free outflow")->check(CLI::PositiveNumber);
  run->add_option("--infiltration", in->infiltration, "infiltration rate in mm/h outside land-use areas")
      ->check(CLI::NonNegativeNumber);
  run->add_option("--initial-loss", in->initialLoss, "initial loss in mm")->check(CLI::NonNegativeNumber);
  run->add_option("--precision", in->precision, "float or double")->check(CLI::IsMember({"float", "double"}));
  run->add_option("--threads", in->threads, "OpenMP threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  run->add_option("--checkpoint-minutes", in->checkpointMinutes,
                  "write OUT/checkpoint.bin every this many simulated minutes; the same command again resumes")
      ->check(CLI::PositiveNumber);
  run->add_flag("--quiet", in->quiet, "no progress bar");
  return [run, in]() -> int {
    if (!run->parsed()) return -1;
    return runCommand(*in);
  };
}

}  // namespace allmende::twin
