// The configuration that lives next to the entities, on PostgreSQL: the device registry of IoT
// ingestion (store/device_registry.h, read from memory like the SQLite one, health counters
// flushed by the agent), open-data dataset definitions (store/dataset_store.h) and hosted
// @contexts (ld/context_store.h).
//
// Several servers share one database: devices and hosted @contexts are cached by each, and a
// trigger bumps their row of `config_version` with every change (pg_schema.cc). Each server
// looks at the row at most once per kConfigRefreshMillis and reloads its copy when it moved,
// so a change made through one server (or the `allmende device` CLI) is seen by the others
// within about a second.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>

#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_schema.h"
#include "store/postgres/pg_store.h"

namespace allmende::store {

namespace {

using postgres::Connection;
using postgres::ConnectionPool;
using postgres::Params;
using postgres::PgResult;

using Key = std::pair<std::string, std::string>;

constexpr int64_t kConfigRefreshMillis = 1000;

// The version of one cached table (a row of config_version) as last loaded, and the pacing of
// the checks: due() says yes to one caller at most once per kConfigRefreshMillis.
class ConfigVersion {
 public:
  explicit ConfigVersion(std::string name) : name_(std::move(name)) {}

  bool due() {
    const int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
    int64_t last = lastCheck_.load(std::memory_order_relaxed);
    if (now - last < kConfigRefreshMillis) return false;
    return lastCheck_.compare_exchange_strong(last, now);  // else another thread checks
  }
  // The version in the database now (read on `c`, e.g. in the snapshot of a reload).
  Result<int64_t> read(Connection& c) const {
    Params p;
    p.add(name_);
    auto r = c.run("SELECT v FROM config_version WHERE name = $1", p);
    if (!r) return r.status();
    return r->rows() == 1 ? r->int64(0, 0) : 0;
  }
  bool moved(int64_t current) const { return current != loaded_.load(); }
  void loaded(int64_t v) { loaded_ = v; }

 private:
  const std::string name_;
  std::atomic<int64_t> lastCheck_{0};
  std::atomic<int64_t> loaded_{-1};
};

class PgDeviceRegistry final : public DeviceRegistry {
 public:
  explicit PgDeviceRegistry(const postgres::PgTarget& t) : pool_(t.conninfo, t.schema, 2) {}

  Status load() {
    std::lock_guard lock(mutex_);
    return reload();
  }

  // Takes in the registrations changed by another server or the CLI; the health counters of a
  // kept device stay ours (they are newer than the flushed ones).
  Status refresh() override {
    auto v = currentVersion();
    if (!v) return v.status();
    if (!version_.moved(*v)) return Status::ok();
    std::lock_guard lock(mutex_);
    return reload();
  }
  Status createDevice(const DeviceRecord& d) override {
    (void)refresh();  // another server's registration decides AlreadyExists / NotFound
    std::lock_guard lock(mutex_);
    Key key{d.tenant, d.id};
    if (devices_.count(key)) return alreadyExists("device " + d.id + " is already registered");
    ALLMENDE_RETURN_IF_ERROR(writeRecord(d, true));
    devices_[key] = Device{d, {}};
    return Status::ok();
  }

  Status updateDevice(const DeviceRecord& d) override {
    (void)refresh();  // another server's registration decides AlreadyExists / NotFound
    std::lock_guard lock(mutex_);
    auto it = devices_.find({d.tenant, d.id});
    if (it == devices_.end()) return notFound("no device " + d.id);
    ALLMENDE_RETURN_IF_ERROR(writeRecord(d, false));
    DeviceRecord r = d;
    r.created = it->second.record.created;
    it->second.record = std::move(r);
    return Status::ok();
  }

  Status deleteDevice(const std::string& tenant, const std::string& id) override {
    (void)refresh();  // another server's registration decides AlreadyExists / NotFound
    std::lock_guard lock(mutex_);
    auto it = devices_.find({tenant, id});
    if (it == devices_.end()) return notFound("no device " + id);
    Params p;
    p.add(tenant);
    p.add(id);
    ALLMENDE_RETURN_IF_ERROR(run("DELETE FROM ingest_devices WHERE tenant = $1 AND id = $2", p));
    devices_.erase(it);
    dirty_.erase({tenant, id});
    return Status::ok();
  }

