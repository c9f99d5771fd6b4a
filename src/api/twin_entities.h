// The digital twin's results as NGSI-LD (docs/twin.md, "Results as NGSI-LD"): a finished run is
// written to its tenant through Store::write like any other write, so subscriptions, the
// temporal API and open data see it:
// - FloodSimulation (one per run): the run summary;
// - Building (one per footprint): maxFloodDepth and floodHazardClass, one instance per scenario
//   (datasetId = the scenario's URN), merged into an existing Building entity of the same id;
// - FloodMonitoring (one per virtual gauge and scenario): currentLevel, one write per sample with
//   observedAt = event start + simulated time, so its history is the depth series.
#pragma once

#include "common/time.h"
#include "ld/context_store.h"
#include "store/store.h"
#include "store/tenant_registry.h"
#include "twin/run_queue.h"

namespace allmende::api {

// A publisher for the run queue; `tenants` may be null (the key is then the tenant's name).
twin::RunPublisher makeRunPublisher(store::Store& store, ld::ContextStore& contexts, store::TenantRegistry* tenants,
                                    const Clock& clock);

// The footprints of the tenant's Building entities for runs of scenarios with "buildings":
// {"source": "entities"}: every entity of type Building (the core @context's expansion or Smart
// Data Models' IRI) whose `location` is a Polygon or MultiPolygon, as a GeoJSON FeatureCollection
// in WGS84 with the entity id as feature id (so a run's results merge into these entities),
// `name` and `height` (m, when the entity has one) as properties. Other entities are skipped.
twin::BuildingSource makeBuildingSource(store::Store& store, ld::ContextStore& contexts);

// The municipality key of entity ids (urn:ngsi-ld:<Type>:<key>:<local id>): the scenario's, else
// the tenant's AGS, else the tenant's name, else "default".
std::string twinMunicipalityKey(const twin::ScenarioSpec& spec, const std::string& tenant,
                                store::TenantRegistry* tenants);

}  // namespace allmende::api
