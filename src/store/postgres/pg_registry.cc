// The tenant registry (store/tenant_registry.h) and the audit log (store/audit_log.h) on
// PostgreSQL. The registry answers from memory like the SQLite one; every change bumps
// `registry_version` in its transaction, and the copy in memory is reloaded when the version
// moved (checked at most once per kRegistryRefreshMillis), so changes of another server or of
// the `allmende tenant` CLI are seen within a second.
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_schema.h"
#include "store/postgres/pg_store.h"

namespace allmende::store {

namespace {

using postgres::Connection;
using postgres::ConnectionPool;
using postgres::Params;
using postgres::PgResult;

constexpr const char* kTenantColumns =
    "name, ags, display, area, contact, status, template, checklist, settings, created, quota_rps, quota_burst, "
    "quota_entities, quota_history, quota_bytes";
constexpr const char* kKeyColumns = "id, hash, tenant, role, name, prefix, created, expires, revoked";
constexpr const char* kUniqueViolation = "23505";

int64_t steadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

TenantRecord tenantFromRow(const PgResult& r, int i) {
  TenantRecord t;
  t.name = r.text(i, 0);
  t.ags = r.text(i, 1);
  t.displayName = r.text(i, 2);
  t.area = r.text(i, 3);
  t.contact = r.text(i, 4);
  t.status = r.text(i, 5);
  t.templateName = r.text(i, 6);
  t.checklist = r.text(i, 7);
  t.settings = r.text(i, 8);
  t.created = r.int64(i, 9);
  t.quotas.requestsPerSecond = r.dbl(i, 10);
  t.quotas.burst = r.dbl(i, 11);
  t.quotas.entities = r.int64(i, 12);
  t.quotas.historyInstances = r.int64(i, 13);
  t.quotas.storageBytes = r.int64(i, 14);
  return t;
}

void addTenant(Params& p, const TenantRecord& t) {
  p.add(t.name);
  p.add(t.ags);
  p.add(t.displayName);
  p.add(t.area);
  p.add(t.contact);
  p.add(t.status);
  p.add(t.templateName);
  p.add(t.checklist);
  p.add(t.settings);
  p.add(static_cast<int64_t>(t.created));
  p.add(t.quotas.requestsPerSecond);
  p.add(t.quotas.burst);
  p.add(static_cast<int64_t>(t.quotas.entities));
  p.add(static_cast<int64_t>(t.quotas.historyInstances));
  p.add(static_cast<int64_t>(t.quotas.storageBytes));
}

ApiKeyRecord keyFromRow(const PgResult& r, int i) {
  ApiKeyRecord k;
  k.id = r.text(i, 0);
  k.hash = r.text(i, 1);
  k.tenant = r.text(i, 2);
  k.role = r.text(i, 3);
  k.name = r.text(i, 4);
  k.entityPrefix = r.text(i, 5);
  k.created = r.int64(i, 6);
  k.expires = r.int64(i, 7);
  k.revoked = r.text(i, 8) == "t";
  return k;
}

class PgTenantRegistry final : public TenantRegistry {
 public:
  explicit PgTenantRegistry(const postgres::PgTarget& t) : pool_(t.conninfo, t.schema, 2) {}

  Status load() { return reload(); }

  Result<std::vector<TenantRecord>> listTenants() override {
    refreshIfChanged();
    std::shared_lock<std::shared_mutex> lock(cacheMutex_);
    std::vector<TenantRecord> out;
    for (const auto& [_, t] : tenants_) out.push_back(t);
    return out;
  }

  std::optional<TenantState> tenantState(const std::string& name) override {
    refreshIfChanged();
    std::shared_lock<std::shared_mutex> lock(cacheMutex_);
    auto it = states_.find(name);
    if (it == states_.end()) return std::nullopt;
    return it->second;
  }

  std::optional<TenantRecord> findTenant(const std::string& name) override {
    refreshIfChanged();
    std::shared_lock<std::shared_mutex> lock(cacheMutex_);
    auto it = tenants_.find(name);
    if (it == tenants_.end()) return std::nullopt;
    return it->second;
  }

  Status createTenant(const TenantRecord& t) override {
    Params p;
    addTenant(p, t);
    return change("INSERT INTO tenant_registry (" + std::string(kTenantColumns) +
                      ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                  p, alreadyExists("a tenant named '" + t.name + "' or with AGS " + t.ags + " exists already"),
                  Status::ok());
  }

  Status updateTenant(const TenantRecord& t) override {
    Params p;
    addTenant(p, t);
    return change(
        "UPDATE tenant_registry SET ags = $2, display = $3, area = $4, contact = $5, status = $6, template = $7, "
        "checklist = $8, settings = $9, created = $10, quota_rps = $11, quota_burst = $12, quota_entities = $13, "
        "quota_history = $14, quota_bytes = $15 WHERE name = $1",
        p, alreadyExists("AGS " + t.ags + " belongs to another tenant"), notFound("no tenant named '" + t.name + "'"));
  }

