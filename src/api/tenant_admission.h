// Whether a request may act in a tenant, given the tenant registry (store/tenant_registry.h).
#pragma once

#include "api/services.h"

namespace allmende::api {

// For a named tenant (not the default ""), with a registry configured:
// - registered and active: admitted (it exists even before its first entity);
// - registered and suspended: 403 Forbidden;
// - not registered: in strict mode 404 NonexistentTenant (NGSI-LD 6.3.14: no implicit creation);
//   otherwise NGSI-LD 4.14 implicit creation: writes admitted, reads only once the store has it.
Status admitTenant(Services& services, const store::TenantId& tenant, bool forWrite);

}  // namespace allmende::api
