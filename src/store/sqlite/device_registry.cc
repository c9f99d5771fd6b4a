#include "store/sqlite/device_registry.h"

#include <map>
#include <mutex>
#include <set>

#include "store/sqlite/sqlite_handles.h"

namespace allmende::store {

namespace {

using sqlite::Connection;
using sqlite::Statement;

constexpr std::string_view kDeviceSchema = R"sql(
CREATE TABLE IF NOT EXISTS ingest_devices (
  tenant        TEXT NOT NULL,
  id            TEXT NOT NULL,
  entity_id     TEXT NOT NULL,
  entity_type   TEXT NOT NULL,
  mapping       TEXT NOT NULL,
  mqtt_user     TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  interval_s    INTEGER NOT NULL,
  created       INTEGER NOT NULL,
  last_seen     INTEGER NOT NULL DEFAULT 0,
  last_error_at INTEGER NOT NULL DEFAULT 0,
  last_error    TEXT NOT NULL DEFAULT '',
  accepted      INTEGER NOT NULL DEFAULT 0,
  rejected      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant, id)
);
CREATE TABLE IF NOT EXISTS ingest_devices_version (v INTEGER NOT NULL);
INSERT INTO ingest_devices_version SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM ingest_devices_version);
CREATE TRIGGER IF NOT EXISTS ingest_devices_ins AFTER INSERT ON ingest_devices
  BEGIN UPDATE ingest_devices_version SET v = v + 1; END;
CREATE TRIGGER IF NOT EXISTS ingest_devices_del AFTER DELETE ON ingest_devices
  BEGIN UPDATE ingest_devices_version SET v = v + 1; END;
CREATE TRIGGER IF NOT EXISTS ingest_devices_upd
  AFTER UPDATE OF entity_id, entity_type, mapping, mqtt_user, password_hash, interval_s ON ingest_devices
  BEGIN UPDATE ingest_devices_version SET v = v + 1; END;
)sql";

constexpr std::string_view kColumns =
    "tenant, id, entity_id, entity_type, mapping, mqtt_user, password_hash, interval_s, created, last_seen, "
    "last_error_at, last_error, accepted, rejected";

using Key = std::pair<std::string, std::string>;

class SqliteDeviceRegistry final : public DeviceRegistry {
 public:
  explicit SqliteDeviceRegistry(Connection db) : db_(std::move(db)) {}

  Status load() {
    std::lock_guard lock(mutex_);
    auto v = version();
    if (!v) return v.status();
    version_ = *v;
    std::map<Key, Device> loaded;
    ALLMENDE_RETURN_IF_ERROR(readAll(loaded));
    devices_ = std::move(loaded);
    return Status::ok();
  }

  Status refresh() override {
    std::lock_guard lock(mutex_);
    auto v = version();
    if (!v) return v.status();
    if (*v == version_) return Status::ok();
    std::map<Key, Device> loaded;
    ALLMENDE_RETURN_IF_ERROR(readAll(loaded));
    for (auto& [key, d] : loaded) {
      auto it = devices_.find(key);
      if (it != devices_.end()) d.health = it->second.health;  // ours is newer than the flushed one
    }
    for (auto it = dirty_.begin(); it != dirty_.end();) it = loaded.count(*it) ? std::next(it) : dirty_.erase(it);
    devices_ = std::move(loaded);
    version_ = *v;
    return Status::ok();
  }

  // REQUIRES(mutex_)
  Result<int64_t> version() {
    auto s = Statement::prepare(db_.get(), "SELECT v FROM ingest_devices_version");
    if (!s) return s.status();
    int rc = s->step();
    if (rc != SQLITE_ROW) return sqlite::sqliteError(db_.get(), rc, "read the device registry's version");
    return s->int64(0);
  }

  // REQUIRES(mutex_)
  Status readAll(std::map<Key, Device>& out) {
    auto s = Statement::prepare(db_.get(), "SELECT " + std::string(kColumns) + " FROM ingest_devices");
    if (!s) return s.status();
    int rc;
    while ((rc = s->step()) == SQLITE_ROW) {
      Device d;
      d.record.tenant = s->text(0);
      d.record.id = s->text(1);
      d.record.entityId = s->text(2);
      d.record.entityType = s->text(3);
      d.record.mapping = s->text(4);
      d.record.mqttUsername = s->text(5);
      d.record.passwordHash = s->text(6);
      d.record.expectedIntervalSeconds = s->int64(7);
      d.record.created = s->int64(8);
      d.health.lastSeen = s->int64(9);
      d.health.lastErrorAt = s->int64(10);
      d.health.lastError = s->text(11);
      d.health.accepted = s->int64(12);
      d.health.rejected = s->int64(13);
      out[{d.record.tenant, d.record.id}] = std::move(d);
    }
    return rc == SQLITE_DONE ? Status::ok() : sqlite::sqliteError(db_.get(), rc, "load devices");
  }

