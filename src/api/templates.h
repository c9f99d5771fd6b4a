// Roll-in templates: files `TEMPLATES_DIR/<name>.json` describing what a municipality gets on
// day one (format in templates/README.md): its data model catalogue, default subscriptions,
// open-data settings, quotas, initial API keys and the roll-in checklist.
#pragma once

#include <string>
#include <vector>

#include "api/services.h"
#include "api/tenant_service.h"

namespace allmende::api {

// Reads and checks `dir/<name>.json`. BadRequestData when the name is not [a-z0-9-]+, the file
// is missing or its content does not follow the format.
Result<JsonDocument> loadTemplate(const std::string& dir, const std::string& name);

// The templates in `dir` for choosing one (the console's roll-in form), sorted by name. JSON text:
// [{"name", "description", "types": [data model types], "publicTypes": [...], "initialKeys":
// [roles], "checklist": n}]; a file that does not follow the format is listed with its "error".
std::string templatesSummary(const std::string& dir);

// Reads a quotas object ({"requestsPerSecond", "burst", "entities"}) into `out`.
Status readQuotas(const Json& quotas, store::TenantQuotas& out);

// Fills the tenant's settings (dataModels, subscriptions, openData, quotas), checklist and
// template name, and lists the keys to create.
void applyTemplate(const JsonDocument& tpl, store::TenantRecord& tenant, std::vector<KeySpec>& keys);

// The roll-in checklist with each item's current state: stored items ("done" set through the
// admin API) and the automatic ones evaluated now (area, contact, admin key, first data).
// JSON text: {"tenant", "done", "open", "items": [{"id","title","owner","done"}]}.
std::string checklistReport(Services& services, const store::TenantRecord& tenant);

// Marks a checklist item done or not done. ResourceNotFound for an unknown item,
// BadRequestData for an automatic one.
Status setChecklistItem(Services& services, const std::string& tenant, const std::string& item, bool done);

}  // namespace allmende::api