  std::optional<Device> findDevice(const std::string& tenant, const std::string& id) override {
    refreshIfDue();
    std::lock_guard lock(mutex_);
    auto it = devices_.find({tenant, id});
    if (it == devices_.end()) return std::nullopt;
    return it->second;
  }

  std::vector<Device> listDevices(const std::string& tenant) override {
    refreshIfDue();
    std::lock_guard lock(mutex_);
    std::vector<Device> out;
    for (auto it = devices_.lower_bound({tenant, ""}); it != devices_.end() && it->first.first == tenant; ++it) {
      out.push_back(it->second);
    }
    return out;
  }

  std::vector<Device> allDevices() override {
    refreshIfDue();
    std::lock_guard lock(mutex_);
    std::vector<Device> out;
    for (const auto& [k, d] : devices_) out.push_back(d);
    return out;
  }

  void recordOutcome(const std::string& tenant, const std::string& id, Micros at, const Status& outcome) override {
    std::lock_guard lock(mutex_);
    auto it = devices_.find({tenant, id});
    if (it == devices_.end()) return;
    DeviceHealth& h = it->second.health;
    if (outcome.isOk()) {
      h.lastSeen = std::max(h.lastSeen, at);
      ++h.accepted;
    } else {
      h.lastErrorAt = at;
      h.lastError = outcome.detail().substr(0, 500);
      ++h.rejected;
    }
    dirty_.insert(it->first);
  }

  Status flushHealth() override {
    std::vector<std::string> tenants, ids, errors;
    std::vector<int64_t> seen, errorAt, accepted, rejected;
    {
      std::lock_guard lock(mutex_);
      if (dirty_.empty()) return Status::ok();
      for (const auto& key : dirty_) {
        auto it = devices_.find(key);
        if (it == devices_.end()) continue;
        const DeviceHealth& h = it->second.health;
        tenants.push_back(key.first);
        ids.push_back(key.second);
        seen.push_back(h.lastSeen);
        errorAt.push_back(h.lastErrorAt);
        errors.push_back(h.lastError);
        accepted.push_back(h.accepted);
        rejected.push_back(h.rejected);
      }
      dirty_.clear();
    }
    Params p;
    p.addArray(tenants);
    p.addArray(ids);
    p.addArray(seen);
    p.addArray(errorAt);
    p.addArray(errors);
    p.addArray(accepted);
    p.addArray(rejected);
    return run(
        "UPDATE ingest_devices d SET last_seen = x.s, last_error_at = x.ea, last_error = x.e, accepted = x.a, "
        "rejected = x.r FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[], "
        "$7::bigint[]) AS x(t, i, s, ea, e, a, r) WHERE d.tenant = x.t AND d.id = x.i",
        p);
  }

 private:
  Status run(const std::string& sql, const Params& p) {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    auto r = (*lease)->run(sql, p);
    return r ? Status::ok() : r.status();
  }

  Result<int64_t> currentVersion() {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    return version_.read(**lease);
  }

  void refreshIfDue() {
    if (!version_.due()) return;
    Status st = refresh();
    (void)st;  // the database is away: keep answering from memory, try again in a second
  }

