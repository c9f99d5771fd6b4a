// Registrations as JSON: reading and validating the body of a create or update (NGSI-LD 5.2.9,
// 5.9.2, 5.9.3), the internal form the store keeps (the same members, every term expanded), and
// the answer of a retrieval compacted with the request's @context.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "federation/registration.h"

namespace allmende::federation {

// Term <-> IRI with the request's @context (identity when empty).
using TermFn = std::function<std::string(std::string_view)>;

// Reads a CSourceRegistration from a create body (`@context` already taken out by the caller or
// ignored here). Without `id` one is generated. Fails with BadRequestData naming the member
// (missing information or endpoint, unknown mode or operation, a mode's restrictions) or
// InvalidRequest when the body is not an object.
Result<Registration> parseRegistration(const Json& body, const TermFn& expand, const std::string& ownerTenant,
                                       Micros now);

// NGSI-LD 5.9.3: the members of `fragment` replace those of `current` (null removes an optional
// member); id and type cannot change. The result is validated as a new one.
Result<Registration> patchRegistration(const Registration& current, const Json& fragment, const TermFn& expand,
                                       Micros now);

// NGSI-LD 4.3.6.3: an exclusive registration may not overlap (same entity id, a common
// attribute) another exclusive or a redirect one, nor a redirect one an exclusive one; Conflict
// (409) naming the other registration. `others` may contain `r` itself (skipped by id).
Status checkModeConflicts(const Registration& r, const std::vector<Registration>& others, Micros now);

// The internal form (JSON text) and back.
std::string toInternalJson(const Registration& r);
Result<Registration> fromInternalJson(const std::string& ownerTenant, std::string_view text);

struct RenderOptions {
  bool sysAttrs = false;                       // createdAt, modifiedAt
  const RegistrationStatus* status = nullptr;  // the broker's delivery state (5.2.9), if known
};

// The registration as the API shows it, every IRI compacted with `compact`.
void writeRegistration(JsonWriter& w, const Registration& r, const TermFn& compact, const RenderOptions& options);

}  // namespace allmende::federation
