#include "store/sqlite/tenant_registry.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "store/sqlite/sqlite_handles.h"

namespace allmende::store {

namespace {

using sqlite::Connection;
using sqlite::Statement;

constexpr std::string_view kRegistrySchema = R"sql(
CREATE TABLE IF NOT EXISTS tenant_registry (
  name      TEXT PRIMARY KEY,
  ags       TEXT NOT NULL UNIQUE,
  display   TEXT NOT NULL,
  area      TEXT NOT NULL,
  contact   TEXT NOT NULL,
  status    TEXT NOT NULL,
  template  TEXT NOT NULL,
  checklist TEXT NOT NULL,
  settings  TEXT NOT NULL,
  created   INTEGER NOT NULL,
  quota_rps REAL NOT NULL,
  quota_burst REAL NOT NULL,
  quota_entities INTEGER NOT NULL,
  quota_history INTEGER NOT NULL DEFAULT 0,
  quota_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS api_keys (
  id       TEXT PRIMARY KEY,
  hash     TEXT NOT NULL UNIQUE,
  tenant   TEXT NOT NULL,
  role     TEXT NOT NULL,
  name     TEXT NOT NULL,
  prefix   TEXT NOT NULL,
  created  INTEGER NOT NULL,
  expires  INTEGER NOT NULL,
  revoked  INTEGER NOT NULL
);
)sql";

constexpr std::string_view kTenantColumns =
    "name, ags, display, area, contact, status, template, checklist, settings, created, quota_rps, quota_burst, "
    "quota_entities, quota_history, quota_bytes";
constexpr std::string_view kKeyColumns = "id, hash, tenant, role, name, prefix, created, expires, revoked";

int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

TenantRecord tenantFromRow(const Statement& s) {
  TenantRecord t;
  t.name = s.text(0);
  t.ags = s.text(1);
  t.displayName = s.text(2);
  t.area = s.text(3);
  t.contact = s.text(4);
  t.status = s.text(5);
  t.templateName = s.text(6);
  t.checklist = s.text(7);
  t.settings = s.text(8);
  t.created = s.int64(9);
  t.quotas.requestsPerSecond = sqlite3_column_double(s.get(), 10);
  t.quotas.burst = sqlite3_column_double(s.get(), 11);
  t.quotas.entities = s.int64(12);
  t.quotas.historyInstances = s.int64(13);
  t.quotas.storageBytes = s.int64(14);
  return t;
}

void bindTenant(Statement& s, const TenantRecord& t) {
  s.bind(1, t.name);
  s.bind(2, t.ags);
  s.bind(3, t.displayName);
  s.bind(4, t.area);
  s.bind(5, t.contact);
  s.bind(6, t.status);
  s.bind(7, t.templateName);
  s.bind(8, t.checklist);
  s.bind(9, t.settings);
  s.bind(10, static_cast<int64_t>(t.created));
  s.bind(11, t.quotas.requestsPerSecond);
  s.bind(12, t.quotas.burst);
  s.bind(13, static_cast<int64_t>(t.quotas.entities));
  s.bind(14, static_cast<int64_t>(t.quotas.historyInstances));
  s.bind(15, static_cast<int64_t>(t.quotas.storageBytes));
}

ApiKeyRecord keyFromRow(const Statement& s) {
  ApiKeyRecord k;
  k.id = s.text(0);
  k.hash = s.text(1);
  k.tenant = s.text(2);
  k.role = s.text(3);
  k.name = s.text(4);
  k.entityPrefix = s.text(5);
  k.created = s.int64(6);
  k.expires = s.int64(7);
  k.revoked = s.int64(8) != 0;
  return k;
}

class SqliteTenantRegistry final : public TenantRegistry {
 public:
  explicit SqliteTenantRegistry(Connection conn) : conn_(std::move(conn)) {}

  Status load() {
    std::lock_guard<std::mutex> lock(dbMutex_);
    return reloadLocked();
  }

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
    std::lock_guard<std::mutex> lock(dbMutex_);
    auto st = Statement::prepare(conn_.get(), "INSERT INTO tenant_registry (" + std::string(kTenantColumns) +
                                                  ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)");
    if (!st) return st.status();
    bindTenant(*st, t);
    int rc = st->step();
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
      return alreadyExists("a tenant named '" + t.name + "' or with AGS " + t.ags + " exists already");
    }
    if (rc != SQLITE_DONE) return sqlite::sqliteError(conn_.get(), rc, "create tenant");
    return reloadLocked();
  }

