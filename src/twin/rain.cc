#include "twin/rain.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace allmende::twin {

namespace {
constexpr double kMmPerHourToMs = 1e-3 / 3600.0;

bool parseNumber(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end && *end == '\0' && std::isfinite(out);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    parts.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return parts;
}

// Depth (mm) of the depth-duration table at duration d, linear between entries, D(0) = 0.
double interpolateDepth(const std::vector<std::pair<double, double>>& table, double d) {
  double d0 = 0, v0 = 0;
  for (const auto& [dur, depth] : table) {
    if (d <= dur) return v0 + (depth - v0) * (d - d0) / (dur - d0);
    d0 = dur;
    v0 = depth;
  }
  return v0;
}
}  // namespace

Hyetograph::Hyetograph(std::vector<double> starts, std::vector<double> intensities, double end)
    : starts_(std::move(starts)), intensities_(std::move(intensities)), end_(end) {}

Hyetograph Hyetograph::uniform(double mmPerHour, double durationSeconds) {
  return Hyetograph({0.0}, {mmPerHour * kMmPerHourToMs}, durationSeconds);
}

Hyetograph Hyetograph::blocks(const std::vector<double>& mmPerHour, double stepSeconds) {
  std::vector<double> starts, rates;
  for (size_t k = 0; k < mmPerHour.size(); ++k) {
    starts.push_back(double(k) * stepSeconds);
    rates.push_back(mmPerHour[k] * kMmPerHourToMs);
  }
  return Hyetograph(std::move(starts), std::move(rates), double(mmPerHour.size()) * stepSeconds);
}

Result<Hyetograph> Hyetograph::eulerTypeII(const std::vector<std::pair<double, double>>& table,
                                           double durationSeconds, double stepSeconds) {
  if (table.empty() || stepSeconds <= 0 || durationSeconds < stepSeconds) {
    return badRequestData("Euler type II needs a depth-duration table and a duration of at least one block");
  }
  double prevDur = 0, prevDepth = 0;
  for (const auto& [dur, depth] : table) {
    if (dur <= prevDur || depth < prevDepth) {
      return badRequestData("the depth-duration table must have ascending durations and non-decreasing depths");
    }
    prevDur = dur;
    prevDepth = depth;
  }
  if (durationSeconds > table.back().first + 1e-9) {
    return badRequestData("the storm duration exceeds the longest duration of the depth-duration table");
  }
  int n = int(std::lround(durationSeconds / stepSeconds));
  std::vector<double> increments;  // mm per block, largest first
  for (int k = 1; k <= n; ++k) {
    increments.push_back(interpolateDepth(table, k * stepSeconds) - interpolateDepth(table, (k - 1) * stepSeconds));
  }
  std::sort(increments.rbegin(), increments.rend());
  // The peak block ends the first third; from there on the increments fall (as in Euler type I),
  // before it they rise, so a window starting at the peak holds exactly D(k * step).
  int peak = std::max(0, int(std::ceil(n / 3.0)) - 1);
  std::vector<double> mm(n);
  int next = 0;
  for (int k = peak; k < n; ++k) mm[k] = increments[next++];
  for (int k = peak - 1; k >= 0; --k) mm[k] = increments[next++];
  std::vector<double> rates;
  for (double d : mm) rates.push_back(d / stepSeconds * 3600.0);  // mm per block -> mm/h
  return blocks(rates, stepSeconds);
}

double Hyetograph::cumulative(double t) const {
  double sum = 0;
  for (size_t k = 0; k < starts_.size(); ++k) {
    double blockEnd = k + 1 < starts_.size() ? starts_[k + 1] : end_;
    if (t <= starts_[k]) break;
    sum += intensities_[k] * (std::min(t, blockEnd) - starts_[k]);
  }
  return sum;
}

double Hyetograph::depthBetween(double t0, double t1) const { return cumulative(t1) - cumulative(t0); }

double Hyetograph::intensityAt(double t) const {
  if (starts_.empty() || t < starts_[0] || t >= end_) return 0;
  size_t k = std::upper_bound(starts_.begin(), starts_.end(), t) - starts_.begin() - 1;
  return intensities_[k];
}

Result<Hyetograph> parseRain(const std::string& spec) {
  auto parts = split(spec, ':');
  double a = 0, b = 0;
  if (parts[0] == "uniform" && parts.size() == 3 && parseNumber(parts[1], a) && parseNumber(parts[2], b) && a >= 0 &&
      b > 0) {
    return Hyetograph::uniform(a, b * 60);
  }
  if (parts[0] == "blocks" && parts.size() == 3 && parseNumber(parts[1], a) && a > 0) {
    std::vector<double> rates;
    for (const auto& r : split(parts[2], ',')) {
      double v = 0;
      if (!parseNumber(r, v) || v < 0) return badRequestData("blocks: '" + r + "' is not an intensity in mm/h");
      rates.push_back(v);
    }
    return Hyetograph::blocks(rates, a * 60);
  }
  if (parts[0] == "euler2" && parts.size() == 3 && parseNumber(parts[1], a) && a > 0) {
    std::vector<std::pair<double, double>> table;
    for (const auto& entry : split(parts[2], ',')) {
      auto kv = split(entry, '=');
      double d = 0, depth = 0;
      if (kv.size() != 2 || !parseNumber(kv[0], d) || !parseNumber(kv[1], depth)) {
        return badRequestData("euler2: '" + entry + "' is not DURATION_MIN=DEPTH_MM");
      }
      table.emplace_back(d * 60, depth);
    }
    return Hyetograph::eulerTypeII(table, a * 60, 300);
  }
  return badRequestData("rain must be uniform:MM_PER_H:MINUTES, blocks:STEP_MIN:MM_PER_H,... or "
                        "euler2:MINUTES:DUR_MIN=DEPTH_MM,...; got '" + spec + "'");
}

}  // namespace allmende::twin
