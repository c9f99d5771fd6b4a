// Checkpoints of a flood run (docs/twin.md, "Checkpoints"): the solver's state (depths, face
// discharges, peaks, time, steps, mass accounts) and the run's own (gauge samples so far, where
// its sampling stands, wall time), so that a run interrupted by a restart continues where it was
// instead of starting again, and ends with the same results bit for bit (the steps after the
// checkpoint are the same steps: the solver is deterministic and its step depends only on this
// state).
//
// File: "ALMTWCK1", the payload, an FNV-1a hash of the payload (a torn or foreign file is
// refused, not resumed). Written atomically (temporary file, fsync, rename, fsync of the
// directory).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace allmende::twin {

// Appends plain values and vectors of them (host byte order: a checkpoint is read by the
// machine that wrote it).
class StateWriter {
 public:
  template <typename T>
  void value(const T& v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  template <typename T>
  void vector(const std::vector<T>& v) {
    value(uint64_t(v.size()));
    out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads what StateWriter wrote; every read fails (false) once one did.
class StateReader {
 public:
  explicit StateReader(std::string_view in) : in_(in) {}
  template <typename T>
  bool value(T& v) {
    if (!ok_ || in_.size() - pos_ < sizeof(T)) return ok_ = false;
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  // A vector of exactly `expected` elements (any size when expected is npos).
  template <typename T>
  bool vector(std::vector<T>& v, size_t expected = std::string_view::npos) {
    uint64_t n = 0;
    if (!value(n) || (expected != std::string_view::npos && n != expected) || (in_.size() - pos_) / sizeof(T) < n)
      return ok_ = false;
    v.resize(size_t(n));
    std::memcpy(static_cast<void*>(v.data()), in_.data() + pos_, size_t(n) * sizeof(T));
    pos_ += size_t(n) * sizeof(T);
    return true;
  }
  bool ok() const { return ok_; }
  bool atEnd() const { return pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// FNV-1a, 64 bit.
uint64_t fnv1a(std::string_view bytes, uint64_t seed = 14695981039346656037ull);

struct RunCheckpoint {
  uint64_t fingerprint = 0;  // of the run's domain and scenario: a checkpoint of another run is refused
  double sampledUntil = 0;   // simulated s of the last gauge sample (the sampling loop goes on from here)
  double wallSeconds = 0;    // spent before the checkpoint
  std::vector<std::vector<std::pair<double, double>>> gaugeSamples;  // per gauge
  std::string solverState;                                           // Solver::saveState()
};

// Atomically replaces `path`.
Status writeCheckpoint(const std::string& path, const RunCheckpoint& c);
// nullopt when there is no file; BadRequestData when it is damaged.
Result<std::optional<RunCheckpoint>> readCheckpoint(const std::string& path);

}  // namespace allmende::twin
