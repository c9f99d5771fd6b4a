#include "twin/omp_env.h"

#include <unistd.h>

#include <cstdlib>

namespace allmende::twin {

void ensurePassiveOpenMpWait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (::setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // exec failed: this process keeps libgomp's default; a child it starts gets passive.
}

}  // namespace allmende::twin
