#include "auth/roles.h"

namespace allmende::auth {

namespace {
constexpr Role kAllRoles[] = {Role::kPlatformAdmin, Role::kTenantAdmin, Role::kEditor, Role::kReader, Role::kDevice};
}

const char* roleName(Role r) {
  switch (r) {
    case Role::kPlatformAdmin:
      return "platform-admin";
    case Role::kTenantAdmin:
      return "tenant-admin";
    case Role::kEditor:
      return "editor";
    case Role::kReader:
      return "reader";
    case Role::kDevice:
      return "device";
  }
  return "";
}

std::optional<Role> roleFromName(std::string_view name) {
  for (Role r : kAllRoles) {
    if (name == roleName(r)) return r;
  }
  return std::nullopt;
}

std::string RoleSet::toString() const {
  std::string out;
  for (Role r : kAllRoles) {
    if (!has(r)) continue;
    if (!out.empty()) out += ' ';
    out += roleName(r);
  }
  return out;
}

}  // namespace allmende::auth
