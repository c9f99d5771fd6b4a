#include "twin/hazard.h"

namespace allmende::twin {

int depthClass(double d) {
  if (d < 0.1) return 0;
  if (d < 0.3) return 1;
  if (d < 0.5) return 2;
  if (d < 1.0) return 3;
  return 4;
}

double hazardRating(double d, double v, double debrisFactor) {
  return d * (v + 0.5) + (d > 0.25 ? debrisFactor : 0.0);
}

int hazardRatingClass(double d, double v, double debrisFactor) {
  if (d < 0.01) return 0;
  double hr = hazardRating(d, v, debrisFactor);
  if (hr < 0.75) return 0;
  if (hr < 1.25) return 1;
  if (hr < 2.0) return 2;
  return 3;
}

}  // namespace allmende::twin
