// A few days of hourly observations for the demo municipality, so its temporal API and charts
// have something to show (water levels of the flood gauges, air quality).
#pragma once

#include "common/status.h"
#include "common/time.h"
#include "ld/context.h"
#include "store/store.h"

namespace allmende::app {

// Writes `days` days of hourly observations, ending at the last full hour before now, as
// attribute updates through the store (so they become history instances with observedAt) of
// the FloodMonitoring and AirQualityObserved entities of seedDemo(), which must exist. Skipped
// when the first gauge already has a history of more than one instance (restart with --demo).
Status seedDemoHistory(store::Store& store, const ld::Context& ctx, const Clock& clock, int days = 3);

}  // namespace allmende::app
