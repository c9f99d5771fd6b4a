// Tenant lifecycle and API keys: the rules shared by the admin REST API (admin.cc) and the
// `allmende tenant` / `allmende key` commands (app/tenant_cli.cc).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/services.h"
#include "store/tenant_registry.h"

namespace allmende::api {

struct TenantSpec {
  std::string name;         // NGSILD-Tenant value; "" = the AGS
  std::string ags;          // 8 digits, required
  std::string displayName;  // "" = name
  std::string contact;
  std::string area;          // GeoJSON Polygon / MultiPolygon (JSON text), "" = none
  std::string templateName;  // "" = none

  // The name the tenant is registered under: `name`, else the AGS.
  const std::string& effectiveName() const { return name.empty() ? ags : name; }
};

// A key as created: the record and the secret, which is shown this once and never again.
struct CreatedKey {
  store::ApiKeyRecord record;
  std::string secret;
};

struct CreatedTenant {
  store::TenantRecord record;
  std::vector<CreatedKey> keys;  // the initial keys of the template
};

struct KeySpec {
  std::string tenant;  // "" for platform-admin keys
  std::string role;
  std::string name;
  std::string entityPrefix;  // device keys: required
  Micros expires = 0;        // 0 = never
};

// The Amtlicher Gemeindeschlüssel: 8 digits, the first two a Land (01-16).
Status validateAgs(std::string_view ags);

// Registers a tenant, applying its roll-in template (templates.h). AlreadyExists when the name
// or the AGS is taken; BadRequestData on invalid fields or an unknown template.
Result<CreatedTenant> createTenant(Services& services, TenantSpec spec);
// "active" or "suspended".
Status setTenantStatus(Services& services, const std::string& name, const std::string& status);
// Deletes every entity of the tenant, then the tenant and its keys.
Status deleteTenant(Services& services, const std::string& name);

Result<CreatedKey> createKey(Services& services, const KeySpec& spec);

// The admin API representation of a tenant / a key (JSON text). `withDetails` adds checklist
// and settings.
std::string tenantJson(const store::TenantRecord& t, bool withDetails);
std::string keyJson(const store::ApiKeyRecord& k, const std::string* secret);

}  // namespace allmende::api
