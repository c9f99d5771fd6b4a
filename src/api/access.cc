#include "api/access.h"

#include <algorithm>
#include <cctype>

#include "api/call.h"
#include "api/problem.h"
#include "api/public_read.h"
#include "api/rate_limiter.h"
#include "auth/api_key.h"

namespace allmende::api {

namespace {

using auth::Principal;
using auth::Role;

constexpr std::string_view kRealm = "Bearer realm=\"allmende\"";

Status forbidden(std::string detail) { return Status(ErrorType::kForbidden, std::move(detail)); }
Status unauthorized(std::string detail) { return Status(ErrorType::kUnauthorized, std::move(detail)); }

Access effective(Access a, const std::string& method) {
  if (a != Access::kByMethod) return a;
  if (method == "GET" || method == "HEAD") return Access::kRead;
  if (method == "DELETE") return Access::kEdit;
  return Access::kWrite;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// The entity ids a write names: the {entityId} path segment, else the "id" of the body's entity
// or of each entity of a batch. False when they cannot be told (then a device is refused).
bool writtenEntityIds(Call& call, std::vector<std::string>& ids) {
  if (const std::string* id = call.pathParamIf("entityId")) {
    ids.push_back(*id);
    return true;
  }
  JsonDocument body;
  if (!parseJson(call.request().body, body).isOk()) return false;
  auto take = [&ids](const Json& e) {
    if (!e.IsObject() || findMember(e, "@id")) return false;  // no JSON-LD keyword aliasing of the id
    const Json* id = findMember(e, "id");
    if (!id || !id->IsString()) return false;
    ids.emplace_back(asView(*id));
    return true;
  };
  if (body.IsArray()) {
    for (const auto& e : body.GetArray()) {
      if (!take(e)) return false;
    }
    return !ids.empty();
  }
  return take(body);
}

// A device writes (never deletes) entities whose id starts with its prefix, and nothing else.
Status deviceMayWrite(const Principal& p, Call& call) {
  const std::string& path = call.request().path;
  // IoT ingestion: api/ingest.cc checks the device's entity against the key's prefix.
  if (startsWith(path, "/ingest/v1/") && call.request().method == "POST") return Status::ok();
  bool entityWrite = startsWith(path, "/ngsi-ld/v1/entities") || startsWith(path, "/ngsi-ld/v1/entityOperations/");
  if (!entityWrite || call.request().method == "DELETE" || p.entityPrefix.empty()) {
    return forbidden("a device key may only write its own entities");
  }
  std::vector<std::string> ids;
  if (!writtenEntityIds(call, ids)) return forbidden("a device write must name its entities by \"id\"");
  for (const auto& id : ids) {
    if (!startsWith(id, p.entityPrefix)) return forbidden("a device key may not write entity " + id.substr(0, 200));
  }
  return Status::ok();
}

}  // namespace

// The credentials a request carries, each looked up once ("" = none).
struct AccessControl::Credentials {
  std::string_view key;            // X-API-Key
  std::string_view authorization;  // Authorization
  explicit Credentials(const http::Request& r)
      : key(trimmed(r.header("x-api-key"))), authorization(trimmed(r.header("authorization"))) {}
  bool any() const { return !key.empty() || !authorization.empty(); }
};

namespace {

// The operations that may add entities to a tenant.
bool createsEntities(const http::Request& r) {
  return r.method == "POST" && (r.path == "/ngsi-ld/v1/entities" || r.path == "/ngsi-ld/v1/entityOperations/create" ||
                                r.path == "/ngsi-ld/v1/entityOperations/upsert");
}

// The operations that add data (entity state or history) to a tenant: every write of the entity,
// batch, temporal and ingestion APIs but deletes (which free space; NGSI-LD 5.6.16 and 5.9.4).
bool addsData(const http::Request& r) {
  if (r.method == "GET" || r.method == "HEAD" || r.method == "DELETE") return false;
  const std::string& p = r.path;
  if (startsWith(p, "/ngsi-ld/v1/entityOperations/")) {
    return p != "/ngsi-ld/v1/entityOperations/delete" && p != "/ngsi-ld/v1/entityOperations/query";
  }
  return startsWith(p, "/ngsi-ld/v1/entities") || startsWith(p, "/ngsi-ld/v1/temporal/entities") ||
         startsWith(p, "/ingest/v1/");
}

}  // namespace

std::string targetTenant(const Call& call) {
  if (const std::string* t = call.pathParamIf("tenant")) return *t;
  std::string_view h = call.request().header("ngsild-tenant");
  if (h.empty()) h = call.request().header("ngsi-ld-tenant");
  return std::string(h);
}

AccessControl::AccessControl(AccessOptions options, store::TenantRegistry& registry,
                             std::unique_ptr<auth::JwtVerifier> jwt, RateLimiter* limiter)
    : options_(std::move(options)), registry_(registry), jwt_(std::move(jwt)), limiter_(limiter) {}

AccessControl::~AccessControl() = default;

Result<Principal> AccessControl::authenticate(const Credentials& credentials, Micros now) {
  std::string_view key = credentials.key;
  if (key.empty() && !credentials.authorization.empty()) {
    std::optional<std::string_view> bearer = bearerToken(credentials.authorization);
    if (!bearer) return unauthorized("use 'Authorization: Bearer <token>' or the X-API-Key header");
    std::string_view token = *bearer;
    if (!auth::looksLikeApiKey(token)) {
      if (!jwt_) return unauthorized("JWT bearer tokens are not configured on this server");
      return jwt_->verify(token);
    }
    key = token;
  }
  if (key.empty()) return unauthorized("credentials required: an API key (X-API-Key) or a Bearer token");
  return keyPrincipal(key, now);
}

Result<Principal> AccessControl::keyPrincipal(std::string_view key, Micros now) {
  const uint64_t generation = registry_.generation();  // before the lookup: a later change invalidates
  {
    std::shared_lock<std::shared_mutex> lock(knownKeysMutex_);
    auto it = knownKeys_.find(key);
    if (it != knownKeys_.end() && it->second.generation == generation &&
        (it->second.expires == 0 || it->second.expires > now)) {
      return it->second.principal;
    }
  }
  std::string hash = auth::hashApiKey(key);
  Principal p;
  p.method = "api-key";
  Micros expires = 0;
  if (!options_.adminKeyHash.empty() && auth::constantTimeEquals(hash, options_.adminKeyHash)) {
    p.subject = "admin-key";
    p.roles.add(Role::kPlatformAdmin);
  } else {
    auto record = registry_.findKeyByHash(hash);
    if (!record) return unauthorized("unknown API key");
    if (record->revoked) return unauthorized("the API key has been revoked");
    if (record->expires != 0 && record->expires <= now) return unauthorized("the API key has expired");
    auto role = auth::roleFromName(record->role);
    if (!role) return unauthorized("the API key has an unknown role");
    p.subject = record->id;
    p.tenant = record->tenant;
    p.roles.add(*role);
    p.entityPrefix = record->entityPrefix;
    expires = record->expires;
  }
  std::unique_lock<std::shared_mutex> lock(knownKeysMutex_);
  if (knownKeys_.size() >= kKnownKeysKept) knownKeys_.clear();
  knownKeys_.insert_or_assign(std::string(key), KnownKey{p, generation, expires});
  return p;
}

Status AccessControl::authorize(Access access, const Principal& p, const std::string& tenant, Call& call) const {
  Access a = effective(access, call.request().method);
  if (a == Access::kOpen || p.roles.has(Role::kPlatformAdmin)) return Status::ok();
  if (a == Access::kPlatformAdmin) return forbidden("this operation needs the platform-admin role");
  if (p.tenant.empty() || tenant != p.tenant) {
    return forbidden("the credentials are not valid for tenant '" + tenant.substr(0, 64) + "'");
  }
  bool admin = p.roles.has(Role::kTenantAdmin);
  bool editor = admin || p.roles.has(Role::kEditor);
  switch (a) {
    case Access::kTenantAdmin:
      return admin ? Status::ok() : forbidden("this operation needs the tenant-admin role");
    case Access::kRead:
      return editor || p.roles.has(Role::kReader) ? Status::ok() : forbidden("this operation needs the reader role");
    case Access::kEdit:
      return editor ? Status::ok() : forbidden("this operation needs the editor role");
    case Access::kWrite:
      if (editor) return Status::ok();
      if (p.roles.has(Role::kDevice)) return deviceMayWrite(p, call);
      return forbidden("this operation needs the editor role");
    default:
      return forbidden("not allowed");
  }
}

std::optional<http::Response> AccessControl::guard(Access access, Call& call) {
  Access a = effective(access, call.request().method);
  if (a == Access::kOpen) return std::nullopt;
  const std::string tenant = targetTenant(call);
  if (!options_.authRequired) return checkQuotas(a, tenant, call);
  const Credentials credentials(call.request());
  if (a == Access::kRead && !credentials.any()) {
    // No credentials: the public data of the tenant, if the request is of the public form.
    auto record = tenant.empty() ? std::nullopt : registry_.findTenant(tenant);
    Status st = record ? admitPublicRead(call, *record) : Status(ErrorType::kForbidden, "no public data here");
    if (st.isOk()) {
      call.setPrincipal(auth::Principal{"anonymous", "none", tenant, {}, ""});
      return checkQuotas(a, tenant, call);
    }
    http::Response r =
        problemResponse(unauthorized("credentials required: an API key (X-API-Key) or a Bearer token; " + st.detail()));
    r.setHeader("WWW-Authenticate", std::string(kRealm));
    return r;
  }
  auto p = authenticate(credentials, call.now());
  if (!p) {
    http::Response r = problemResponse(p.status());
    if (p.status().type() == ErrorType::kUnauthorized) r.setHeader("WWW-Authenticate", std::string(kRealm));
    return r;
  }
  call.setPrincipal(std::move(p).value());  // also for the audit record of a refusal
  Status st = authorize(access, call.principal(), tenant, call);
  if (!st.isOk()) return problemResponse(st);
  return checkQuotas(a, tenant, call);
}

std::optional<http::Response> AccessControl::checkQuotas(Access a, const std::string& tenant, Call& call) {
  if (a != Access::kRead && a != Access::kWrite && a != Access::kEdit) return std::nullopt;
  auto state = tenant.empty() ? std::nullopt : registry_.tenantState(tenant);
  store::TenantQuotas quotas = state ? state->quotas : store::TenantQuotas{};
  // Only tenants that exist get a bucket: a header naming a new tenant at every request must not
  // grow the limiter without bound (the handler refuses or creates the tenant anyway).
  bool exists = tenant.empty() || state || call.services().store.tenantExists(tenant);
  if (limiter_ && exists) {
    int wait = limiter_->take(tenant, RateLimit{quotas.requestsPerSecond, quotas.burst});
    if (wait > 0) {
      http::Response r = problemResponse(Status(ErrorType::kTooManyRequests, "the tenant's request quota is used up"));
      r.setHeader("Retry-After", std::to_string(wait));
      return r;
    }
  }
  int64_t maxEntities = quotas.entities > 0 ? quotas.entities : options_.maxEntities;
  if (maxEntities > 0 && createsEntities(call.request()) &&
      !entityQuotaAllows(tenant, maxEntities, call.services().store, call.now(),
                         call.request().path != "/ngsi-ld/v1/entities")) {
    return problemResponse(Status(
        ErrorType::kForbidden, "the tenant's entity quota (" + std::to_string(maxEntities) + " entities) is reached"));
  }
  if ((options_.maxHistoryInstances > 0 || options_.maxStorageBytes > 0 || quotas.historyInstances > 0 ||
       quotas.storageBytes > 0) &&
      addsData(call.request())) {
    Status st = storageQuotaAllows(tenant, quotas, call.services().store, call.now());
    if (!st.isOk()) return problemResponse(st);
  }
  return std::nullopt;
}

Status AccessControl::admitMeasurement(const std::string& tenant, bool createsEntity, bool requestCounted,
                                       store::Store& store, Micros now) {
  auto state = tenant.empty() ? std::nullopt : registry_.tenantState(tenant);
  store::TenantQuotas quotas = state ? state->quotas : store::TenantQuotas{};
  if (!requestCounted && limiter_) {
    // A measurement counts as a request of the tenant, as an HTTP ingest call does.
    if (limiter_->take(tenant, RateLimit{quotas.requestsPerSecond, quotas.burst}) > 0) {
      return Status(ErrorType::kTooManyRequests, "the tenant's request quota is used up");
    }
  }
  int64_t maxEntities = quotas.entities > 0 ? quotas.entities : options_.maxEntities;
  if (maxEntities > 0 && createsEntity && !entityQuotaAllows(tenant, maxEntities, store, now, false)) {
    return Status(ErrorType::kForbidden,
                  "the tenant's entity quota (" + std::to_string(maxEntities) + " entities) is reached");
  }
  if (requestCounted) return Status::ok();
  return storageQuotaAllows(tenant, quotas, store, now);
}

Status AccessControl::storageQuotaAllows(const std::string& tenant, const store::TenantQuotas& quotas,
                                         store::Store& store, Micros now) {
  const int64_t maxHistory = quotas.historyInstances > 0 ? quotas.historyInstances : options_.maxHistoryInstances;
  const int64_t maxBytes = quotas.storageBytes > 0 ? quotas.storageBytes : options_.maxStorageBytes;
  if (maxHistory <= 0 && maxBytes <= 0) return Status::ok();
  store::TenantUsage u;
  bool fresh = false;
  {
    std::lock_guard<std::mutex> lock(countsMutex_);
    auto it = usage_.find(tenant);
    // A recent count will do while the tenant is far from its limits (below half); nearer, every
    // write counts again, so the limit is exact there.
    auto far = [](int64_t used, int64_t max) { return max <= 0 || used * 2 < max; };
    if (it != usage_.end() && now - it->second.at < kUsageMaxAgeMicros &&
        far(it->second.usage.historyInstances, maxHistory) && far(it->second.usage.storageBytes(), maxBytes)) {
      u = it->second.usage;
      fresh = true;
    }
  }
  if (!fresh) {
    // A count of the tenant's rows: at most once per kUsageMaxAgeMicros and tenant.
    auto counted = store.usage(tenant);
    if (!counted) return Status::ok();  // a store that cannot count has no such quota
    u = *counted;
    std::lock_guard<std::mutex> lock(countsMutex_);
    usage_[tenant] = Usage{u, now};
  }
  if (maxHistory > 0 && u.historyInstances >= maxHistory) {
    return Status(ErrorType::kForbidden, "the tenant's history quota (" + std::to_string(maxHistory) +
                                             " attribute instances) is reached: " + std::to_string(u.historyInstances) +
                                             " are stored; delete history (temporal API) or ask for a larger quota");
  }
  if (maxBytes > 0 && u.storageBytes() >= maxBytes) {
    return Status(ErrorType::kForbidden,
                  "the tenant's storage quota (" + std::to_string(maxBytes) +
                      " bytes) is reached: " + std::to_string(u.storageBytes()) +
                      " bytes are stored; delete entities or history, or ask for a larger quota");
  }
  return Status::ok();
}

bool AccessControl::entityQuotaAllows(const std::string& tenant, int64_t maxEntities, store::Store& store, Micros now,
                                      bool batch) {
  {
    // Far from the limit a recent count plus the creates admitted since will do; near it, and
    // for batches (up to --max-batch entities each), count again.
    std::lock_guard<std::mutex> lock(countsMutex_);
    auto it = counts_.find(tenant);
    if (!batch && it != counts_.end() && now - it->second.at < 1000000 &&
        it->second.entities + it->second.admitted + 1 < maxEntities) {
      ++it->second.admitted;
      return true;
    }
  }
  store::EntityQuery all;
  all.selectionExact = true;
  all.limit = 0;
  all.count = true;
  auto r = store.queryEntities(tenant, all);
  int64_t n = r ? static_cast<int64_t>(r->total.value_or(0)) : 0;
  std::lock_guard<std::mutex> lock(countsMutex_);
  counts_[tenant] = Count{n, 1, now};
  return n < maxEntities;
}

}  // namespace allmende::api
