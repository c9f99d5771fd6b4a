#include "twin/omp_env.h"

#include <unistd.h>

#include <climits>
#include <cstdlib>

namespace allmende::twin {

void ensurePassiveOpenMpWait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (::setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
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
