// Handlers of the admin REST API (/admin/v1, docs/tenancy.md).
#pragma once

#include "api/call.h"
#include "http/message.h"

namespace allmende::api {

http::Response adminCreateTenant(Call& call);
http::Response adminListTenants(Call& call);
http::Response adminShowTenant(Call& call);
http::Response adminPatchTenant(Call& call);
http::Response adminDeleteTenant(Call& call);
http::Response adminTenantChecklist(Call& call);
http::Response adminSetChecklistItem(Call& call);
http::Response adminListKeys(Call& call);
http::Response adminCreateKey(Call& call);
http::Response adminRevokeKey(Call& call);
http::Response adminTenantUsage(Call& call);
http::Response adminExportTenant(Call& call);
http::Response adminImportTenant(Call& call);
http::Response adminListTemplates(Call& call);

}  // namespace allmende::api
