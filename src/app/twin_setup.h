// Wiring of the digital twin's API (issue 9, docs/twin.md) for `allmende serve`: the run queue
// under DATA/twin, its publisher into the store, and the demo scenario of Musterhausen.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>

#include "api/services.h"
#include "ld/context_store.h"
#include "twin/run_queue.h"

namespace allmende::app {

struct TwinOptions {
  bool enabled = true;
  int workers = 1;        // runs at a time
  int solverThreads = 0;  // 0 = all cores but one
  int niceness = 10;
  size_t maxUploadBytes = 64 << 20;  // DEM and footprint uploads (other bodies: --max-body)
  double checkpointMinutes = 10;     // simulated minutes between checkpoints of a run
};

void addTwinFlags(CLI::App& serve, TwinOptions& o);

// The body limit of an upload of scenario inputs (PUT /twin/v1/scenarios/{id}/inputs/{name}), 0 otherwise.
size_t twinUploadLimit(const TwinOptions& o, std::string_view method, std::string_view target);

// Opens DATA/twin, sets services.twin and starts the workers; null when disabled.
Result<std::unique_ptr<twin::RunQueue>> setupTwin(const TwinOptions& o, const std::string& dataDir,
                                                  api::Services& services);

// The demo scenario "starkregen-100" of the default tenant (a synthetic valley with streets, 16
// buildings and three virtual gauges; docs/twin.md); its first run is queued when it has none.
// Idempotent.
Status provisionDemoScenario(twin::RunQueue& queue, const std::string& dataDir);

}  // namespace allmende::app
