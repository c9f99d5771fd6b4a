// What goes into the audit log (store/audit_log.h), decided in one place: every call of the
// admin API and every write (any method but GET/HEAD) that reached its handler or was refused
// with 403 -- who (principal), when, what (method, path, status), from where (client address).
// Unauthenticated refusals (401) and quota refusals (429) are not logged, so that a flood of
// them cannot flood the log.
#pragma once

#include "api/call.h"
#include "http/message.h"

namespace allmende::api {

// Records the call with its answer if it is audited; a no-op without an audit log.
void auditCall(Call& call, const http::Response& response);

// GET /admin/v1/tenants/{tenant}/audit?after=<seq>&limit=<n>
http::Response adminTenantAudit(Call& call);

}  // namespace allmende::api
