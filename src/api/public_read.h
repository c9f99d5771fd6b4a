// Anonymous public read (issue 5): without credentials, a tenant's entities of the types its
// catalogue marks public (settings.dataModels, templates/README.md) may be read -- their public
// attributes only -- through a deliberately narrow form of the query and retrieval API, so that
// no parameter can reach a private type or attribute (not even as a filter: no q, scopeQ, ...).
#pragma once

#include <optional>
#include <set>
#include <string>

#include "api/call.h"
#include "store/tenant_registry.h"

namespace allmende::api {

// Whether the request is an anonymous read that the tenant's catalogue allows; on success the
// request's `attrs` is set to the public attributes it may see. Forbidden (with the reason)
// when the request is a read the public form does not allow.
Status admitPublicRead(Call& call, const store::TenantRecord& tenant);

// The public attribute names (terms) of `type` in the tenant's catalogue (settings.dataModels),
// or nullopt when the type is not public. The one rule of what is public (also for open data).
std::optional<std::set<std::string>> publicAttributes(const store::TenantRecord& t, const std::string& type);

}  // namespace allmende::api
