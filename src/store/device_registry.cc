#include "store/device_registry.h"

namespace allmende::store {

bool isSilent(const Device& d, Micros now) {
  if (d.record.expectedIntervalSeconds <= 0) return false;
  Micros since = d.health.lastSeen > 0 ? d.health.lastSeen : d.record.created;
  return now - since > d.record.expectedIntervalSeconds * 1000000;
}

}  // namespace allmende::store
