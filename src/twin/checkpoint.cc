#include "twin/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace allmende::twin {

namespace fs = std::filesystem;

namespace {
constexpr std::string_view kMagic = "ALMTWCK1";
}

uint64_t fnv1a(std::string_view bytes, uint64_t h) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

Status writeCheckpoint(const std::string& path, const RunCheckpoint& c) {
  StateWriter w;
  w.value(c.fingerprint);
  w.value(c.sampledUntil);
  w.value(c.wallSeconds);
  w.value(uint64_t(c.gaugeSamples.size()));
  for (const auto& g : c.gaugeSamples) w.vector(g);
  w.value(uint64_t(c.solverState.size()));
  std::string payload = w.take() + c.solverState;
  uint64_t hash = fnv1a(payload);
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return internalError("cannot write " + tmp);
  bool ok = true;
  for (std::string_view part :
       {kMagic, std::string_view(payload), std::string_view(reinterpret_cast<const char*>(&hash), sizeof hash)}) {
    size_t done = 0;
    while (ok && done < part.size()) {
      ssize_t n = ::write(fd, part.data() + done, part.size() - done);
      ok = n > 0;
      if (ok) done += size_t(n);
    }
  }
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  std::error_code ec;
  if (ok) fs::rename(tmp, path, ec);
  if (!ok || ec) {
    fs::remove(tmp, ec);
    return internalError("cannot store checkpoint " + path);
  }
  // The rename itself survives a crash once the directory is synced.
  int dir = ::open(fs::path(path).parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return Status::ok();
}

Result<std::optional<RunCheckpoint>> readCheckpoint(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<RunCheckpoint>();
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  auto damaged = [&path] { return badRequestData("checkpoint " + path + " is damaged"); };
  if (bytes.size() < kMagic.size() + 8 || std::string_view(bytes).substr(0, kMagic.size()) != kMagic) return damaged();
  std::string_view payload = std::string_view(bytes).substr(kMagic.size(), bytes.size() - kMagic.size() - 8);
  uint64_t hash;
  std::memcpy(&hash, bytes.data() + bytes.size() - 8, 8);
  if (fnv1a(payload) != hash) return damaged();
  RunCheckpoint c;
  StateReader r(payload);
  uint64_t gauges = 0, stateSize = 0;
  r.value(c.fingerprint);
  r.value(c.sampledUntil);
  r.value(c.wallSeconds);
  r.value(gauges);
  if (!r.ok() || gauges > payload.size()) return damaged();
  c.gaugeSamples.resize(size_t(gauges));
  for (auto& g : c.gaugeSamples) r.vector(g);
  r.value(stateSize);
  if (!r.ok() || stateSize != r.remaining()) return damaged();
  c.solverState = std::string(payload.substr(payload.size() - size_t(stateSize)));
  return std::optional<RunCheckpoint>(std::move(c));
}

}  // namespace allmende::twin
