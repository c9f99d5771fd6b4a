// twin_bench: speed of the flood solver (issue 9), printed by `make bench`.
//
//   twin_bench [STEPS]        cell updates per second (cells x steps / s) on 1 and 2 threads,
//                             double and float, for 0.25, 1 and 4 million cells (a wet terrain)
//   twin_bench town [DX]      the case: a 1 km2 synthetic town, 50 mm of rain in 1 hour,
//                             2 hours simulated, at cell size DX (default 4 m), run to the end;
//                             then the projection to 1 m from the steps and the 1 m rate
//   twin_bench pair [SIDE] [STEPS]  1 then 2 threads, float, on SIDE x SIDE cells (default 1000, 50
//                             steps): the comparison of docs/twin.md "Threads on a shared machine"
//
// Wall seconds on a shared machine vary with the other load; the process CPU seconds are printed
// beside them (on one thread, cells x steps / CPU s is the rate of a quiet core).
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "twin/solver.h"

using namespace allmende::twin;

namespace {

struct Timing {
  double wall = 0, cpu = 0;
};

class Stopwatch {
 public:
  Timing elapsed() const {
    return {std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_).count(),
            double(std::clock() - cpu_) / CLOCKS_PER_SEC};
  }

 private:
  std::chrono::steady_clock::time_point wall_ = std::chrono::steady_clock::now();
  std::clock_t cpu_ = std::clock();
};

double peakMegabytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

const char* name(Precision p) { return p == Precision::kDouble ? "double" : "float"; }

// A rough wet terrain: every face works in every step.
Domain wetTerrain(int side) {
  Domain d;
  d.dem = Raster(side, side, 1.0);
  for (int j = 0; j < side; ++j) {
    for (int i = 0; i < side; ++i)
      d.dem.at(i, j) = 0.02 * std::abs(i - side / 2) + 0.005 * j + 0.2 * std::sin(i * 0.3) * std::cos(j * 0.2);
  }
  d.manning = {0.035};
  d.initialDepth.assign(d.dem.cells(), 0.02);
  for (Boundary* b : {&d.west, &d.east, &d.north, &d.south}) b->kind = Boundary::Kind::kFreeOutflow;
  return d;
}

void rate(int side, int threads, Precision p, int steps) {
  SolverOptions o;
  o.threads = threads;
  auto s = std::move(makeSolver(wetTerrain(side), o, p).value());
  Hyetograph rain = Hyetograph::uniform(50, 3600);
  s->step(rain, 1e9);  // first touch of the pages
  Stopwatch w;
  for (int k = 0; k < steps; ++k) s->step(rain, 1e9);
  Timing t = w.elapsed();
  double updates = double(side) * side * steps;
  std::printf("twin: %8d cells  %d thread(s)  %-6s  %.3g cell updates/s (wall), %.3g per CPU s\n", side * side, threads,
              name(p), updates / t.wall, updates / t.cpu);
  std::fflush(stdout);
}

// A synthetic town of 1 km x 1 km: terrain falling 1 % to the east and 0.5 % to the south with
// a shallow valley, streets every 100 m (10 m wide, 15 cm below the blocks), in every block
// four rows of houses (blocked, 14 m x 10 m), and three depressions (an underpass 1.5 m deep,
// two hollows of 0.5 m).
Domain town(double dx) {
  const int n = int(std::lround(1000 / dx));
  Domain d;
  d.dem = Raster(n, n, dx);
  d.blocked.assign(d.dem.cells(), 0);
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < n; ++i) {
      double x = (i + 0.5) * dx, y = (j + 0.5) * dx;
      double z = 60 - 0.01 * x - 0.005 * y + 2.0 * std::pow((y - 500) / 500, 2);
      double bx = std::fmod(x, 100), by = std::fmod(y, 100);
      bool street = bx < 10 || by < 10;
      if (street) z -= 0.15;
      auto hollow = [&](double cx, double cy, double r, double depth) {
        double q = std::hypot(x - cx, y - cy) / r;
        if (q < 1) z -= depth * (1 - q * q);
      };
      hollow(505, 300, 25, 1.5);  // underpass on a street crossing
      hollow(250, 650, 40, 0.5);
      hollow(780, 820, 30, 0.5);
      d.dem.at(i, j) = z;
      // Houses: 14 m x 10 m, in a 4 x 4 pattern inside each 90 m block.
      double hx = std::fmod(bx - 10, 22.5), hy = std::fmod(by - 10, 22.5);
      if (!street && hx > 4 && hx < 18 && hy > 6 && hy < 16) d.blocked[d.dem.index(i, j)] = 1;
    }
  }
  d.manning = {0.03};
  for (Boundary* b : {&d.west, &d.east, &d.north, &d.south}) b->kind = Boundary::Kind::kFreeOutflow;
  return d;
}

