// Access control of the HTTP API: the one place that decides whether a request may run.
//
// Every route of the route table (router.cc) names an access class; the router calls
// AccessControl::guard before the handler: authenticate (API key or Bearer JWT -> Principal),
// authorize the principal's roles and tenant against the route's class and the request's
// tenant, then the tenant's request quota. The rules are written down in docs/security.md.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "auth/jwt.h"
#include "auth/roles.h"
#include "http/message.h"
#include "store/store.h"
#include "store/tenant_registry.h"

namespace allmende::api {

class Call;
class RateLimiter;

enum class Access : uint8_t {
  kByMethod,       // the default of a route: GET/HEAD -> kRead, DELETE -> kEdit, others -> kWrite
  kOpen,           // anyone, no credentials (health)
  kRead,           // reader and above of the tenant
  kWrite,          // editor and above; a device for its own entities (not deletes)
  kEdit,           // editor and above (deletes, @context management): never a device
  kTenantAdmin,    // tenant-admin of the tenant in the path ({tenant}) or header, platform-admin
  kPlatformAdmin,  // platform-admin only
};

struct AccessOptions {
  // false: no authentication, every request is allowed (the zero-config embedded default).
  bool authRequired = false;
  // Hex SHA-256 of the bootstrap platform-admin key ("" = none), see docs/security.md.
  std::string adminKeyHash;
  // Entities a tenant may hold unless its own quota says otherwise (0 = unlimited). A soft
  // limit: creates are refused once the count has reached it (exact near the limit and for
  // batches; concurrent creates may overshoot by their number).
  int64_t maxEntities = 0;
  // History instances and storage bytes (store::TenantUsage) a tenant may hold unless its own
  // quota says otherwise (0 = unlimited). Writes that add data are refused once the usage has
  // reached them; it is counted at most kUsageMaxAgeMicros ago while below half a limit, and for
  // every such write above (so a limit can be passed by one write, a batch, but not by a burst).
  int64_t maxHistoryInstances = 0;
  int64_t maxStorageBytes = 0;
};

class AccessControl {
 public:
  AccessControl(AccessOptions options, store::TenantRegistry& registry, std::unique_ptr<auth::JwtVerifier> jwt,
                RateLimiter* limiter);
  ~AccessControl();

  // nullopt when the request may run (the principal is then set on the call); otherwise the
  // answer: 401 (no or invalid credentials, with WWW-Authenticate), 403 (not allowed), 429 (quota,
  // with Retry-After).
  std::optional<http::Response> guard(Access access, Call& call);

  // The quotas of one ingested measurement (ingest/ingestor.h IngestQuotas): the request quota
  // (one token) and the history and storage quotas unless `requestCounted`, the entity quota
  // when it creates its entity. Ok, or Forbidden / TooManyRequests with the reason.
  Status admitMeasurement(const std::string& tenant, bool createsEntity, bool requestCounted, store::Store& store,
                          Micros now);

  bool authRequired() const { return options_.authRequired; }
  const AccessOptions& options() const { return options_; }
  RateLimiter* limiter() const { return limiter_; }

 private:
  struct Credentials;
  Result<auth::Principal> authenticate(const Credentials& credentials, Micros now);
  // The principal of an API key: from the cache of keys seen recently while the registry is
  // unchanged (its generation) and the key has not expired, else worked out (SHA-256, registry)
  // and remembered. Hashing and looking up cost more than the rest of a cached request.
  Result<auth::Principal> keyPrincipal(std::string_view key, Micros now);
  Status authorize(Access access, const auth::Principal& p, const std::string& tenant, Call& call) const;
  std::optional<http::Response> checkQuotas(Access access, const std::string& tenant, Call& call);
  // Whether one more create fits in the tenant's entity quota (`batch`: count again).
  bool entityQuotaAllows(const std::string& tenant, int64_t maxEntities, store::Store& store, Micros now, bool batch);
  // The history and storage quotas: an error status naming the quota that is reached.
  Status storageQuotaAllows(const std::string& tenant, const store::TenantQuotas& quotas, store::Store& store,
                            Micros now);

  AccessOptions options_;
  store::TenantRegistry& registry_;
  std::unique_ptr<auth::JwtVerifier> jwt_;
  RateLimiter* limiter_;  // may be null: no request quota
  struct Count {
    int64_t entities = 0;  // counted at `at`
    int64_t admitted = 0;  // single creates admitted since
    Micros at = 0;
  };
  std::mutex countsMutex_;
  std::unordered_map<std::string, Count> counts_;  // GUARDED_BY(countsMutex_)
  static constexpr Micros kUsageMaxAgeMicros = 1000000;
  struct Usage {
    store::TenantUsage usage;
    Micros at = 0;
  };
  std::unordered_map<std::string, Usage> usage_;  // GUARDED_BY(countsMutex_)
  struct KnownKey {
    auth::Principal principal;
    uint64_t generation = 0;  // of the registry when it was looked up
    Micros expires = 0;       // 0 = never
  };
  struct KeyTextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  static constexpr size_t kKnownKeysKept = 4096;  // then the cache starts over
  std::shared_mutex knownKeysMutex_;
  // By the key's text. GUARDED_BY(knownKeysMutex_)
  std::unordered_map<std::string, KnownKey, KeyTextHash, std::equal_to<>> knownKeys_;
};

// The tenant a request addresses: the {tenant} path segment of admin routes, else the
// NGSILD-Tenant header ("" = default tenant).
std::string targetTenant(const Call& call);

}  // namespace allmende::api
