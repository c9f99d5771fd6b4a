// The temporal representations of an entity (NGSI-LD 4.5.7 normalized, 4.5.9 simplified
// "temporalValues", 4.5.19 aggregated), compacted with the response's @context.
#pragma once

#include <string>

#include "api/call.h"
#include "api/temporal_params.h"
#include "model/render.h"
#include "store/temporal.h"

namespace allmende::api {

// The instance id as it appears in the API, and back (0 when `uri` is not one of ours).
std::string instanceIdUri(int64_t iid);
int64_t instanceIdOf(std::string_view uri);

// The instant of an instance on the requested time line (observedAt falls back to the time the
// instance was written); temporalValues pairs carry it (4.5.9).
Micros instanceTime(const store::StoredInstance& i, store::TimeFilter::Property p);

// Writes one temporal entity (normalized or temporalValues, per `p`) as a JSON object.
void renderTemporal(const Call& call, const store::TemporalEntity& e, const TemporalParams& p, JsonWriter& w);
// Writes one aggregated temporal entity.
void renderAggregated(const Call& call, const store::AggregatedEntity& e, const TemporalParams& p,
                      JsonWriter& w);

}  // namespace allmende::api
