// Pieces of the distributed operations (api/distributed*.cc) that the single-entity writes, the
// batch operations and the discovery forwarding share. Internal to api/: include only there.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "api/call.h"
#include "common/json.h"
#include "federation/forward.h"

namespace allmende::api {

// The headers every forwarded request of this call carries (the source expands terms with the
// same @context the client used; NGSI-LD 6.3.5); with `withBody` also the Content-Type.
federation::Headers forwardedHeaders(const Call& call, bool withBody);

// The members of an entity that are not attributes (id, type, scope, @context, system times).
bool isEntityMember(std::string_view name);

// `entity` with only the attributes whose expanded name (with `ctx`) satisfies `keep`; entity
// members stay. `kept` counts the attributes kept.
JsonDocument entityWith(const Json& entity, const ld::Context& ctx, const std::function<bool(const std::string&)>& keep,
                        size_t& kept);

// The call's query parameters without `local` (what a forwarded request keeps).
std::vector<std::pair<std::string, std::string>> forwardedParams(const Call& call);

// A write without a body (a delete) names no type: the types of the entity as the broker holds
// it are added to `sel`, so registrations of other types do not take it (NGSI-LD 4.3.6: a
// registration covers entities of its types). Nothing is added when the broker lacks it.
void addStoredTypes(Call& call, const std::string& id, federation::RequestSelector& sel);

}  // namespace allmende::api
