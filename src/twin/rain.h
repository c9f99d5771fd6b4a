// Rain models of the digital twin: uniform intensity, hyetograph, Euler type II design storm.
//
// Every model is a piecewise-constant intensity in time. The solver asks for the rain depth that
// falls between two instants (the exact integral), so the mass balance does not depend on how
// the time steps fall relative to the blocks.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace allmende::twin {

// Piecewise-constant rain: block k has intensity intensity[k] (m/s) from starts[k] to
// starts[k+1] (the last block ends at `end`); zero before starts[0] and after `end`.
class Hyetograph {
 public:
  Hyetograph() = default;
  // starts ascending (seconds), intensities in m/s (>= 0), end > last start.
  Hyetograph(std::vector<double> starts, std::vector<double> intensities, double end);

  // Uniform intensity (mm/h) for `durationSeconds` from t = 0.
  static Hyetograph uniform(double mmPerHour, double durationSeconds);
  // Blocks of `stepSeconds` each, intensities in mm/h, from t = 0.
  static Hyetograph blocks(const std::vector<double>& mmPerHour, double stepSeconds);
  // Euler type II design storm (DWA-A 531 construction): `depthDuration` lists (duration s,
  // depth mm) of one return period (e.g. from KOSTRA-DWD), ascending; the storm lasts
  // `durationSeconds` in blocks of `stepSeconds`. The block increments D(k*step) - D((k-1)*step)
  // are placed so that the largest sits at the end of the first third and every window of k
  // blocks holds at most D(k*step). Depths between listed durations are interpolated linearly
  // (D(0) = 0). Fails on an unsorted or decreasing table or a duration beyond it.
  static Result<Hyetograph> eulerTypeII(const std::vector<std::pair<double, double>>& depthDuration,
                                        double durationSeconds, double stepSeconds = 300);

  // Rain depth (m) between t0 and t1 (t0 <= t1).
  double depthBetween(double t0, double t1) const;
  // Intensity (m/s) at t.
  double intensityAt(double t) const;
  double end() const { return end_; }
  const std::vector<double>& starts() const { return starts_; }
  const std::vector<double>& intensities() const { return intensities_; }

 private:
  double cumulative(double t) const;  // depth (m) from -inf to t
  std::vector<double> starts_;
  std::vector<double> intensities_;
  double end_ = 0;
};

// Parses a rain specification of the CLI:
//   uniform:MM_PER_H:MINUTES
//   blocks:STEP_MIN:MM_PER_H,MM_PER_H,...
//   euler2:MINUTES:DUR_MIN=DEPTH_MM,DUR_MIN=DEPTH_MM,...   (KOSTRA depths of one return period)
Result<Hyetograph> parseRain(const std::string& spec);

}  // namespace allmende::twin
