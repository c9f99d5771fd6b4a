// The tenant registry (store/tenant_registry.h) in the embedded store's database file, on a
// connection of its own (tables `tenant_registry` and `api_keys`, kRegistrySchema).
#pragma once

#include <memory>
#include <string>

#include "store/tenant_registry.h"

namespace allmende::store {

// Opens the registry in the database file at `path` (tables created if missing).
Result<std::unique_ptr<TenantRegistry>> openSqliteTenantRegistry(const std::string& path);

}  // namespace allmende::store
