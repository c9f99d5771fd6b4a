// Distributed operations at the API (NGSI-LD 4.3.6, 5.7.1.4, 5.7.2.4, 6.3.17, 6.3.18): which
// registrations a call reaches, the forwarded requests built from the call, and the answers of
// the sources merged with the local ones (federation/forward.h sends, federation/merge.h merges).
// Every function here is a no-op answer (no targets) when the server has no forwarder.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/call.h"
#include "api/entity_query.h"
#include "api/handlers.h"
#include "federation/registration.h"

namespace allmende::api {

// The registrations `op` on `selector` reaches for this call: none without a forwarder, with
// local=true, or when the call's Via names this broker (a loop).
Result<std::vector<federation::Registration>> distributedTargets(const Call& call, federation::Operation op,
                                                                 const federation::RequestSelector& selector);

// The selector of a query's filters: ids, idPattern, the type names of the type selection and
// the attrs, expanded with the call's @context.
federation::RequestSelector selectorOf(const QueryFilters& filters, const ld::Context& ctx);

// One page of entities merged from the local store and the sources.
struct MergedPage {
  std::vector<JsonDocument> entities;  // the page, internal form
  size_t total = 0;                    // merged entities in all (NGSILD-Results-Count)
  std::vector<std::string> warnings;   // NGSILD-Warning values
};

// Query entities (GET /entities, POST /entityOperations/query) over the local store and
// `targets`: each asked for up to ForwardOptions::maxEntitiesPerSource entities, merged by id,
// then `q.offset` / `q.limit` applied to the merged list (local entities first, in store order,
// then each source's new ones in its order).
Result<MergedPage> queryDistributed(Call& call, store::EntityQuery q,
                                    const std::vector<federation::Registration>& targets, bool queryObject);

// Retrieve entity `id` (GET /entities/{id}) from the local store and `targets`, merged: one
// entity, or none when no one has it.
Result<MergedPage> retrieveDistributed(Call& call, const std::string& id,
                                       const std::vector<federation::Registration>& targets);

// A write on one entity (create, update, append, merge, replace, delete of the entity or an
// attribute) with distributed operations (NGSI-LD 4.3.6.2 - 4.3.6.4, 5.6.x "distributed"):
// redirect registrations take the whole write and the broker keeps nothing; exclusive ones take
// the attributes they register (the rest stays local); inclusive ones get the write and the
// broker does it too; auxiliary ones never see writes. `local` is the handler of the local
// part. All parts succeed: the local answer (or the sources' success status); all fail: the
// first failure; some: 207 with what failed per registration.
http::Response distributedWrite(Call& call, federation::Operation op, HandlerFn local);

template <HandlerFn local, federation::Operation op>
http::Response forwardedWrite(Call& call) {
  return distributedWrite(call, op, local);
}

// A temporal query or retrieval (NGSI-LD 5.7.3, 5.7.4 distributed): the local answer of `local`
// (200, or 404 for a retrieval) and the sources' answers to the same request, merged per entity
// id (federation::mergeTemporalEntity). Paging headers are the local answer's; the sources'
// entities are added to the page.
http::Response distributedTemporal(Call& call, federation::Operation op, HandlerFn local);

template <HandlerFn local, federation::Operation op>
http::Response forwardedTemporal(Call& call) {
  return distributedTemporal(call, op, local);
}

// A batch operation (create, upsert, update, merge, delete; NGSI-LD 5.6.7 - 5.6.10, 5.6.20)
// with distributed operations: each entity goes where a write of it alone would go
// (distributedWrite's rules), each destination gets one batch of its entities, and the answers
// are put together per entity (201 / 204, or 207 with success and errors naming the failing
// registration). api/distributed_batch.cc.
http::Response distributedBatch(Call& call, federation::Operation op, HandlerFn local);

template <HandlerFn local, federation::Operation op>
http::Response forwardedBatch(Call& call) {
  return distributedBatch(call, op, local);
}

// Discovery of types and attributes (NGSI-LD 5.7.5 - 5.7.10 distributed): the local answer and
// the answers of the registrations supporting `op` (for `details=true` the ...Details
// operation), merged by federation::mergeDiscovery. api/distributed_discovery.cc.
http::Response distributedDiscovery(Call& call, federation::Operation op, HandlerFn local);

template <HandlerFn local, federation::Operation op>
http::Response forwardedDiscovery(Call& call) {
  return distributedDiscovery(call, op, local);
}

// Adds one NGSILD-Warning header per value.
void addWarnings(http::Response& r, const std::vector<std::string>& warnings);

}  // namespace allmende::api
