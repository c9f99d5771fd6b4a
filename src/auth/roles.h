// Who a request acts as (Principal) and the roles of Allmende's access model. The rules that
// decide what a principal may do are in api/access.cc (one place).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace allmende::auth {

enum class Role : uint8_t {
  kPlatformAdmin = 1,  // every tenant, tenant lifecycle
  kTenantAdmin = 2,    // everything within its tenant: data, keys, audit, roll-in state
  kEditor = 4,         // read and write data of its tenant
  kReader = 8,         // read data of its tenant
  kDevice = 16,        // write (not delete) the entities whose id starts with its prefix
};

// "platform-admin", "tenant-admin", "editor", "reader", "device".
const char* roleName(Role r);
std::optional<Role> roleFromName(std::string_view name);

// A set of roles as a bit mask.
class RoleSet {
 public:
  RoleSet() = default;
  explicit RoleSet(Role r) : bits_(static_cast<uint8_t>(r)) {}
  void add(Role r) { bits_ |= static_cast<uint8_t>(r); }
  bool has(Role r) const { return (bits_ & static_cast<uint8_t>(r)) != 0; }
  bool empty() const { return bits_ == 0; }
  // "editor reader" (space separated, in the order of Role).
  std::string toString() const;

 private:
  uint8_t bits_ = 0;
};

// The authenticated caller of a request.
struct Principal {
  std::string subject;  // API key id, JWT `sub`, "admin-key" or "anonymous"
  std::string method;   // "api-key", "jwt", "admin-key", "none"
  std::string tenant;   // the tenant it acts for; "" with platform-admin (any tenant)
  RoleSet roles;
  std::string entityPrefix;  // device: ids of the entities it may write start with this
};

}  // namespace allmende::auth