  Status deleteTenant(const std::string& name) override {
    Params p;
    p.add(name);
    return change("WITH k AS (DELETE FROM api_keys WHERE tenant = $1) DELETE FROM tenant_registry WHERE name = $1", p,
                  Status::ok(), notFound("no tenant named '" + name + "'"));
  }

  Status addKey(const ApiKeyRecord& k) override {
    Params p;
    p.add(k.id);
    p.add(k.hash);
    p.add(k.tenant);
    p.add(k.role);
    p.add(k.name);
    p.add(k.entityPrefix);
    p.add(static_cast<int64_t>(k.created));
    p.add(static_cast<int64_t>(k.expires));
    p.add(std::string_view(k.revoked ? "true" : "false"));
    return change("INSERT INTO api_keys (" + std::string(kKeyColumns) + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                  p, alreadyExists("API key id " + k.id + " exists already"), Status::ok());
  }

  std::optional<ApiKeyRecord> findKeyByHash(const std::string& hash) override {
    refreshIfChanged();
    std::shared_lock<std::shared_mutex> lock(cacheMutex_);
    auto it = keysByHash_.find(hash);
    if (it == keysByHash_.end()) return std::nullopt;
    return it->second;
  }

  Result<std::vector<ApiKeyRecord>> listKeys(const std::string& tenant) override {
    auto keys = listKeysWithHashes(tenant);
    if (keys) {
      for (auto& k : *keys) k.hash.clear();
    }
    return keys;
  }

  Result<std::vector<ApiKeyRecord>> listKeysWithHashes(const std::string& tenant) override {
    refreshIfChanged();
    std::shared_lock<std::shared_mutex> lock(cacheMutex_);
    std::vector<ApiKeyRecord> out;
    for (const auto& [_, k] : keysByHash_) {
      if (k.tenant == tenant) out.push_back(k);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.created < b.created; });
    return out;
  }

  uint64_t generation() override {
    refreshIfChanged();
    return generation_.load(std::memory_order_acquire);
  }

  Status revokeKey(const std::string& tenant, const std::string& id) override {
    Params p;
    p.add(id);
    p.add(tenant);
    return change("UPDATE api_keys SET revoked = true WHERE id = $1 AND tenant = $2", p, Status::ok(),
                  notFound("no API key '" + id + "' in this tenant"));
  }

 private:
  // Runs one change with the version bump in one transaction, then reloads. `duplicate` is the
  // answer to a unique violation, `none` the answer when no row was touched (ok: not checked).
  Status change(const std::string& sql, const Params& p, Status duplicate, Status none) {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    Connection& c = **lease;
    ALLMENDE_RETURN_IF_ERROR(c.exec("BEGIN"));
    auto r = c.run(sql, p);
    if (!r) {
      c.exec("ROLLBACK");
      return c.lastState() == kUniqueViolation ? duplicate : r.status();
    }
    if (!none.isOk() && r->affected() == 0) {
      c.exec("ROLLBACK");
      return none;
    }
    auto v = c.run("UPDATE registry_version SET v = v + 1");
    Status st = v ? c.exec("COMMIT") : v.status();
    if (!st.isOk()) {
      if (c.healthy() && c.inTransaction()) c.exec("ROLLBACK");
      return st;
    }
    return reload();
  }

  void refreshIfChanged() {
    int64_t now = steadyMillis();
    int64_t last = lastCheck_.load(std::memory_order_relaxed);
    if (now - last < kRegistryRefreshMillis) return;
    if (!lastCheck_.compare_exchange_strong(last, now)) return;  // another thread checks
    auto lease = pool_.lease();
    if (!lease) return;
    auto v = (*lease)->run("SELECT v FROM registry_version");
    if (v && v->rows() == 1 && v->int64(0, 0) != version_.load()) reload();
  }

