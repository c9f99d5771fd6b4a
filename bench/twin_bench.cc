// twin_bench: cell updates per second (cells x steps / wall s) of the flood solver on 1 and 2
// threads, for a rained-on synthetic town terrain of the given sizes. Printed by `make bench`.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "twin/solver.h"

using namespace allmende::twin;

static double rate(int side, int threads, Precision p, int steps) {
  Domain d;
  d.dem = Raster(side, side, 1.0);
  for (int j = 0; j < side; ++j) {
    for (int i = 0; i < side; ++i) d.dem.at(i, j) = 0.02 * std::abs(i - side / 2) + 0.005 * j + 0.2 * std::sin(i * 0.3) * std::cos(j * 0.2);
  }
  d.manning = {0.035};
  d.initialDepth.assign(d.dem.cells(), 0.02);  // a wet town: every face works
  for (Boundary* b : {&d.west, &d.east, &d.north, &d.south}) b->kind = Boundary::Kind::kFreeOutflow;
  SolverOptions o;
  o.threads = threads;
  auto s = std::move(makeSolver(std::move(d), o, p).value());
  Hyetograph rain = Hyetograph::uniform(50, 3600);
  auto t0 = std::chrono::steady_clock::now();
  for (int k = 0; k < steps; ++k) s->step(rain, 1e9);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return double(side) * side * steps / wall;
}

int main(int argc, char** argv) {
  int steps = argc > 1 ? std::atoi(argv[1]) : 50;
  for (int side : {500, 1000}) {
    for (int threads : {1, 2}) {
      for (Precision p : {Precision::kDouble, Precision::kFloat}) {
        std::printf("twin: %7d cells  %d thread(s)  %-6s  %.3g cell updates/s\n", side * side, threads,
                    p == Precision::kDouble ? "double" : "float", rate(side, threads, p, steps));
      }
    }
  }
  return 0;
}