  Status updateTenant(const TenantRecord& t) override {
    std::lock_guard<std::mutex> lock(dbMutex_);
    auto st = Statement::prepare(conn_.get(),
                                 "UPDATE tenant_registry SET ags=?2, display=?3, area=?4, contact=?5, status=?6, "
                                 "template=?7, checklist=?8, settings=?9, created=?10, quota_rps=?11, quota_burst=?12, "
                                 "quota_entities=?13, quota_history=?14, quota_bytes=?15 WHERE name=?1");
    if (!st) return st.status();
    bindTenant(*st, t);
    int rc = st->step();
    if (rc != SQLITE_DONE) return sqlite::sqliteError(conn_.get(), rc, "update tenant");
    if (sqlite3_changes(conn_.get()) == 0) return notFound("no tenant named '" + t.name + "'");
    return reloadLocked();
  }

  Status deleteTenant(const std::string& name) override {
    std::lock_guard<std::mutex> lock(dbMutex_);
    ALLMENDE_RETURN_IF_ERROR(conn_.exec("BEGIN IMMEDIATE"));
    int changed = 0;
    Status st = runDelete("DELETE FROM api_keys WHERE tenant=?1", name, nullptr);
    if (st.isOk()) st = runDelete("DELETE FROM tenant_registry WHERE name=?1", name, &changed);
    if (st.isOk() && changed == 0) st = notFound("no tenant named '" + name + "'");
    ALLMENDE_RETURN_IF_ERROR(conn_.exec(st.isOk() ? "COMMIT" : "ROLLBACK"));
    if (!st.isOk()) return st;
    return reloadLocked();
  }

  Status addKey(const ApiKeyRecord& k) override {
    std::lock_guard<std::mutex> lock(dbMutex_);
    auto st = Statement::prepare(
        conn_.get(), "INSERT INTO api_keys (" + std::string(kKeyColumns) + ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)");
    if (!st) return st.status();
    st->bind(1, k.id);
    st->bind(2, k.hash);
    st->bind(3, k.tenant);
    st->bind(4, k.role);
    st->bind(5, k.name);
    st->bind(6, k.entityPrefix);
    st->bind(7, static_cast<int64_t>(k.created));
    st->bind(8, static_cast<int64_t>(k.expires));
    st->bind(9, static_cast<int64_t>(k.revoked ? 1 : 0));
    int rc = st->step();
    if ((rc & 0xff) == SQLITE_CONSTRAINT) return alreadyExists("API key id " + k.id + " exists already");
    if (rc != SQLITE_DONE) return sqlite::sqliteError(conn_.get(), rc, "add API key");
    return reloadLocked();
  }

