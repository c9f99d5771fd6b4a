// The flood solver of the digital twin: the 2D local inertial approximation of the shallow-water
// equations on a raster (Bates, Horritt & Fewtrell 2010, J. Hydrol. 387:33-45), with the
// theta-weighted flux of de Almeida, Bates, Freer & Souvignet 2012 (Water Resour. Res. 48,
// W05528) that damps the checkerboard oscillations of the original scheme at low friction.
//
// Water depths live at cell centres, unit-width discharges q (m2/s) on the faces between cells.
// One step:
//   dt   = alpha dx / sqrt(g h_max)                                  (CFL, Bates 2010 eq. 13)
//   q'   = theta q + (1 - theta)/2 (q_prev + q_next)                 (de Almeida 2012 eq. 15)
//   q    = (q' - g h_f dt dEta/dx) / (1 + g dt n^2 |q| / h_f^(7/3))  (Bates 2010 eq. 11)
//   h   += dt/dx (sum in - sum out) + rain - losses                  (continuity)
// h_f is the flow depth at the face, max(eta) - max(z): zero where a dry cell is higher than the
// water next to it, which keeps a lake at rest at rest. Outflow from a cell in one step is capped
// at the water it holds, so depths stay >= 0 and the update conserves mass exactly (up to
// rounding). Volumes are accounted in double whatever the precision of the state.
//
// The solver is deterministic and pure (no I/O); rows are updated in parallel with OpenMP.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "twin/rain.h"
#include "twin/raster.h"

namespace allmende::twin {

struct Boundary {
  enum class Kind { kClosed, kFreeOutflow, kDepth };
  Kind kind = Kind::kClosed;
  // kFreeOutflow: normal-depth outflow q = h^(5/3) sqrt(slope) / n through the edge.
  double slope = 0.001;
  // kDepth: water depth (m) of a ghost cell outside the edge, as a function of time (s).
  std::function<double(double)> depth;
};

// A point inflow (e.g. a culvert or a sewer overflow): discharge (m3/s) over time into one cell.
struct PointInflow {
  int i = 0, j = 0;
  std::function<double(double)> discharge;
};

struct Domain {
  Raster dem;                        // bed elevation (m); no-data cells are outside the domain
  std::vector<double> manning;       // per cell, or one value for all (s m^-1/3)
  std::vector<uint8_t> blocked;      // per cell (buildings), or empty: no flow, no rain
  std::vector<double> infiltration;  // per cell, or one value, or empty (m/s)
  double initialLoss = 0;            // m of rain held before runoff starts (every cell)
  std::vector<double> initialDepth;  // per cell, or empty (m)
  Boundary west, east, north, south;
  std::vector<PointInflow> inflows;
};

struct SolverOptions {
  // CFL coefficient. Bates 2010 recommend 0.2-0.7; with the theta weighting in 2D, 0.7 let
  // rounding noise grow in the lake-at-rest test (the 2D forward-backward limit is 1/sqrt 2).
  double alpha = 0.5;
  double theta = 0.7;       // de Almeida 2012: 1 = Bates 2010, 0.7 recommended
  double maxStep = 10;      // s, upper bound of dt (dry domain, light rain)
  double flowDepth = 1e-5;  // m, faces with a smaller flow depth carry nothing
  double gravity = 9.81;
  int threads = 0;  // OpenMP threads; 0 = library default
};

struct MassBalance {
  double initial = 0;  // m3 stored at t = 0
  double rain = 0;     // m3 rained onto the domain
  double inflow = 0;   // m3 from point inflows and depth boundaries
  double outflow = 0;  // m3 leaving through boundaries
  double losses = 0;   // m3 infiltrated or held as initial loss
  double stored = 0;   // m3 on the grid now
  // |stored - (initial + rain + inflow - outflow - losses)| / (initial + rain + inflow).
  double relativeError() const;
};

struct Progress {
  double time = 0;  // simulated s
  double endTime = 0;
  long steps = 0;
  double lastStep = 0;  // s
  MassBalance balance;
};

// The peak results of a run, per cell.
struct Peaks {
  std::vector<double> maxDepth;    // m
  std::vector<double> maxSpeed;    // m/s (cells deeper than 1 cm)
  std::vector<double> timeTo10cm;  // s, -1 when never reached
};

class Solver {
 public:
  virtual ~Solver() = default;
  // Advances to `endTime` (s) under `rain`; calls `progress` about every `progressEvery` steps;
  // returns early (false) when `cancel` becomes true.
  virtual bool run(double endTime, const Hyetograph& rain, const std::function<void(const Progress&)>& progress = {},
                   const std::atomic<bool>* cancel = nullptr, long progressEvery = 100) = 0;
  // One step under `rain`, no longer than `limit` s; returns the step taken.
  virtual double step(const Hyetograph& rain, double limit) = 0;
  virtual double time() const = 0;
  virtual long steps() const = 0;
  virtual double depth(int i, int j) const = 0;
  // Unit discharge (m2/s) through the west face of cell (i, j) (i = nx: east edge).
  virtual double fluxX(int i, int j) const = 0;
  // Unit discharge (m2/s) through the north face of cell (i, j) (j = ny: south edge).
  virtual double fluxY(int i, int j) const = 0;
  virtual MassBalance balance() const = 0;
  virtual const Peaks& peaks() const = 0;
  // The state a run continues from (twin/checkpoint.h): depths, face discharges, peaks, time,
  // steps, mass accounts, the loss store and the depth that sets the next step. A solver of the
  // same domain and options that restores it takes the same steps as this one would.
  virtual std::string saveState() const = 0;
  // BadRequestData when `state` is not a state of a solver of this shape and precision.
  virtual Status restoreState(std::string_view state) = 0;
};

enum class Precision { kFloat, kDouble };

// A solver for `domain` (validated: sizes of the per-cell vectors, positive dx).
Result<std::unique_ptr<Solver>> makeSolver(Domain domain, SolverOptions options,
                                           Precision precision = Precision::kDouble);

}  // namespace allmende::twin
