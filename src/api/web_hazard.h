// The heavy-rain hazard map of the citizen app (issue 10, docs/web.md "Heavy-rain hazard map").
//
// Citizens see the newest succeeded run of the tenant's *published* scenarios: those whose
// definition has `"public": true` (docs/twin.md), set by an editor in the console. They read it
// anonymously through the web app's own narrow routes -- the run's summary in `/app-config.json`
// and its three web overlay files under `/app-hazard/` -- never through `/twin/v1`, which needs
// a reader. Unpublishing (or deleting) the scenario hides its runs at once.
#pragma once

#include <string>

#include "api/call.h"
#include "common/json.h"
#include "http/message.h"

namespace allmende::api {

// Writes the member `"hazard"` of /app-config.json: the published run of `tenant` ("" = the
// default tenant) with its summary and overlay links, or null when there is none (no twin, no
// published scenario, no succeeded run of one).
void writeHazard(JsonWriter& w, Call& call, const std::string& tenant);

// `GET /app-hazard/{runId}/{file}[?tenant=NAME]`: hazard_depth.png, hazard_depth.geojson or
// buildings.geojson of a succeeded run of a published scenario; 404 for anything else.
http::Response serveHazardFile(Call& call);

}  // namespace allmende::api
