// The NGSI-LD API handlers, one function per operation; the route table (router.cc) binds them
// to verbs and paths.
#pragma once

#include "api/call.h"
#include "http/message.h"

namespace allmende::api {

using HandlerFn = http::Response (*)(Call&);

// entities.cc — NGSI-LD 6.4, 6.5, 6.6, 6.7
http::Response createEntity(Call& call);
http::Response queryEntities(Call& call);
http::Response purgeEntities(Call& call);
http::Response retrieveEntity(Call& call);
http::Response deleteEntity(Call& call);
http::Response replaceEntity(Call& call);
http::Response mergeEntity(Call& call);
http::Response appendAttributes(Call& call);
http::Response updateAttributes(Call& call);
http::Response partialAttributeUpdate(Call& call);
http::Response replaceAttribute(Call& call);
http::Response deleteAttribute(Call& call);

// batch.cc — NGSI-LD 6.14 - 6.17, 6.23, 6.31
http::Response batchCreate(Call& call);
http::Response batchUpsert(Call& call);
http::Response batchUpdate(Call& call);
http::Response batchMerge(Call& call);
http::Response batchDelete(Call& call);
http::Response batchQuery(Call& call);

// discovery.cc — NGSI-LD 6.25 - 6.28
http::Response listTypes(Call& call);
http::Response typeInfo(Call& call);
http::Response listAttributes(Call& call);
http::Response attributeInfo(Call& call);

// contexts.cc — NGSI-LD 6.29, 6.30 (@context management)
http::Response listContexts(Call& call);
http::Response addContext(Call& call);
http::Response retrieveContext(Call& call);
http::Response deleteContext(Call& call);

// temporal.cc, temporal_writes.cc — NGSI-LD 6.18 - 6.24 (temporal evolution of entities)
http::Response queryTemporal(Call& call);
http::Response queryTemporalPost(Call& call);
http::Response retrieveTemporal(Call& call);
http::Response createTemporal(Call& call);
http::Response appendTemporal(Call& call);
http::Response deleteTemporal(Call& call);
http::Response deleteTemporalAttribute(Call& call);
http::Response modifyTemporalInstance(Call& call);
http::Response deleteTemporalInstance(Call& call);
// subscriptions.cc — NGSI-LD 6.10, 6.11 (subscriptions)
http::Response createSubscription(Call& call);
http::Response querySubscriptions(Call& call);
http::Response retrieveSubscription(Call& call);
http::Response updateSubscription(Call& call);
http::Response deleteSubscription(Call& call);
// csource_registrations.cc, csource_subscriptions.cc — NGSI-LD 6.8, 6.9, 6.12, 6.13 (issue 12)
http::Response createCSourceRegistration(Call& call);
http::Response queryCSourceRegistrations(Call& call);
http::Response retrieveCSourceRegistration(Call& call);
http::Response updateCSourceRegistration(Call& call);
http::Response deleteCSourceRegistration(Call& call);
http::Response createCSourceSubscription(Call& call);
http::Response queryCSourceSubscriptions(Call& call);
http::Response retrieveCSourceSubscription(Call& call);
http::Response updateCSourceSubscription(Call& call);
http::Response deleteCSourceSubscription(Call& call);

// Shared by the handlers: an empty answer with that status.
http::Response emptyResponse(int status);
// An application/json answer without NGSI-LD @context handling (admin and ingestion APIs).
http::Response plainJsonResponse(int status, std::string body);

}  // namespace allmende::api