  // Re-reads both tables (one snapshot) into memory.
  Status reload() {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    Connection& c = **lease;
    ALLMENDE_RETURN_IF_ERROR(c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    auto v = c.run("SELECT v FROM registry_version");
    auto t = c.run("SELECT " + std::string(kTenantColumns) + " FROM tenant_registry");
    auto k = c.run("SELECT " + std::string(kKeyColumns) + " FROM api_keys");
    c.exec("COMMIT");
    for (const auto* r : {&v, &t, &k}) {
      if (!*r) return r->status();
    }
    std::map<std::string, TenantRecord> tenants;
    std::unordered_map<std::string, TenantState> states;
    std::unordered_map<std::string, ApiKeyRecord> keys;
    for (int i = 0; i < t->rows(); ++i) {
      TenantRecord r = tenantFromRow(*t, i);
      states.emplace(r.name, TenantState{r.status == "suspended", r.quotas});
      tenants.emplace(r.name, std::move(r));
    }
    for (int i = 0; i < k->rows(); ++i) {
      ApiKeyRecord r = keyFromRow(*k, i);
      keys.emplace(r.hash, std::move(r));
    }
    std::unique_lock<std::shared_mutex> lock(cacheMutex_);
    tenants_ = std::move(tenants);
    states_ = std::move(states);
    keysByHash_ = std::move(keys);
    version_ = v->rows() ? v->int64(0, 0) : 0;
    generation_.fetch_add(1, std::memory_order_release);
    return Status::ok();
  }

  ConnectionPool pool_;
  std::atomic<int64_t> lastCheck_{0};
  std::atomic<int64_t> version_{-1};
  std::atomic<uint64_t> generation_{0};  // counts reloads (generation())
  std::shared_mutex cacheMutex_;
  std::map<std::string, TenantRecord> tenants_;               // GUARDED_BY(cacheMutex_)
  std::unordered_map<std::string, TenantState> states_;       // GUARDED_BY(cacheMutex_)
  std::unordered_map<std::string, ApiKeyRecord> keysByHash_;  // GUARDED_BY(cacheMutex_)
};

// Each append is its own transaction: PostgreSQL commits concurrent ones together.
class PgAuditLog final : public AuditLog {
 public:
  explicit PgAuditLog(const postgres::PgTarget& t) : pool_(t.conninfo, t.schema, 4) {}

  Status append(AuditRecord record) override {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    Params p;
    p.add(static_cast<int64_t>(record.at));
    p.add(record.tenant);
    p.add(record.subject);
    p.add(record.auth);
    p.add(record.roles);
    p.add(record.action);
    p.add(record.target);
    p.add(static_cast<int64_t>(record.status));
    p.add(record.remote);
    auto r = (*lease)->run(
        "INSERT INTO audit_log (at, tenant, subject, auth, roles, action, target, status, remote) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        p);
    return r ? Status::ok() : r.status();
  }

  // On PostgreSQL the record is not journaled with the change (docs/postgres.md): the journal
  // has no rows, and a record posted is appended like any other.
  void post(AuditRecord record) override { (void)append(std::move(record)); }
  Status journal(JournalEntry& entry) override {
    (void)entry;
    return Status::ok();
  }

  Result<std::vector<AuditRecord>> query(const std::string& tenant, const AuditQuery& q) override {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    Params p;
    std::string sql =
        "SELECT seq, at, tenant, subject, auth, roles, action, target, status, remote FROM audit_log "
        "WHERE tenant = " +
        p.add(tenant) + " AND seq > " + p.add(q.afterSeq);
    if (!q.subject.empty()) sql += " AND subject = " + p.add(q.subject);
    if (!q.action.empty()) sql += " AND action = " + p.add(q.action);
    if (!q.targetPrefix.empty()) sql += " AND starts_with(target, " + p.add(q.targetPrefix) + ")";
    if (q.status >= 0) sql += " AND status = " + p.add(static_cast<int64_t>(q.status));
    if (q.since != 0) sql += " AND at >= " + p.add(static_cast<int64_t>(q.since));
    if (q.until != 0) sql += " AND at < " + p.add(static_cast<int64_t>(q.until));
    auto r = (*lease)->run(sql + " ORDER BY seq LIMIT " + p.add(static_cast<int64_t>(q.limit)), p);
    if (!r) return r.status();
    std::vector<AuditRecord> out;
    for (int i = 0; i < r->rows(); ++i) {
      AuditRecord a;
      a.seq = r->int64(i, 0);
      a.at = r->int64(i, 1);
      a.tenant = r->text(i, 2);
      a.subject = r->text(i, 3);
      a.auth = r->text(i, 4);
      a.roles = r->text(i, 5);
      a.action = r->text(i, 6);
      a.target = r->text(i, 7);
      a.status = static_cast<int>(r->int64(i, 8));
      a.remote = r->text(i, 9);
      out.push_back(std::move(a));
    }
    return out;
  }

 private:
  ConnectionPool pool_;
};

}  // namespace

Result<std::unique_ptr<TenantRegistry>> openPostgresTenantRegistry(const std::string& url) {
  auto target = postgres::prepareDatabase(url);
  if (!target) return target.status();
  auto registry = std::make_unique<PgTenantRegistry>(*target);
  ALLMENDE_RETURN_IF_ERROR(registry->load());
  return std::unique_ptr<TenantRegistry>(std::move(registry));
}

Result<std::unique_ptr<AuditLog>> openPostgresAuditLog(const std::string& url) {
  auto target = postgres::prepareDatabase(url);
  if (!target) return target.status();
  return std::unique_ptr<AuditLog>(std::make_unique<PgAuditLog>(*target));
}

}  // namespace allmende::store
