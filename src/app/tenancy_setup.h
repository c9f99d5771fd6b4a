// Wiring of tenancy and access control for `allmende serve`, and the `allmende tenant` /
// `allmende key` commands (tenant_cli.cc). Flags are documented in docs/configuration.md.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "api/access.h"
#include "api/rate_limiter.h"
#include "api/services.h"
#include "store/audit_log.h"
#include "store/tenant_registry.h"

namespace allmende::app {

struct TenancyOptions {
  bool production = false;     // = strictTenants + authRequired
  bool strictTenants = false;  // unknown NGSILD-Tenant -> NonexistentTenant
  bool authRequired = false;   // every request but /health needs credentials
  std::string adminKeyFile;    // bootstrap platform-admin key (else env ALLMENDE_ADMIN_KEY)
  std::string jwksFile, jwksUrl, jwtIssuer, jwtAudience;
  std::string jwtTenantClaim = "tenant", jwtRolesClaim = "roles", jwtEntityPrefixClaim = "entity_prefix";
  int jwksCacheSeconds = 300;
  double quotaRps = 0;        // requests per second per tenant, 0 = unlimited
  double quotaBurst = 0;      // bucket size, 0 = 2 x quotaRps
  int64_t quotaEntities = 0;  // entities per tenant, 0 = unlimited
  int64_t quotaHistory = 0;   // history instances per tenant, 0 = unlimited
  int64_t quotaStorage = 0;   // storage bytes per tenant, 0 = unlimited
  std::string templatesDir;   // "" = the built-in default (ALLMENDE_TEMPLATES_DIR)
  bool audit = false;         // audit log of writes and admin calls (on with --production)
  std::string store;          // `serve --store`: with postgres://..., registry and audit log live there
};

// What serve() keeps alive while it runs.
struct Tenancy {
  std::unique_ptr<store::TenantRegistry> registry;
  std::unique_ptr<api::RateLimiter> limiter;
  std::unique_ptr<api::AccessControl> access;
  std::unique_ptr<store::AuditLog> audit;
  int serverLock = -1;  // DATA/server.lock, held while the server runs
  ~Tenancy();
};

// Takes the advisory lock DATA/server.lock (flock): the server holds it while it runs, so that
// CLI commands that must not run next to it (tenant import) can tell. -1 when another process
// holds it.
int lockDataDirectory(const std::string& dataDir);

void addTenancyFlags(CLI::App& serve, TenancyOptions& o);
// Opens the registry next to the store (`dbPath`) and sets up access control; fills the tenancy
// members of `services`. Fails on a missing key file, an unusable JWKS, ...
Result<std::unique_ptr<Tenancy>> setupTenancy(const TenancyOptions& o, const std::string& dbPath,
                                              api::Services& services);

std::string defaultTemplatesDir();

}  // namespace allmende::app
