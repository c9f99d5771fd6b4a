// Calendar arithmetic of the temporal aggregations (NGSI-LD 4.5.19 aggrPeriodDuration with
// months or years), shared by the stores.
#pragma once

#include <cstdint>

#include "common/time.h"

namespace allmende::store {

// Adds calendar months to an instant (UTC), keeping the day of the month where it exists (else
// the month's last day) and the time of day.
Micros addMonths(Micros t, int64_t months);

}  // namespace allmende::store
