#include "twin/omp_env.h"

#include <unistd.h>

#include <climits>
#include <cstdlib>

namespace allmende::twin {

void ensurePassiveOpenMpWait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (::setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
  // ... after a short spin (about 0.3 ms by libgomp's estimate of 100,000 spins per ms): a partner
  // on an idle core arrives within it, and sleeping at once made an idle 2-core run 1.85x slower
  // (town at 2 m: 34.4 s passive, 22.2 s with this spin, 18.6 s spinning without end).
  ::setenv("GOMP_SPINCOUNT", "30000", 0);
  // The executable's own path, so the process keeps its name (ps, top, systemd show "allmende",
  // not "exe"); /proc/self/exe when that path is gone (the binary was replaced while running).
  char path[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n > 0) {
    path[n] = '\0';
    ::execv(path, argv);
  }
  ::execv("/proc/self/exe", argv);
  // exec failed: this process keeps libgomp's default; a child it starts gets passive.
}

}  // namespace allmende::twin
