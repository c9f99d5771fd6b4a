#include "api/tenant_admission.h"

namespace allmende::api {

Status admitTenant(Services& services, const store::TenantId& tenant, bool forWrite) {
  if (tenant.empty()) return Status::ok();
  if (auto state = services.tenants->tenantState(tenant)) {
    if (state->suspended) return Status(ErrorType::kForbidden, "tenant '" + tenant + "' is suspended");
    return Status::ok();
  }
  if (services.strictTenants) {
    return Status(ErrorType::kNonexistentTenant,
                  "tenant '" + tenant + "' does not exist (tenants are created through /admin/v1/tenants)");
  }
  if (!forWrite && !services.store.tenantExists(tenant)) {
    return Status(ErrorType::kNonexistentTenant, "tenant '" + tenant + "' does not exist");
  }
  return Status::ok();
}

}  // namespace allmende::api
