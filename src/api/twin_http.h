// The digital twin's API (issue 9, docs/twin.md): flood scenarios and runs of the tenant named by
// NGSILD-Tenant, under /twin/v1. Handlers only parse, check and render; twin::RunQueue keeps the
// records and runs the solver on its workers.
#pragma once

#include "api/call.h"
#include "http/message.h"

namespace allmende::api {

http::Response twinCreateScenario(Call& call);   // POST /twin/v1/scenarios
http::Response twinListScenarios(Call& call);    // GET  /twin/v1/scenarios
http::Response twinShowScenario(Call& call);     // GET  /twin/v1/scenarios/{scenarioId}
http::Response twinReplaceScenario(Call& call);  // PUT  /twin/v1/scenarios/{scenarioId}
http::Response twinDeleteScenario(Call& call);   // DELETE /twin/v1/scenarios/{scenarioId}
http::Response twinPutInput(Call& call);         // PUT  /twin/v1/scenarios/{scenarioId}/inputs/{input}
http::Response twinGetInput(Call& call);         // GET  /twin/v1/scenarios/{scenarioId}/inputs/{input}
http::Response twinCreateRun(Call& call);        // POST /twin/v1/runs
http::Response twinListRuns(Call& call);         // GET  /twin/v1/runs
http::Response twinShowRun(Call& call);          // GET  /twin/v1/runs/{runId}
http::Response twinRunProgress(Call& call);      // GET  /twin/v1/runs/{runId}/progress
http::Response twinStartRun(Call& call);         // POST /twin/v1/runs/{runId}/start
http::Response twinCancelRun(Call& call);        // POST /twin/v1/runs/{runId}/cancel
http::Response twinRunResults(Call& call);       // GET  /twin/v1/runs/{runId}/results
http::Response twinRunResultFile(Call& call);    // GET  /twin/v1/runs/{runId}/results/{file}

}  // namespace allmende::api
