#include "twin/twin_cli.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "twin/scenario.h"

namespace allmende::twin {

namespace {

// Prints one overwritten progress line at most twice a second, and a final line.
class ProgressLine {
 public:
  void operator()(const Progress& p) {
    auto now = std::chrono::steady_clock::now();
    double wall = std::chrono::duration<double>(now - start_).count();
    bool done = p.time >= p.endTime - 1e-9;
    if (!done && wall - lastPrint_ < 0.5) return;
    lastPrint_ = wall;
    double eta = p.time > 0 ? wall * (p.endTime - p.time) / p.time : 0;
    std::fprintf(stderr, "\rsimulated %7.0f / %.0f s  wall %6.1f s  ETA %6.1f s  steps %ld  dt %.3f s  mass error %.2e%s",
                 p.time, p.endTime, wall, eta, p.steps, p.lastStep, p.balance.relativeError(), done ? "\n" : "");
    std::fflush(stderr);
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  double lastPrint_ = -1;
};

}  // namespace

std::function<int()> addTwinCommands(CLI::App& app) {
  auto config = std::make_shared<ScenarioConfig>();
  auto precision = std::make_shared<std::string>("double");
  auto quiet = std::make_shared<bool>(false);
  CLI::App* twin = app.add_subcommand("twin", "digital twin: heavy-rain flood simulation");
  twin->require_subcommand(1);
  CLI::App* run = twin->add_subcommand("run", "simulate one rain event on a DEM and write hazard rasters");
  run->add_option("--dem", config->demPath, "DEM GeoTIFF in a metric CRS")->required();
  run->add_option("--rain", config->rain,
                  "uniform:MM_PER_H:MINUTES | blocks:STEP_MIN:MM_PER_H,... | euler2:MINUTES:DUR_MIN=DEPTH_MM,...")
      ->required();
  run->add_option("--out", config->outDir, "output directory")->required();
  run->add_option("--duration", config->durationSeconds, "simulated seconds (default: rain + 1 h)");
  run->add_option("--manning", config->manning, "Manning's n of every cell")->check(CLI::PositiveNumber)->capture_default_str();
  run->add_option("--boundary", config->boundary, "edges: closed or free (outflow)")
      ->check(CLI::IsMember({"closed", "free"}))
      ->capture_default_str();
  run->add_option("--outflow-slope", config->outflowSlope, "slope of the free outflow")->check(CLI::PositiveNumber)->capture_default_str();
  run->add_option("--infiltration", config->infiltrationMmPerHour, "infiltration rate in mm/h")->check(CLI::NonNegativeNumber);
  run->add_option("--initial-loss", config->initialLossMm, "initial loss in mm")->check(CLI::NonNegativeNumber);
  run->add_option("--precision", *precision, "float or double")->check(CLI::IsMember({"float", "double"}))->capture_default_str();
  run->add_option("--threads", config->solver.threads, "OpenMP threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  run->add_flag("--quiet", *quiet, "no progress line");
  return [run, config, precision, quiet]() -> int {
    if (!run->parsed()) return -1;
    config->precision = *precision == "float" ? Precision::kFloat : Precision::kDouble;
    ProgressLine line;
    std::function<void(const Progress&)> progress;
    if (!*quiet) progress = [&line](const Progress& p) { line(p); };
    auto summary = runScenario(*config, progress);
    if (!summary) {
      std::fprintf(stderr, "twin run: %s\n", summary.status().detail().c_str());
      return 1;
    }
    std::printf("%s\n", fmt::format("cells {}  steps {}  wall {:.2f} s  {:.3g} cell updates/s  max depth {:.3f} m  "
                                    "cells >= 10 cm {}  mass error {:.2e}",
                                    summary->cells, summary->steps, summary->wallSeconds,
                                    double(summary->cells) * summary->steps / std::max(summary->wallSeconds, 1e-9),
                                    summary->maxDepth, summary->floodedCells, summary->balance.relativeError())
                            .c_str());
    return 0;
  };
}

}  // namespace allmende::twin
