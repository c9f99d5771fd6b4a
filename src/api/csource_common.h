// What the csourceRegistrations and csourceSubscriptions handlers share (private to api/).
#pragma once

#include <string>

#include "api/call.h"
#include "federation/registration.h"

namespace allmende::api {

// OperationNotSupported (501) when federation is not wired (Services::registrations & co).
Status csourcesAvailable(const Call& call);
// The call's tenant (NGSILD-Tenant). A read of a tenant that holds no entities yet is allowed
// when it holds registrations or csourceSubscriptions (they belong to it by name); otherwise as
// Call::resolveTenant.
Status resolveCSourceTenant(Call& call, bool forWrite);
// A non-negative integer parameter, `fallback` when absent; BadRequestData otherwise.
Result<size_t> csourceNumber(const Call& call, const char* name, size_t fallback);
// limit and offset (with the API's default and maximum page size).
Status csourcePage(const Call& call, size_t& limit, size_t& offset);
// options=sysAttrs
bool csourceSysAttrs(const Call& call);
// Ends an object being written with the "@context" member of an application/ld+json answer.
void endWithContext(const Call& call, JsonWriter& w);

// NGSI-LD 5.11: tells the csourceSubscriptions of the call's tenant that registration
// `before` (null: created) became `after` (null: deleted), each with its triggerReason.
void notifyRegistrationChange(Call& call, const federation::Registration* before,
                              const federation::Registration* after);

// Removes every registration and csourceSubscription of a tenant (the tenant is deleted).
Status deleteCSourcesOfTenant(Services& services, const std::string& tenant);

// NGSI-LD 5.11.2: a new csourceSubscription is told of the registrations that match it already.
void notifyMatchingRegistrations(Call& call, const std::string& subscriptionId);

}  // namespace allmende::api