int townRun(double dx, int threads, Precision p) {
  SolverOptions o;
  o.threads = threads;
  Domain d = town(dx);
  const int side = d.dem.nx;
  const long cells = long(d.dem.cells());
  auto s = std::move(makeSolver(std::move(d), o, p).value());
  Hyetograph rain = Hyetograph::uniform(50, 3600);
  Stopwatch w;
  double hMaxSeen = 0;
  long lastSteps = 0;
  for (int minute = 10; minute <= 120; minute += 10) {
    s->run(minute * 60.0, rain);
    double hMax = 0;
    for (int j = 0; j < side; ++j) {
      for (int i = 0; i < side; ++i) hMax = std::max(hMax, s->depth(i, j));
    }
    hMaxSeen = std::max(hMaxSeen, hMax);
    std::printf("town dx %.1f m: t %4d min  steps %7ld (+%ld)  h_max %.3f m  mass error %.1e\n", dx, minute, s->steps(),
                s->steps() - lastSteps, hMax, s->balance().relativeError());
    std::fflush(stdout);
    lastSteps = s->steps();
  }
  Timing t = w.elapsed();
  double updates = double(cells) * s->steps();
  std::printf(
      "town dx %.1f m: %ld cells, %ld steps, wall %.1f s, CPU %.1f s, %.3g cell updates/s (wall), %.3g per CPU s, "
      "peak memory %.0f MB, max depth seen %.3f m\n",
      dx, cells, s->steps(), t.wall, t.cpu, updates / t.wall, updates / t.cpu, peakMegabytes(), hMaxSeen);
  // The step is alpha dx / sqrt(g h_max): at 1 m the same depths need dx / 1 m times the steps
  // (grid convergence keeps h_max close; tests/unit/twin/depression_test.cc).
  double steps1m = double(s->steps()) * dx;
  std::printf("town: projected steps at 1 m: %.0f (%.0f x %.0f)\n", steps1m, double(s->steps()), dx);
  // The rate at 1 m on these threads, measured on the town itself for a few steps mid-storm.
  Domain fine = town(1.0);
  auto f = std::move(makeSolver(std::move(fine), o, p).value());
  f->run(600, rain);  // wet it
  Stopwatch w1;
  long before = f->steps();
  f->run(600 + 60, rain);
  Timing t1 = w1.elapsed();
  double updates1 = 1e6 * double(f->steps() - before);
  double wallRate = updates1 / t1.wall, cpuRate = updates1 / (t1.cpu / threads);
  std::printf(
      "town dx 1.0 m: %d thread(s) %s: %.3g cell updates/s (wall), %.3g per CPU s per thread; peak memory %.0f MB\n",
      threads, name(p), wallRate, cpuRate, peakMegabytes());
  std::printf("town: projected wall time of the 1 m case: %.0f s at the wall rate, %.0f s on quiet cores\n",
              steps1m * 1e6 / wallRate, steps1m * 1e6 / cpuRate);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "town") == 0) {
    double dx = argc > 2 ? std::atof(argv[2]) : 4;
    int threads = argc > 3 ? std::atoi(argv[3]) : 2;
    Precision p = argc > 4 && std::strcmp(argv[4], "double") == 0 ? Precision::kDouble : Precision::kFloat;
    return townRun(dx, threads, p);
  }
  if (argc > 1 && std::strcmp(argv[1], "pair") == 0) {  // 1 then 2 threads, float, one grid
    int side = argc > 2 ? std::atoi(argv[2]) : 1000, steps = argc > 3 ? std::atoi(argv[3]) : 50;
    rate(side, 1, Precision::kFloat, steps);
    rate(side, 2, Precision::kFloat, steps);
    return 0;
  }
  int steps = argc > 1 ? std::atoi(argv[1]) : 20;
  for (int side : {500, 1000, 2000}) {
    for (int threads : {1, 2}) {
      for (Precision p : {Precision::kDouble, Precision::kFloat})
        rate(side, threads, p, side > 1000 ? std::max(1, steps / 4) : steps);
    }
  }
  std::printf("twin: peak memory %.0f MB\n", peakMegabytes());
  return 0;
}