  uint64_t generation() override {
    refreshIfChanged();
    return generation_.load(std::memory_order_acquire);
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
      if (k.tenant != tenant) continue;
      out.push_back(k);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.created < b.created; });
    return out;
  }

  Status revokeKey(const std::string& tenant, const std::string& id) override {
    std::lock_guard<std::mutex> lock(dbMutex_);
    auto st = Statement::prepare(conn_.get(), "UPDATE api_keys SET revoked=1 WHERE id=?1 AND tenant=?2");
    if (!st) return st.status();
    st->bind(1, id);
    st->bind(2, tenant);
    int rc = st->step();
    if (rc != SQLITE_DONE) return sqlite::sqliteError(conn_.get(), rc, "revoke API key");
    if (sqlite3_changes(conn_.get()) == 0) return notFound("no API key '" + id + "' in this tenant");
    return reloadLocked();
  }

 private:
  Status runDelete(const std::string& sql, const std::string& name, int* changed) {
    auto st = Statement::prepare(conn_.get(), sql);
    if (!st) return st.status();
    st->bind(1, name);
    int rc = st->step();
    if (rc != SQLITE_DONE) return sqlite::sqliteError(conn_.get(), rc, "delete tenant");
    if (changed) *changed = sqlite3_changes(conn_.get());
    return Status::ok();
  }

  // Re-reads both tables into memory when another connection committed since the last look
  // (PRAGMA data_version), at most once per kRegistryRefreshMillis.
  void refreshIfChanged() {
    int64_t now = nowMillis();
    int64_t last = lastCheck_.load(std::memory_order_relaxed);
    if (now - last < kRegistryRefreshMillis) return;
    if (!lastCheck_.compare_exchange_strong(last, now)) return;  // another thread checks
    std::lock_guard<std::mutex> lock(dbMutex_);
    auto st = Statement::prepare(conn_.get(), "PRAGMA data_version");
    if (!st || st->step() != SQLITE_ROW) return;
    if (st->int64(0) != dataVersion_) reloadLocked();
  }

  Status reloadLocked() {  // REQUIRES(dbMutex_)
    std::map<std::string, TenantRecord> tenants;
    std::unordered_map<std::string, TenantState> states;
    std::unordered_map<std::string, ApiKeyRecord> keys;
    auto t = Statement::prepare(conn_.get(), "SELECT " + std::string(kTenantColumns) + " FROM tenant_registry");
    if (!t) return t.status();
    int rc;
    while ((rc = t->step()) == SQLITE_ROW) {
      TenantRecord r = tenantFromRow(*t);
      states.emplace(r.name, TenantState{r.status == "suspended", r.quotas});
      tenants.emplace(r.name, std::move(r));
    }
    if (rc != SQLITE_DONE) return sqlite::sqliteError(conn_.get(), rc, "load tenants");
    auto k = Statement::prepare(conn_.get(), "SELECT " + std::string(kKeyColumns) + " FROM api_keys");
    if (!k) return k.status();
    while ((rc = k->step()) == SQLITE_ROW) {
      ApiKeyRecord r = keyFromRow(*k);
      keys.emplace(r.hash, std::move(r));
    }
    if (rc != SQLITE_DONE) return sqlite::sqliteError(conn_.get(), rc, "load API keys");
    auto v = Statement::prepare(conn_.get(), "PRAGMA data_version");
    if (v && v->step() == SQLITE_ROW) dataVersion_ = v->int64(0);
    std::unique_lock<std::shared_mutex> lock(cacheMutex_);
    tenants_ = std::move(tenants);
    states_ = std::move(states);
    keysByHash_ = std::move(keys);
    generation_.fetch_add(1, std::memory_order_release);
    return Status::ok();
  }

  std::mutex dbMutex_;
  Connection conn_;          // GUARDED_BY(dbMutex_)
  int64_t dataVersion_ = 0;  // GUARDED_BY(dbMutex_)
  std::atomic<int64_t> lastCheck_{0};
  std::atomic<uint64_t> generation_{0};  // incremented by every reload
  std::shared_mutex cacheMutex_;
  std::map<std::string, TenantRecord> tenants_;               // GUARDED_BY(cacheMutex_)
  std::unordered_map<std::string, TenantState> states_;       // GUARDED_BY(cacheMutex_)
  std::unordered_map<std::string, ApiKeyRecord> keysByHash_;  // GUARDED_BY(cacheMutex_)
};

}  // namespace

Result<std::unique_ptr<TenantRegistry>> openSqliteTenantRegistry(const std::string& path) {
  auto conn = Connection::open(path, false);
  if (!conn) return conn.status();
  ALLMENDE_RETURN_IF_ERROR(conn->exec("PRAGMA journal_mode=WAL"));
  ALLMENDE_RETURN_IF_ERROR(conn->exec(kRegistrySchema));
  // Files from before the history and storage quotas: add their columns (0 = platform default).
  if (!Statement::prepare(conn->get(), "SELECT quota_history FROM tenant_registry LIMIT 0")) {
    ALLMENDE_RETURN_IF_ERROR(
        conn->exec("ALTER TABLE tenant_registry ADD COLUMN quota_history INTEGER NOT NULL DEFAULT 0; "
                   "ALTER TABLE tenant_registry ADD COLUMN quota_bytes INTEGER NOT NULL DEFAULT 0"));
  }
  auto registry = std::make_unique<SqliteTenantRegistry>(std::move(conn).value());
  ALLMENDE_RETURN_IF_ERROR(registry->load());
  return std::unique_ptr<TenantRegistry>(std::move(registry));
}

}  // namespace allmende::store
