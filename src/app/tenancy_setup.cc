#include "app/tenancy_setup.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "auth/api_key.h"
#include "ld/context_loader.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/audit_log.h"
#include "store/sqlite/tenant_registry.h"

namespace allmende::app {

namespace {

// The bootstrap platform-admin key: the first line of the file, else $ALLMENDE_ADMIN_KEY.
Result<std::string> bootstrapKey(const TenancyOptions& o) {
  std::string key;
  if (!o.adminKeyFile.empty()) {
    std::ifstream in(o.adminKeyFile);
    if (!in) return invalidRequest("cannot read --admin-key-file " + o.adminKeyFile);
    std::getline(in, key);
    while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
  } else if (const char* env = std::getenv("ALLMENDE_ADMIN_KEY")) {
    key = env;
  }
  if (!key.empty() && key.size() < 32) return invalidRequest("the platform-admin key must have at least 32 characters");
  return key;
}

Result<std::unique_ptr<auth::JwtVerifier>> jwtVerifier(const TenancyOptions& o) {
  if (o.jwksFile.empty() && o.jwksUrl.empty()) return std::unique_ptr<auth::JwtVerifier>();
  auth::JwtOptions jo;
  jo.jwksFile = o.jwksFile;
  jo.jwksUrl = o.jwksUrl;
  jo.issuer = o.jwtIssuer;
  jo.audience = o.jwtAudience;
  jo.tenantClaim = o.jwtTenantClaim;
  jo.rolesClaim = o.jwtRolesClaim;
  jo.entityPrefixClaim = o.jwtEntityPrefixClaim;
  jo.jwksCacheSeconds = o.jwksCacheSeconds;
  std::shared_ptr<ld::ContextLoader> http = ld::makeHttpContextLoader();
  return auth::JwtVerifier::create(jo, systemClock(), [http](const std::string& url) { return http->load(url); });
}

}  // namespace

Tenancy::~Tenancy() {
  if (serverLock >= 0) ::close(serverLock);
}

int lockDataDirectory(const std::string& dataDir) {
  std::string path = (std::filesystem::path(dataDir) / "server.lock").string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string defaultTemplatesDir() {
#ifdef ALLMENDE_TEMPLATES_DIR
  return ALLMENDE_TEMPLATES_DIR;
#else
  return "templates";
#endif
}

void addTenancyFlags(CLI::App& s, TenancyOptions& o) {
  s.add_flag("--production", o.production, "strict tenants and authentication (= --strict-tenants --auth)");
  s.add_flag("--strict-tenants", o.strictTenants, "an unregistered NGSILD-Tenant is NonexistentTenant");
  s.add_flag("--auth", o.authRequired, "require an API key or JWT on every request but /health");
  s.add_option("--admin-key-file", o.adminKeyFile, "file holding the bootstrap platform-admin key");
  s.add_option("--jwks-file", o.jwksFile, "JWKS file with the keys of trusted JWT issuers");
  s.add_option("--jwks-url", o.jwksUrl, "URL of the JWKS (fetched, cached --jwks-cache seconds)");
  s.add_option("--jwks-cache", o.jwksCacheSeconds, "lifetime of a fetched JWKS in seconds")->capture_default_str();
  s.add_option("--jwt-issuer", o.jwtIssuer, "required iss of JWTs");
  s.add_option("--jwt-audience", o.jwtAudience, "required aud of JWTs");
  s.add_option("--jwt-tenant-claim", o.jwtTenantClaim, "claim (dotted path) naming the tenant")->capture_default_str();
  s.add_option("--jwt-roles-claim", o.jwtRolesClaim, "claim (dotted path) listing the roles")->capture_default_str();
  s.add_option("--jwt-entity-prefix-claim", o.jwtEntityPrefixClaim, "claim with a device's entity-id prefix")
      ->capture_default_str();
  s.add_option("--quota-rps", o.quotaRps, "requests per second per tenant (0 = unlimited)")->capture_default_str();
  s.add_option("--quota-burst", o.quotaBurst, "request burst per tenant (0 = 2 x --quota-rps)")->capture_default_str();
  s.add_option("--quota-entities", o.quotaEntities, "entities per tenant (0 = unlimited)")->capture_default_str();
  s.add_option("--quota-history", o.quotaHistory, "history instances per tenant (0 = unlimited)")
      ->capture_default_str();
  s.add_option("--quota-storage-bytes", o.quotaStorage, "bytes of entities and history per tenant (0 = unlimited)")
      ->capture_default_str();
  s.add_option("--templates", o.templatesDir, "directory of roll-in templates");
  s.add_flag("--audit", o.audit, "keep the audit log of writes and admin calls (on with --production)");
}

Result<std::unique_ptr<Tenancy>> setupTenancy(const TenancyOptions& o, const std::string& dbPath,
                                              api::Services& services) {
  auto t = std::make_unique<Tenancy>();
  t->serverLock = lockDataDirectory(std::filesystem::path(dbPath).parent_path().string());
  if (t->serverLock < 0) {
    spdlog::warn("another process holds {}/server.lock: is a second server running on this data directory?",
                 std::filesystem::path(dbPath).parent_path().string());
  }
  const bool postgres = store::isPostgresStore(o.store);
  auto registry = postgres ? store::openPostgresTenantRegistry(o.store) : store::openSqliteTenantRegistry(dbPath);
  if (!registry) return registry.status();
  t->registry = std::move(registry).value();
  services.tenants = t->registry.get();
  services.strictTenants = o.production || o.strictTenants;
  services.templatesDir = o.templatesDir.empty() ? defaultTemplatesDir() : o.templatesDir;
  services.exportDir = (std::filesystem::path(dbPath).parent_path() / "exports").string();
  bool auth = o.production || o.authRequired;
  if (o.production || o.audit) {
    // A file of its own: in the store's file its commits would take turns with the entity
    // writer's for SQLite's one write lock (measured: single creates at a third of the rate).
    // The journal in the store's file keeps the record of a committed change through a crash
    // between the two commits (store/audit_journal.h).
    auto audit = postgres ? store::openPostgresAuditLog(o.store)
                          : store::openSqliteAuditLog((std::filesystem::path(dbPath).parent_path() / "audit.db").string(), dbPath);
    if (!audit) return audit.status();
    t->audit = std::move(audit).value();
    services.audit = t->audit.get();
  }
  bool strict = services.strictTenants;
  // Without any of these the API stays as open and as fast as without tenancy (zero config).
  if (!auth && !strict && o.quotaRps <= 0 && o.quotaEntities <= 0 && o.quotaHistory <= 0 && o.quotaStorage <= 0) {
    return t;
  }
  // Per-tenant request quotas (templates, admin API) apply even when the platform has none.
  t->limiter = std::make_unique<api::RateLimiter>(
      services.clock, api::RateLimit{o.quotaRps, o.quotaBurst > 0 ? o.quotaBurst : 2 * o.quotaRps});
  auto key = bootstrapKey(o);
  if (!key) return key.status();
  auto jwt = jwtVerifier(o);
  if (!jwt) return jwt.status();
  api::AccessOptions ao;
  ao.authRequired = auth;
  if (!key->empty()) ao.adminKeyHash = auth::hashApiKey(*key);
  ao.maxEntities = o.quotaEntities;
  ao.maxHistoryInstances = o.quotaHistory;
  ao.maxStorageBytes = o.quotaStorage;
  if (auth && key->empty()) {
    spdlog::warn(
        "authentication is on but no bootstrap platform-admin key is given (--admin-key-file or "
        "ALLMENDE_ADMIN_KEY): only keys made with `allmende key create` can administer");
  }
  t->access = std::make_unique<api::AccessControl>(ao, *t->registry, std::move(jwt).value(), t->limiter.get());
  services.access = t->access.get();
  return t;
}

}  // namespace allmende::app
