// From request bodies to the internal entity form (docs/architecture.md): validation of the
// NGSI-LD payload (normalized or concise representation, NGSI-LD 4.5) and expansion of every user
// term with the request's @context. Nothing is stamped here: timestamps belong to the mutations.
#pragma once

#include <string_view>

#include "common/json.h"
#include "common/status.h"
#include "ld/context.h"

namespace allmende::model {

struct ExpandLimits {
  size_t maxAttributes = 1000;  // attributes per entity or fragment
  size_t maxSubAttributeDepth = 8;
};

// An entity body (NGSI-LD 5.6.1): requires `id` (a URI) and `type`. Fails with BadRequestData
// naming the offending member.
Result<JsonDocument> expandEntity(const Json& body, const ld::Context& ctx, const ExpandLimits& limits = {});

// An entity fragment (attributes to append, update or merge; NGSI-LD 5.4): `id` and `type` are
// optional (an `id` must match `expectedId` when given), `scope` kept.
Result<JsonDocument> expandFragment(const Json& body, const ld::Context& ctx, std::string_view expectedId,
                                    const ExpandLimits& limits = {});

// One attribute given by name in the URL (PUT/PATCH .../attrs/{attrId}); `body` is its value in
// normalized or concise form. The result is an array of instances.
Result<JsonDocument> expandAttributeBody(const Json& body, const ld::Context& ctx, const ExpandLimits& limits = {});

// Expands and validates an entity type name.
Result<std::string> expandTypeName(std::string_view name, const ld::Context& ctx);
// Expands and validates an attribute name.
Result<std::string> expandAttributeName(std::string_view name, const ld::Context& ctx);

}  // namespace allmende::model