  // Re-reads the registrations (with the version, one snapshot). REQUIRES(mutex_)
  Status reload() {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    Connection& c = **lease;
    ALLMENDE_RETURN_IF_ERROR(c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    auto v = version_.read(c);
    auto r = c.run(
        "SELECT tenant, id, entity_id, entity_type, mapping, mqtt_user, password_hash, interval_s, created, "
        "last_seen, last_error_at, last_error, accepted, rejected FROM ingest_devices");
    c.exec("COMMIT");
    if (!v) return v.status();
    if (!r) return r.status();
    std::map<Key, Device> loaded;
    for (int i = 0; i < r->rows(); ++i) {
      Device d;
      d.record.tenant = r->text(i, 0);
      d.record.id = r->text(i, 1);
      d.record.entityId = r->text(i, 2);
      d.record.entityType = r->text(i, 3);
      d.record.mapping = r->text(i, 4);
      d.record.mqttUsername = r->text(i, 5);
      d.record.passwordHash = r->text(i, 6);
      d.record.expectedIntervalSeconds = r->int64(i, 7);
      d.record.created = r->int64(i, 8);
      d.health.lastSeen = r->int64(i, 9);
      d.health.lastErrorAt = r->int64(i, 10);
      d.health.lastError = r->text(i, 11);
      d.health.accepted = r->int64(i, 12);
      d.health.rejected = r->int64(i, 13);
      Key key{d.record.tenant, d.record.id};
      auto kept = devices_.find(key);
      if (kept != devices_.end()) d.health = kept->second.health;
      loaded[key] = std::move(d);
    }
    for (auto it = dirty_.begin(); it != dirty_.end();) it = loaded.count(*it) ? std::next(it) : dirty_.erase(it);
    devices_ = std::move(loaded);
    version_.loaded(*v);
    return Status::ok();
  }

  // REQUIRES(mutex_)
  Status writeRecord(const DeviceRecord& d, bool insert) {
    Params p;
    p.add(d.tenant);
    p.add(d.id);
    p.add(d.entityId);
    p.add(d.entityType);
    p.add(d.mapping);
    p.add(d.mqttUsername);
    p.add(d.passwordHash);
    p.add(d.expectedIntervalSeconds);
    if (insert) p.add(static_cast<int64_t>(d.created));
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    auto r = (*lease)->run(
        insert ? "INSERT INTO ingest_devices (tenant, id, entity_id, entity_type, mapping, mqtt_user, "
                 "password_hash, interval_s, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
               : "UPDATE ingest_devices SET entity_id = $3, entity_type = $4, mapping = $5, mqtt_user = $6, "
                 "password_hash = $7, interval_s = $8 WHERE tenant = $1 AND id = $2",
        p);
    if (r) return Status::ok();
    // Registered meanwhile through another server.
    if ((*lease)->lastState() == "23505") return alreadyExists("device " + d.id + " is already registered");
    return r.status();
  }

  ConnectionPool pool_;
  ConfigVersion version_{"devices"};  // of the registrations in devices_
  std::mutex mutex_;
  std::map<Key, Device> devices_;  // GUARDED_BY(mutex_)
  std::set<Key> dirty_;            // GUARDED_BY(mutex_): health changed since the last flush
};

class PgDatasetStore final : public DatasetStore {
 public:
  explicit PgDatasetStore(const postgres::PgTarget& t) : pool_(t.conninfo, t.schema, 2) {}

  Status put(const DatasetRecord& r) override {
    Params p;
    p.add(r.tenant);
    p.add(r.id);
    p.add(r.definition);
    p.add(static_cast<int64_t>(r.created));
    p.add(static_cast<int64_t>(r.modified));
    auto res =
        run("INSERT INTO open_datasets (tenant, id, definition, created, modified) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (tenant, id) DO UPDATE SET definition = excluded.definition, modified = excluded.modified",
            p);
    return res ? Status::ok() : res.status();
  }

  Result<std::optional<DatasetRecord>> get(const std::string& tenant, const std::string& id) override {
    Params p;
    p.add(tenant);
    p.add(id);
    auto r = run(std::string(kSelect) + " WHERE tenant = $1 AND id = $2", p);
    if (!r) return r.status();
    if (r->rows() == 0) return std::optional<DatasetRecord>();
    return std::optional<DatasetRecord>(row(*r, 0));
  }

  Result<std::vector<DatasetRecord>> list(const std::optional<std::string>& tenant) override {
    Params p;
    if (tenant) p.add(*tenant);
    auto r = run(std::string(kSelect) + (tenant ? " WHERE tenant = $1" : "") + " ORDER BY tenant, id", p);
    if (!r) return r.status();
    std::vector<DatasetRecord> out;
    for (int i = 0; i < r->rows(); ++i) out.push_back(row(*r, i));
    return out;
  }

  Status remove(const std::string& tenant, const std::string& id) override {
    Params p;
    p.add(tenant);
    p.add(id);
    auto r = run("DELETE FROM open_datasets WHERE tenant = $1 AND id = $2", p);
    if (!r) return r.status();
    if (r->affected() == 0) return notFound("no dataset '" + id.substr(0, 80) + "'");
    return Status::ok();
  }