  Status createDevice(const DeviceRecord& d) override {
    std::lock_guard lock(mutex_);
    Key key{d.tenant, d.id};
    if (devices_.count(key)) return alreadyExists("device " + d.id + " is already registered");
    ALLMENDE_RETURN_IF_ERROR(writeRecord(d, true));
    devices_[key] = Device{d, {}};
    return Status::ok();
  }

  Status updateDevice(const DeviceRecord& d) override {
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
    std::lock_guard lock(mutex_);
    auto it = devices_.find({tenant, id});
    if (it == devices_.end()) return notFound("no device " + id);
    auto s = Statement::prepare(db_.get(), "DELETE FROM ingest_devices WHERE tenant = ?1 AND id = ?2");
    if (!s) return s.status();
    s->bind(1, tenant);
    s->bind(2, id);
    int rc = s->step();
    if (rc != SQLITE_DONE) return sqlite::sqliteError(db_.get(), rc, "delete device");
    devices_.erase(it);
    dirty_.erase({tenant, id});
    return Status::ok();
  }

  std::optional<Device> findDevice(const std::string& tenant, const std::string& id) override {
    std::lock_guard lock(mutex_);
    auto it = devices_.find({tenant, id});
    if (it == devices_.end()) return std::nullopt;
    return it->second;
  }

  std::vector<Device> listDevices(const std::string& tenant) override {
    std::lock_guard lock(mutex_);
    std::vector<Device> out;
    for (auto it = devices_.lower_bound({tenant, ""}); it != devices_.end() && it->first.first == tenant; ++it) {
      out.push_back(it->second);
    }
    return out;
  }

  std::vector<Device> allDevices() override {
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
    std::lock_guard lock(mutex_);
    if (dirty_.empty()) return Status::ok();
    auto s = Statement::prepare(db_.get(),
                                "UPDATE ingest_devices SET last_seen = ?3, last_error_at = ?4, last_error = ?5, "
                                "accepted = ?6, rejected = ?7 WHERE tenant = ?1 AND id = ?2");
    if (!s) return s.status();
    ALLMENDE_RETURN_IF_ERROR(db_.exec("BEGIN IMMEDIATE"));
    for (const auto& key : dirty_) {
      auto it = devices_.find(key);
      if (it == devices_.end()) continue;
      const DeviceHealth& h = it->second.health;
      s->reset();
      s->bind(1, key.first);
      s->bind(2, key.second);
      s->bind(3, static_cast<int64_t>(h.lastSeen));
      s->bind(4, static_cast<int64_t>(h.lastErrorAt));
      s->bind(5, h.lastError);
      s->bind(6, h.accepted);
      s->bind(7, h.rejected);
      int rc = s->step();
      if (rc != SQLITE_DONE) {
        Status st = sqlite::sqliteError(db_.get(), rc, "flush device health");
        (void)db_.exec("ROLLBACK");
        return st;
      }
    }
    ALLMENDE_RETURN_IF_ERROR(db_.exec("COMMIT"));
    dirty_.clear();
    return Status::ok();
  }

 private:
  // REQUIRES(mutex_)
  Status writeRecord(const DeviceRecord& d, bool insert) {
    std::string sql = insert ? "INSERT INTO ingest_devices (tenant, id, entity_id, entity_type, mapping, mqtt_user, "
                               "password_hash, interval_s, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                             : "UPDATE ingest_devices SET entity_id = ?3, entity_type = ?4, mapping = ?5, "
                               "mqtt_user = ?6, password_hash = ?7, interval_s = ?8 WHERE tenant = ?1 AND id = ?2";
    auto s = Statement::prepare(db_.get(), sql);
    if (!s) return s.status();
    s->bind(1, d.tenant);
    s->bind(2, d.id);
    s->bind(3, d.entityId);
    s->bind(4, d.entityType);
    s->bind(5, d.mapping);
    s->bind(6, d.mqttUsername);
    s->bind(7, d.passwordHash);
    s->bind(8, d.expectedIntervalSeconds);
    if (insert) s->bind(9, static_cast<int64_t>(d.created));
    int rc = s->step();
    return rc == SQLITE_DONE ? Status::ok() : sqlite::sqliteError(db_.get(), rc, "write device");
  }

  std::mutex mutex_;
  Connection db_;                  // GUARDED_BY(mutex_)
  std::map<Key, Device> devices_;  // GUARDED_BY(mutex_)
  std::set<Key> dirty_;            // GUARDED_BY(mutex_): health changed since the last flush
  int64_t version_ = 0;            // GUARDED_BY(mutex_): of the registrations in devices_
};

}  // namespace

Result<std::unique_ptr<DeviceRegistry>> openSqliteDeviceRegistry(const std::string& path) {
  auto db = Connection::open(path, false);
  if (!db) return db.status();
  ALLMENDE_RETURN_IF_ERROR(db->exec(kDeviceSchema));
  auto r = std::make_unique<SqliteDeviceRegistry>(std::move(db).value());
  ALLMENDE_RETURN_IF_ERROR(r->load());
  return std::unique_ptr<DeviceRegistry>(std::move(r));
}

}  // namespace allmende::store