  Status removeTenant(const std::string& tenant) override {
    Params p;
    p.add(tenant);
    auto r = run("DELETE FROM open_datasets WHERE tenant = $1", p);
    return r ? Status::ok() : r.status();
  }

 private:
  static constexpr const char* kSelect = "SELECT tenant, id, definition, created, modified FROM open_datasets";

  static DatasetRecord row(const PgResult& r, int i) {
    DatasetRecord d;
    d.tenant = r.text(i, 0);
    d.id = r.text(i, 1);
    d.definition = r.text(i, 2);
    d.created = r.int64(i, 3);
    d.modified = r.int64(i, 4);
    return d;
  }

  Result<PgResult> run(const std::string& sql, const Params& p) {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    return (*lease)->run(sql, p);
  }

  ConnectionPool pool_;
};

class PgContextRepository final : public ld::HostedContextRepository {
 public:
  explicit PgContextRepository(const postgres::PgTarget& t) : pool_(t.conninfo, t.schema, 2) {}

  Result<std::vector<ld::ContextInfo>> load() override {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    Connection& c = **lease;
    ALLMENDE_RETURN_IF_ERROR(c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    auto v = version_.read(c);
    auto r = c.run("SELECT local_id, kind, created, body, owner FROM hosted_contexts");
    c.exec("COMMIT");
    if (!v) return v.status();
    if (!r) return r.status();
    std::vector<ld::ContextInfo> out;
    for (int i = 0; i < r->rows(); ++i) {
      ld::ContextInfo info;
      info.localId = r->text(i, 0);
      info.kind = r->text(i, 1) == "ImplicitlyCreated" ? ld::ContextKind::kImplicitlyCreated : ld::ContextKind::kHosted;
      info.createdAt = r->int64(i, 2);
      info.body = r->text(i, 3);
      info.owner = r->text(i, 4);
      out.push_back(std::move(info));
    }
    version_.loaded(*v);
    return out;
  }

  bool changed() override {
    if (!version_.due()) return false;
    auto lease = pool_.lease();
    if (!lease) return false;  // the database is away: keep what we have, try again later
    auto v = version_.read(**lease);
    return v && version_.moved(*v);
  }

  Status save(const ld::ContextInfo& info) override {
    Params p;
    p.add(info.localId);
    p.add(ld::contextKindName(info.kind));
    p.add(static_cast<int64_t>(info.createdAt));
    p.add(info.body);
    p.add(info.owner);
    return run(
        "INSERT INTO hosted_contexts (local_id, kind, created, body, owner) VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (local_id) DO UPDATE SET kind = excluded.kind, created = excluded.created, body = excluded.body, "
        "owner = excluded.owner",
        p);
  }

  Status remove(std::string_view localId) override {
    Params p;
    p.add(localId);
    return run("DELETE FROM hosted_contexts WHERE local_id = $1", p);
  }

 private:
  Status run(const std::string& sql, const Params& p) {
    auto lease = pool_.lease();
    if (!lease) return lease.status();
    auto r = (*lease)->run(sql, p);
    return r ? Status::ok() : r.status();
  }

  ConnectionPool pool_;
  ConfigVersion version_{"contexts"};  // of the contexts the last load() returned
};

}  // namespace

Result<std::unique_ptr<DeviceRegistry>> openPostgresDeviceRegistry(const std::string& url) {
  auto target = postgres::prepareDatabase(url);
  if (!target) return target.status();
  auto r = std::make_unique<PgDeviceRegistry>(*target);
  ALLMENDE_RETURN_IF_ERROR(r->load());
  return std::unique_ptr<DeviceRegistry>(std::move(r));
}

Result<std::unique_ptr<DatasetStore>> openPostgresDatasetStore(const std::string& url) {
  auto target = postgres::prepareDatabase(url);
  if (!target) return target.status();
  return std::unique_ptr<DatasetStore>(std::make_unique<PgDatasetStore>(*target));
}

Result<std::unique_ptr<ld::HostedContextRepository>> openPostgresContextRepository(const std::string& url) {
  auto target = postgres::prepareDatabase(url);
  if (!target) return target.status();
  return std::unique_ptr<ld::HostedContextRepository>(std::make_unique<PgContextRepository>(*target));
}

}  // namespace allmende::store
